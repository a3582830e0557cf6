import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type AnalyticsWrite, analyticsItems } from '../analytics/store.js';
import { sleep } from '../retry.js';
import {
  cancellationReasons,
  conflictBackoff,
  createOnly,
  sendItemRetryingConflicts,
  writeIfCondition,
} from '../store/dynamodb.js';
import { executionPk } from '../store/keys.js';
import { journeysTable, profilesTable } from '../store/tables.js';
import { dynamoEntryDataStore, type EntryDataStore, entryDataDelete } from './entry-data.js';
import { notErased, ProfileErasedError } from './erased.js';
import { dynamoMessageStore, type MessageChange, type MessageStore, messageWrite } from './message-store.js';
import { dynamoPresenceStore, type PresenceStore, presenceWrites } from './presence-store.js';
import {
  deltaCounters,
  dynamoStatsStore,
  type StatsStore,
  statShards,
  statsWrite,
  transactRetryingConflicts,
} from './stats-store.js';
import {
  dynamoTimelineStore,
  type TimelineEntry,
  type TimelineStore,
  timelineWrite,
} from './timeline-store.js';
import type { PresenceRecord, StatDelta, WaitingFor } from './types.js';

export type { TimelineEntry };

/**
 * DynamoDB persistence of the runtime, by concern: presence (presence-store.ts), counters
 * (stats-store.ts), message records (message-store.ts), timeline entries (timeline-store.ts). Code
 * that needs one concern takes its port; the runtime takes them all plus `writeStep`, which writes
 * what ends a step across them in one request. Item layouts are in shared/runtime/README.md. Every
 * method is one request (a transaction counts as one), so callers can count what an event or a step
 * costs.
 */

/** The writes that end a step (or a resume, a stop): see `RuntimeStore.writeStep`. */
export interface StepWrite {
  journeyId: string;
  deltas: StatDelta[];
  timeline?: TimelineEntry;
  presence?: /** The execution ended; `entryData`: its entry's properties are deleted in the same request. */
    | { remove: { profileId: string; executionName: string; entryData?: boolean } }
    | { clearWaiting: { profileId: string; executionName: string; token: string } }
    | { setWaiting: { presence: Omit<PresenceRecord, 'waiting'>; waiting: WaitingFor } };
  message?: { key: { executionName: string; nodeId: string }; change: MessageChange };
  /** Transition record and end-of-execution counters (shared/analytics); day counters come from `deltas`. */
  analytics?: AnalyticsWrite;
}

export interface RuntimeStore extends PresenceStore, StatsStore, MessageStore, TimelineStore, EntryDataStore {
  /**
   * What a step, a resume or a stop records, in ONE request (a TransactWriteItems across both tables
   * when it is more than one item): counters, timeline entry, presence change, message status. Each
   * part behaves as its own method would (`addStats`, `addTimeline`, `removePresence`, `clearWaiting`,
   * `setWaiting`, `updateMessage`): a conditional part whose condition fails (a token already cleared,
   * a status feedback moved on) does not stop the others. Only then, or after repeated transaction
   * conflicts, does it fall back to one request per part.
   */
  writeStep(write: StepWrite): Promise<void>;
  /**
   * A refused entry: its timeline entry and the journey's `refused` counter, once per entry key (the
   * timeline entry is written only if absent); false when it was recorded before or the profile was
   * erased. One TransactWriteItems. `oncePerExecution`: a request retried later (an enrollment with
   * an idempotency key) is refused at another time, so another timeline key: a marker item
   * (`refusalKey`, the refused execution's name) in the same transaction records it once.
   */
  recordRefusal(entry: TimelineEntry, options?: { oncePerExecution?: boolean }): Promise<boolean>;
  /** The transition record and end-of-execution counters of a write, on their own (writeStepSeparately). */
  addAnalytics?(journeyId: string, write: AnalyticsWrite): Promise<void>;
}

/**
 * The marker of a refused entry request (`RuntimeStore.recordRefusal`'s `oncePerExecution`), beside
 * the refused execution's other items in the Journeys table (`#` never starts a node id), kept as
 * long as timeline entries; erasure deletes it with them (the timeline entry names the execution).
 */
export function refusalKey(executionName: string) {
  return { pk: executionPk(executionName), sk: '#refused' };
}

type TransactWriteItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface DynamoRuntimeStoreOptions {
  profilesTableName?: string;
  journeysTableName?: string;
  /** Shard picker for counters; default random. */
  shard?: () => number;
  /**
   * How `writeStep` writes: `transaction` (default: one TransactWriteItems, 2 WCU per KB of each item)
   * or `separate` (one request per part, in parallel, 1 WCU per KB). Default from
   * `CAIRN_STEP_WRITES` at the edge (functions/runtime). The trade-off is in shared/runtime/README.md.
   */
  stepWrites?: 'transaction' | 'separate';
  /** Keep timeline entries this long (seconds); default 400 days. */
  timelineRetentionSeconds?: number;
  now?: () => number;
}

export function dynamoRuntimeStore(
  client: DynamoDBDocumentClient,
  options: DynamoRuntimeStoreOptions = {},
): RuntimeStore {
  const profiles = options.profilesTableName ?? profilesTable.defaultName;
  const journeys = options.journeysTableName ?? journeysTable.defaultName;
  const shard = options.shard ?? (() => Math.floor(Math.random() * statShards));
  const retention = options.timelineRetentionSeconds ?? 400 * 86_400;
  const now = options.now ?? Date.now;
  const transactSteps = (options.stepWrites ?? 'transaction') === 'transaction';

  /** Every write of a step as request parameters, for an item of a transaction. */
  const writes = {
    addStats: statsWrite(journeys, shard),
    addTimeline: timelineWrite(profiles, retention, now),
    ...presenceWrites(profiles),
    updateMessage: messageWrite(journeys),
  };

  /** The items of one `writeStep` (counters on a random shard). */
  const stepItems = (write: StepWrite, setMessageStatus: boolean) => {
    const items: TransactWriteItem[] = [];
    /** Which item is which, to read the cancellation reasons (same order as the items). */
    const parts: ('stats' | 'timeline' | 'entry' | 'presence' | 'message' | 'erased' | 'analytics')[] = [];
    // The day's counters go to the shard of the same number as the stats: two steps that meet on
    // one meet on the other too, so the analytics items add no new transaction conflicts.
    const shardIndex = shard();
    const stats = writes.addStats(write.journeyId, write.deltas, shardIndex);
    if (stats) {
      items.push({ Update: stats });
      parts.push('stats');
    }
    // Day counters, transition record, end-of-execution counters: items of the same request.
    const counters = deltaCounters(write.deltas);
    for (const item of analyticsItems(
      write.journeyId,
      now(),
      counters,
      write.analytics,
      journeys,
      shardIndex,
    )) {
      items.push(item as TransactWriteItem);
      parts.push('analytics');
    }
    if (write.timeline) {
      items.push({ Put: writes.addTimeline(write.timeline) });
      parts.push('timeline');
    }
    const presence = write.presence;
    if (presence && 'remove' in presence) {
      const { profileId, executionName, entryData } = presence.remove;
      items.push({ Delete: writes.removePresence(profileId, executionName) });
      // The entry's properties end with the execution (entry-data.ts): an unconditional Delete.
      if (entryData) {
        items.push({ Delete: entryDataDelete(journeys, executionName) });
        parts.push('entry');
      }
    } else if (presence && 'clearWaiting' in presence) {
      const { profileId, executionName, token } = presence.clearWaiting;
      items.push({ Update: writes.clearWaiting(profileId, executionName, token) });
    } else if (presence && 'setWaiting' in presence) {
      items.push({ Update: writes.setWaiting(presence.setWaiting.presence, presence.setWaiting.waiting) });
    }
    if (presence) parts.push('presence');
    if (write.message) {
      items.push({ Update: writes.updateMessage(write.message.key, write.message.change, setMessageStatus) });
      parts.push('message');
    }
    // Nothing goes back under an erased profile (shared/profiles/erasure.ts): its tombstone must be absent.
    for (const profileId of writtenUnder(write)) {
      items.push(notErased(profiles, profileId));
      parts.push('erased');
    }
    return { items, parts };
  };

  const store: RuntimeStore = {
    async recordRefusal(entry, options = {}) {
      const marker = {
        ...refusalKey(entry.executionName),
        kind: 'journey-refusal',
        expiresAt: Math.floor(now() / 1000) + retention,
      };
      return writeIfCondition(
        client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { ...writes.addTimeline(entry), ConditionExpression: 'attribute_not_exists(pk)' } },
              { Update: writes.addStats(entry.journeyId, [{ counter: 'refused' }])! },
              notErased(profiles, entry.profileId),
              ...(options.oncePerExecution ? [createOnly(journeys, marker)] : []),
            ],
          }),
        ),
      );
    },

    ...dynamoPresenceStore(client, { tableName: profiles, journeysTableName: journeys }),
    ...dynamoEntryDataStore(client, { tableName: journeys, now }),
    ...dynamoStatsStore(client, {
      tableName: journeys,
      shard,
      dayCounters: { writes: transactSteps ? 'transaction' : 'separate', now },
    }),

    async addAnalytics(journeyId, write) {
      const build = () => analyticsItems(journeyId, now(), {}, write, journeys);
      const separately = async (items: ReturnType<typeof build>) => {
        await Promise.all(items.map((item) => sendItemRetryingConflicts(client, item)));
      };
      if (build().length === 0) return;
      if (!transactSteps) return separately(build());
      await transactRetryingConflicts(client, build, separately);
    },
    ...dynamoMessageStore(client, { tableName: journeys, profilesTableName: profiles }),
    ...dynamoTimelineStore(client, { tableName: profiles, retentionSeconds: retention, now }),

    async writeStep(original) {
      let write = original;
      let setMessageStatus = true;
      if (stepItems(write, true).items.length <= 1 || !transactSteps)
        return writeStepSeparately(store, write);
      for (let attempt = 1; ; attempt++) {
        // Built on every attempt: another random counter shard, away from one in contention.
        const { items, parts } = stepItems(write, setMessageStatus);
        try {
          await client.send(new TransactWriteCommand({ TransactItems: items }));
          return;
        } catch (error) {
          const reasons = cancellationReasons(error);
          if (!reasons) throw error;
          if (attempt >= 6 || reasons.length !== items.length) return writeStepSeparately(store, write);
          // Nothing was written. A part whose condition failed does what its own method would, the
          // others are tried again: a cleared or deleted token is left alone (clearWaiting → false);
          // a message whose status moved on (feedback first) only gets the history entry, or nothing
          // when it is gone.
          const failed = new Set(parts.filter((_, i) => reasons[i] === 'ConditionalCheckFailed'));
          if (failed.has('erased')) {
            const erased = parts.findIndex(
              (part, i) => part === 'erased' && reasons[i] === 'ConditionalCheckFailed',
            );
            throw new ProfileErasedError([...writtenUnder(write)][erased - parts.indexOf('erased')] ?? '');
          }
          const other = reasons.some(
            (code) => !['None', 'ConditionalCheckFailed', 'TransactionConflict'].includes(code),
          );
          if (other || failed.has('stats') || failed.has('timeline') || failed.has('analytics'))
            return writeStepSeparately(store, write);
          if (failed.has('presence')) write = { ...write, presence: undefined };
          if (failed.has('message')) {
            if (setMessageStatus && write.message?.change.ifStatusIn && !write.message.change.create)
              setMessageStatus = false;
            else write = { ...write, message: undefined };
          }
          if (failed.size === 0) await sleep(conflictBackoff(attempt));
          if (stepItems(write, setMessageStatus).items.length <= 1) {
            // One part left: its own request (the history-only message update is updateMessage's fallback).
            return writeStepSeparately(store, write);
          }
        }
      }
    },
  };
  return store;
}

