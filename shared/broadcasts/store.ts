import type { Recurrence } from './schedule.js';

/** What the marketer asked for, as stored. */
export interface BroadcastPlan {
  broadcastId: string;
  journeyId: string;
  segment: string;
  /** UTC instant (ISO) of the first run; absent for local-time plans. */
  at?: string;
  localTime?: { time: string; date: string };
  fallbackTimezone: string;
  recurrence?: Recurrence;
  ratePerSecond: number;
  createdAt: string;
  /** Members when the plan was made. */
  audienceAtCreation: number;
}

export interface BroadcastRecord extends BroadcastPlan {
  cancelled: boolean;
  /** Set when the plan could not run (e.g. the segment was deleted); the reason in `failure`. */
  failure?: string;
  /** Firings scheduled and not yet fired: one per zone (local plans) or one (`*`). */
  pending: PendingFiring[];
}

export interface PendingFiring {
  runKey: string;
  zone: string;
  /** ISO instant. */
  at: string;
}

/** One run (all zones of one local wall time, or one UTC instant). Counters are exact. */
export interface RunRecord {
  runKey: string;
  /** Members queued for entry in this run. */
  audience: number;
  entered: number;
  skipped: number;
  failed: number;
  /** Why members were skipped: `left_segment`, `reentry`, `journey_not_active`, … */
  reasons: Record<string, number>;
  /** Slots queued and slots whose outcome is counted: the run's work is done when they are equal and no firing is paging. */
  slots: number;
  slotsDone: number;
  /** Firings of this run that are still paging members into the queue. */
  paging: number;
}

export interface SlotOutcome {
  entered: number;
  skipped: number;
  failed: number;
  reasons: Record<string, number>;
}

/**
 * Where broadcasts live (the Journeys table on AWS: BroadcastDynamoStore; tests: MemoryBroadcastStore).
 * `applySlot` counts a slot's outcome exactly once, however often the slot is delivered.
 */
export interface BroadcastStore {
  create(record: BroadcastRecord): Promise<void>;
  get(broadcastId: string): Promise<BroadcastRecord | undefined>;
  listByJourney(journeyId: string): Promise<BroadcastRecord[]>;
  /**
   * Adds and removes pending firings, each on its own (zones firing at the same instant update the
   * list side by side without losing each other's changes).
   */
  updatePending(
    broadcastId: string,
    change: { add?: PendingFiring[]; remove?: Pick<PendingFiring, 'runKey' | 'zone'> },
  ): Promise<void>;
  /** Replaces the pending firings / cancels / marks failed. */
  update(
    broadcastId: string,
    patch: Partial<Pick<BroadcastRecord, 'pending' | 'cancelled' | 'failure'>>,
  ): Promise<void>;
  runs(broadcastId: string): Promise<RunRecord[]>;
  /** Adds to a run's audience, slots and paging counters (creating the run). */
  addToRun(
    broadcastId: string,
    runKey: string,
    delta: { audience?: number; slots?: number; paging?: number },
  ): Promise<void>;
  /**
   * Reserves `count` consecutive seconds of the broadcast's entry timeline, none before `fromSecond`
   * (epoch seconds), and returns the first. Every firing of the broadcast (each zone, each run,
   * each continuation) takes its slots' seconds from this one timeline, so at most one slot of
   * `ratePerSecond` members is due in any second, however many firings page at once.
   */
  reserveSeconds(broadcastId: string, count: number, fromSecond: number): Promise<number>;
  /** Counts a slot's outcome into its run; false when that slot was already counted. */
  applySlot(broadcastId: string, runKey: string, slotId: string, outcome: SlotOutcome): Promise<boolean>;
}

export function emptyRun(runKey: string): RunRecord {
  return {
    runKey,
    audience: 0,
    entered: 0,
    skipped: 0,
    failed: 0,
    reasons: {},
    slots: 0,
    slotsDone: 0,
    paging: 0,
  };
}
