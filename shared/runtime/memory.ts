import { ProfileErasedError } from './erased.js';
import { claimable, claimedRecord, type MessageRecord } from './message-store.js';
import { statAttribute } from './stats-store.js';
import { type RuntimeStore, writeStepSeparately } from './store.js';
import type { TimelineEntry } from './timeline-store.js';
import type { EntryRecord, ExecutionService, PresenceRecord } from './types.js';

/**
 * In-memory fakes of the runtime's ports, for unit tests (of the runtime and of code that uses it).
 * `calls` counts requests per method the way the DynamoDB / Step Functions adapters would make them.
 */

export interface MemoryRuntimeStore extends RuntimeStore {
  presence: Map<string, PresenceRecord>;
  entries: Map<string, EntryRecord>;
  stats: Map<string, Record<string, number>>;
  messages: Map<string, MessageRecord>;
  /** The entries' properties by execution name (entry-data.ts). */
  entryData: Map<string, Record<string, unknown>>;
  timeline: TimelineEntry[];
  /** Profile ids with an erasure tombstone: writes under them are refused, as in DynamoDB. */
  erased: Set<string>;
  calls: Record<string, number>;
}

const clone = <T>(value: T): T => structuredClone(value);

export function memoryRuntimeStore(): MemoryRuntimeStore {
  const presence = new Map<string, PresenceRecord>();
  const entries = new Map<string, EntryRecord>();
  const stats = new Map<string, Record<string, number>>();
  const messages = new Map<string, MessageRecord>();
  const entryData = new Map<string, Record<string, unknown>>();
  const timeline: TimelineEntry[] = [];
  const erased = new Set<string>();
  /** Refused executions recorded once (`recordRefusal`'s `oncePerExecution` marker). */
  const refusedExecutions = new Set<string>();
  const calls: Record<string, number> = {};
  let quiet = false;
  const count = (name: string) => {
    if (!quiet) calls[name] = (calls[name] ?? 0) + 1;
  };
  const pkey = (profileId: string, executionName: string) => `${profileId}/${executionName}`;
  const mkey = (executionName: string, nodeId: string) => `${executionName}/${nodeId}`;

  const store: MemoryRuntimeStore = {
    presence,
    entries,
    stats,
    messages,
    entryData,
    timeline,
    erased,
    calls,
    async readJourneyState(profileId) {
      count('readJourneyState');
      return {
        presence: [...presence.values()].filter((p) => p.profileId === profileId).map(clone),
        entries: [...entries.values()].filter((e) => e.profileId === profileId).map(clone),
      };
    },
    async recordEntry({ presence: record, notEnteredSince, run, properties }) {
      count('recordEntry');
      if (erased.has(record.profileId)) return false;
      const key = `${record.profileId}/${record.journeyId}`;
      const previous = entries.get(key);
      // As the DynamoDB store: a redelivered trigger (this execution is the last entry) writes nothing.
      if (previous?.lastExecution === record.executionName) return true;
      if (previous) {
        if (notEnteredSince === null) return false;
        if (notEnteredSince !== undefined && previous.lastEnteredAt > notEnteredSince) return false;
        const mark = run && previous.runs?.[run.scope];
        if (run && mark !== undefined && mark >= run.key) return false;
      }
      const runs = { ...previous?.runs, ...(run && { [run.scope]: run.mark }) };
      entries.set(key, {
        profileId: record.profileId,
        journeyId: record.journeyId,
        lastEnteredAt: record.enteredAt,
        lastExecution: record.executionName,
        entries: (previous?.entries ?? 0) + 1,
        ...(Object.keys(runs).length > 0 && { runs }),
      });
      const key2 = pkey(record.profileId, record.executionName);
      presence.set(key2, { ...clone(record), ...presence.get(key2) });
      if (properties) entryData.set(record.executionName, clone(properties));
      return true;
    },
    async readEntryProperties(executionName) {
      count('readEntryProperties');
      const properties = entryData.get(executionName);
      return properties && clone(properties);
    },
    async deleteEntryData(executionName) {
      count('deleteEntryData');
      entryData.delete(executionName);
    },
    async setWaiting(record, waiting) {
      count('setWaiting');
      const key = pkey(record.profileId, record.executionName);
      presence.set(key, { ...clone(record), ...presence.get(key), waiting: clone(waiting) });
    },
    async clearWaiting(profileId, executionName, token) {
      count('clearWaiting');
      const record = presence.get(pkey(profileId, executionName));
      if (!record || record.waiting?.token !== token) return false;
      delete record.waiting;
      return true;
    },
    async removePresence(profileId, executionName) {
      count('removePresence');
      presence.delete(pkey(profileId, executionName));
    },
    async addStats(journeyId, deltas) {
      count('addStats');
      const totals = stats.get(journeyId) ?? {};
      for (const delta of deltas) {
        const attribute = statAttribute(delta);
        totals[attribute] = (totals[attribute] ?? 0) + (delta.by ?? 1);
      }
      stats.set(journeyId, totals);
    },
    async readStats(journeyId) {
      count('readStats');
      return { ...stats.get(journeyId) };
    },
    async claimMessage(record) {
      count('claimMessage');
      if (erased.has(record.profileId)) throw new ProfileErasedError(record.profileId);
      const key = mkey(record.executionName, record.nodeId);
      const existing = messages.get(key);
      if (!claimable(existing)) return false;
      messages.set(key, claimedRecord(existing, record));
      return true;
    },
    async getMessage(executionName, nodeId) {
      count('getMessage');
      const record = messages.get(mkey(executionName, nodeId));
      return record && clone(record);
    },
    async getMessages(keys) {
      count('getMessages');
      return keys.flatMap((k) => {
        const record = messages.get(mkey(k.executionName, k.nodeId));
        return record ? [clone(record)] : [];
      });
    },
    async updateMessage(key, change) {
      count('updateMessage');
      let record = messages.get(mkey(key.executionName, key.nodeId)) as
        | (MessageRecord & { seen?: string[] })
        | undefined;
      if (change.create) {
        if (record && !change.ifStatusIn?.includes(record.status)) return undefined;
        record ??= { ...clone(change.create), status: change.status, history: [] };
        messages.set(mkey(key.executionName, key.nodeId), record);
      }
      if (!record) return undefined;
      if (change.once && record.seen?.includes(change.status)) return undefined;
      if (!change.ifStatusIn || change.ifStatusIn.includes(record.status)) record.status = change.status;
      record.seen = [...(record.seen ?? []), change.status];
      record.history.push({
        status: change.status,
        at: change.at,
        ...(change.detail && { detail: change.detail }),
      });
      if (change.providerMessageId) record.providerMessageId = change.providerMessageId;
      if (change.reason) record.reason = change.reason;
      const { seen: _seen, ...copy } = clone(record);
      return copy;
    },
    async addTimeline(entry) {
      count('addTimeline');
      if (erased.has(entry.profileId)) throw new ProfileErasedError(entry.profileId);
      timeline.push(clone(entry));
    },
    async recordRefusal(entry, options = {}) {
      count('recordRefusal');
      if (erased.has(entry.profileId)) return false;
      if (options.oncePerExecution && refusedExecutions.has(entry.executionName)) return false;
      if (options.oncePerExecution) refusedExecutions.add(entry.executionName);
      const same = (t: TimelineEntry) =>
        t.profileId === entry.profileId &&
        t.at === entry.at &&
        t.executionName === entry.executionName &&
        t.nodeId === entry.nodeId &&
        t.outcome === entry.outcome;
      if (timeline.some(same)) return false;
      timeline.push(clone(entry));
      quiet = true;
      await store.addStats(entry.journeyId, [{ counter: 'refused' }]);
      quiet = false;
      return true;
    },
    async listJourneyMessages(journeyId, page) {
      count('listJourneyMessages');
      const all = [...messages.values()]
        .filter((m) => m.journeyId === journeyId)
        .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
      const start = page.cursor ? Number(page.cursor) : 0;
      const slice = all.slice(start, start + page.limit).map(clone);
      return {
        messages: slice,
        ...(start + page.limit < all.length && { nextCursor: String(start + page.limit) }),
      };
    },
    async listTimeline(profileId) {
      count('listTimeline');
      return timeline.filter((t) => t.profileId === profileId).map(clone);
    },
    async writeStep(write) {
      // One request (the DynamoDB store's transaction): the parts' own methods run uncounted. Their
      // bodies never await, so they all run before writeStepSeparately's first await.
      count('writeStep');
      for (const id of [write.timeline?.profileId])
        if (id && erased.has(id)) throw new ProfileErasedError(id);
      quiet = true;
      let written: Promise<void>;
      try {
        written = writeStepSeparately(store, write);
      } finally {
        quiet = false;
      }
      await written;
    },
  };
  return store;
}