/** The profiles a step's write puts items under (timeline entry, presence). */
function writtenUnder(write: StepWrite): Set<string> {
  const ids = new Set<string>();
  if (write.timeline) ids.add(write.timeline.profileId);
  if (write.presence && 'setWaiting' in write.presence) ids.add(write.presence.setWaiting.presence.profileId);
  return ids;
}

/**
 * `writeStep` as one request per part, in parallel: the fallback of the DynamoDB store, and the
 * behaviour every part must keep when it is written in a transaction.
 */
export async function writeStepSeparately(store: RuntimeStore, write: StepWrite): Promise<void> {
  const presence = write.presence;
  await Promise.all([
    store.addStats(write.journeyId, write.deltas),
    write.timeline && store.addTimeline(write.timeline),
    presence && 'remove' in presence
      ? store.removePresence(presence.remove.profileId, presence.remove.executionName)
      : undefined,
    presence && 'remove' in presence && presence.remove.entryData
      ? store.deleteEntryData(presence.remove.executionName)
      : undefined,
    presence && 'clearWaiting' in presence
      ? store.clearWaiting(
          presence.clearWaiting.profileId,
          presence.clearWaiting.executionName,
          presence.clearWaiting.token,
        )
      : undefined,
    presence && 'setWaiting' in presence
      ? store.setWaiting(presence.setWaiting.presence, presence.setWaiting.waiting)
      : undefined,
    write.message && store.updateMessage(write.message.key, write.message.change),
    write.analytics && store.addAnalytics?.(write.journeyId, write.analytics),
  ]);
}
