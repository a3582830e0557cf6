import { ownValue, setOwn } from '../dictionary.js';
import { ValidationError } from '../errors.js';
import { nodeModule } from '../journeys/nodes/index.js';
import type { Journey } from '../journeys/schema.js';
import { holdReasons, skipReasons } from '../messaging/gateway.js';
import { channels } from '../messaging/policy.js';
import type { MessageRecord } from './message-store.js';
import type { RuntimeStore } from './store.js';
import type { TimelineEntry } from './timeline-store.js';

/**
 * The read side of the runtime for the API: journey stats (`GET /journeys/{id}/stats`), messages
 * (`GET /messages`) and the journey part of a profile's timeline.
 */

/** Every customer who entered a node is in one of completed, waiting, failed, skipped, exited. */
export interface NodeStats {
  entered: number;
  completed: number;
  waiting: number;
  failed: number;
  skipped: number;
  /** Stopped while in the node: goal, exit event, removal, erasure. */
  exited: number;
  /** Message nodes. */
  sent?: number;
  delivered?: number;
  bounced?: number;
  complained?: number;
  opened?: number;
  clicked?: number;
  unsubscribed?: number;
  /** waitFor nodes. */
  resumed?: number;
  timedOut?: number;
  /** split: per branch (its `name`, else its target node); branch: per case target and `default`. */
  branches?: Record<string, number>;
  /** Message nodes: skipped messages by the gateway's reason. */
  skippedBy?: Record<string, number>;
  /** Message nodes: holds (quiet hours, send time) in all, and by reason; a held customer is `waiting`. */
  held?: number;
  heldBy?: Record<string, number>;
  /** sms: billed parts of the texts sent. */
  parts?: number;
}

/** The reasons `skippedBy` always lists (zeros until they move; a holdout is not the gateway's doing). */
const skippedByReasons = skipReasons.filter((reason) => reason !== 'holdout');

export interface JourneyStats {
  journeyId: string;
  /** Executions started. */
  started: number;
  /** Reached an exit node. */
  finished: number;
  /** Left on an exitOn event. */
  exited: number;
  failed: number;
  /** Taken out with `DELETE /journeys/{id}/enrollments/{profileId}`. */
  removed: number;
  /** Stopped by the erasure of their profile. */
  erased: number;
  /** Triggers the re-entry rule refused (each is on the profile's timeline, outcome `refused`). */
  refused: number;
  nodes: Record<string, NodeStats>;
  goal: { conversions: number };
}

const baseCounters = ['entered', 'completed', 'waiting', 'failed', 'skipped', 'exited'] as const;

/**
 * Sums the stats shards of a journey (one Query) into the shape of `GET /journeys/{id}/stats` (README.md, HTTP API). `journey` (the current
 * version) names split branches and lists nodes nobody reached yet with zeros.
 */
export async function getJourneyStats(
  store: Pick<RuntimeStore, 'readStats'>,
  journeyId: string,
  journey?: Pick<Journey, 'nodes'>,
): Promise<JourneyStats> {
  const totals = await store.readStats(journeyId);
  // Keyed by node ids, which the journey's author names (`constructor` is a valid id).
  const nodes: Record<string, NodeStats> = {};
  const nodeStats = (nodeId: string): NodeStats => {
    let stats = ownValue(nodes, nodeId);
    if (!stats) {
      stats = { entered: 0, completed: 0, waiting: 0, failed: 0, skipped: 0, exited: 0 };
      const node = journey?.nodes[nodeId];
      const shown = node && nodeModule(node.type).stats;
      for (const counter of shown?.counters ?? []) (stats as unknown as Record<string, number>)[counter] = 0;
      if (shown?.branchLabel) stats.branches = {};
      if (node && nodeModule(node.type).channel) {
        stats.skippedBy = Object.fromEntries(skippedByReasons.map((reason) => [reason, 0]));
        stats.heldBy = Object.fromEntries(holdReasons.map((reason) => [reason, 0]));
      }
      setOwn(nodes, nodeId, stats);
    }
    return stats;
  };
  for (const nodeId of Object.keys(journey?.nodes ?? {})) nodeStats(nodeId);
  const journeyTotals: Record<string, number> = {};
  for (const [attribute, value] of Object.entries(totals)) {
    const [scope, ...rest] = attribute.split('|');
    if (scope === 'journey') {
      journeyTotals[rest.join('|')] = value;
      continue;
    }
    if (scope !== 'node' || rest.length < 2) continue;
    const counter = rest.pop()!;
    const nodeId = rest.join('|');
    const stats = nodeStats(nodeId);
    const byReason = /^(skipped|held):(.+)$/.exec(counter);
    if (byReason) {
      const field = byReason[1] === 'skipped' ? 'skippedBy' : 'heldBy';
      const map = stats[field] ?? {};
      stats[field] = map;
      setOwn(map, byReason[2]!, (ownValue(map, byReason[2]!) ?? 0) + value);
    } else if (counter.startsWith('branch:')) {
      const label = branchLabel(journey, nodeId, counter.slice('branch:'.length));
      stats.branches ??= {};
      setOwn(stats.branches, label, (ownValue(stats.branches, label) ?? 0) + value);
    } else {
      (stats as unknown as Record<string, number>)[counter] = value;
    }
  }
  for (const stats of Object.values(nodes)) {
    // The waiting gauge is a sum of +1/-1 over shards: never show a transiently negative value.
    stats.waiting = Math.max(0, stats.waiting);
    for (const counter of baseCounters) stats[counter] ??= 0;
  }
  return {
    journeyId,
    started: journeyTotals.started ?? 0,
    finished: journeyTotals.finished ?? 0,
    exited: journeyTotals.exited ?? 0,
    failed: journeyTotals.failed ?? 0,
    removed: journeyTotals.removed ?? 0,
    erased: journeyTotals.erased ?? 0,
    refused: journeyTotals.refused ?? 0,
    nodes,
    goal: { conversions: journeyTotals.conversions ?? 0 },
  };
}