export interface FakeExecutions extends ExecutionService {
  started: { stateMachineArn: string; name: string; input: unknown }[];
  /** Names of started executions that have ended (isRunning answers false). */
  ended: Set<string>;
  resumed: { token: string; output: unknown }[];
  stoppedArns: string[];
  /** Tokens that are no longer valid (sendTaskSuccess answers false). */
  deadTokens: Set<string>;
  calls: Record<string, number>;
}

export function fakeExecutions(): FakeExecutions {
  const names = new Set<string>();
  const calls: Record<string, number> = {};
  const count = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
  };
  const fake: FakeExecutions = {
    started: [],
    resumed: [],
    stoppedArns: [],
    ended: new Set(),
    deadTokens: new Set(),
    calls,
    executionArn: (sm, name) =>
      `${sm.replace(':stateMachine:', ':execution:').split(':').slice(0, 7).join(':')}:${name}`,
    async start(input) {
      count('StartExecution');
      const executionArn = fake.executionArn(input.stateMachineArn, input.name);
      if (names.has(input.name)) return { executionArn, started: false };
      names.add(input.name);
      fake.started.push(structuredClone(input));
      return { executionArn, started: true };
    },
    async sendTaskSuccess(token, output) {
      count('SendTaskSuccess');
      if (fake.deadTokens.has(token)) return false;
      fake.deadTokens.add(token);
      fake.resumed.push({ token, output });
      return true;
    },
    async isRunning(arn) {
      count('DescribeExecution');
      const name = arn.split(':').at(-1) ?? '';
      return names.has(name) && !fake.ended.has(name) && !fake.stoppedArns.includes(arn);
    },
    async stop(arn) {
      count('StopExecution');
      if (fake.stoppedArns.includes(arn)) return false;
      fake.stoppedArns.push(arn);
      return true;
    },
  };
  return fake;
}