function branchLabel(journey: Pick<Journey, 'nodes'> | undefined, nodeId: string, key: string): string {
  const node = journey?.nodes[nodeId];
  return (node && nodeModule(node.type).stats?.branchLabel?.(node, key)) ?? key;
}

export interface MessageView extends MessageRecord {
  execution: string;
}

/** Lifecycle order of message statuses: a history reads in this order whatever order it was written in. */
const statusRank: Record<string, number> = {
  held: -1,
  sending: 0,
  retry: 1,
  failed: 2,
  skipped: 2,
  sent: 3,
  delivered: 4,
  bounced: 4,
  complained: 5,
  opened: 6,
  clicked: 7,
  unsubscribed: 8,
};

/**
 * A record as the API shows it. Its history is appended as things are heard of, and SES feedback
 * (`delivered`) can be written before the step records `sent`: the history is shown in lifecycle
 * order, then time.
 */
function messageView(record: MessageRecord): MessageView {
  const history = record.history
    .map((entry, index) => ({ entry, index }))
    .sort(
      (a, b) =>
        (statusRank[a.entry.status] ?? 9) - (statusRank[b.entry.status] ?? 9) ||
        (a.entry.at < b.entry.at ? -1 : a.entry.at > b.entry.at ? 1 : a.index - b.index),
    )
    .map(({ entry }) => entry);
  return { ...record, history, execution: record.executionName };
}

export const maxMessagesPage = 100;

/**
 * Messages of a journey, every customer's, newest first, `limit` a page (default 50, at most 100):
 * one Query of the journey's message index, never a Scan.
 */
export async function listJourneyMessages(
  store: Pick<RuntimeStore, 'listJourneyMessages'>,
  query: { journeyId: string; limit?: number; cursor?: string },
): Promise<{ messages: MessageView[]; nextCursor?: string }> {
  const limit = query.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxMessagesPage) {
    throw new ValidationError([
      { path: ['limit'], message: `limit must be an integer from 1 to ${maxMessagesPage}` },
    ]);
  }
  const page = await store.listJourneyMessages(query.journeyId, {
    limit,
    ...(query.cursor !== undefined && { cursor: query.cursor }),
  });
  return {
    messages: page.messages.map(messageView),
    ...(page.nextCursor && { nextCursor: page.nextCursor }),
  };
}

/**
 * Messages of a profile (and of the profiles merged into it: pass their ids too), newest first,
 * with their status history, whatever became of them (sent, held, skipped, failed): the profile's
 * timeline entries of message nodes (one Query each), then their records (one BatchGetItem per 100;
 * a step with no record, a holdout, is left out).
 */
export async function listMessages(
  store: Pick<RuntimeStore, 'listTimeline' | 'getMessages'>,
  query: { profileId?: string; profileIds?: string[]; journeyId?: string },
): Promise<{ messages: MessageView[] }> {
  const profileIds = query.profileIds ?? (query.profileId ? [query.profileId] : []);
  if (profileIds.length === 0) {
    throw new ValidationError([{ path: ['profileId'], message: 'give profileId, journeyId or both' }]);
  }
  const keys = new Map<string, { executionName: string; nodeId: string }>();
  for (const entry of (await Promise.all(profileIds.map((id) => store.listTimeline(id)))).flat()) {
    if (query.journeyId && entry.journeyId !== query.journeyId) continue;
    const ofMessageNode = entry.kind === 'message' || (entry.nodeType && isMessageNode(entry.nodeType));
    // A held message's steps (held, then sent) name one record.
    if (ofMessageNode) keys.set(`${entry.executionName}\n${entry.nodeId}`, entry);
  }
  const records = await store.getMessages(
    [...keys.values()].map((e) => ({ executionName: e.executionName, nodeId: e.nodeId })),
  );
  return {
    messages: records
      .map(messageView)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0)),
  };
}

/** Message nodes are named after their channel (`email`, `sms`, `push`). */
function isMessageNode(nodeType: string): boolean {
  return (channels as readonly string[]).includes(nodeType);
}

/** Journey steps and messages on the timeline of the given profiles, oldest first. */
export async function journeyTimeline(
  store: Pick<RuntimeStore, 'listTimeline'>,
  profileIds: string[],
): Promise<TimelineEntry[]> {
  const entries = (await Promise.all(profileIds.map((id) => store.listTimeline(id)))).flat();
  return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}
