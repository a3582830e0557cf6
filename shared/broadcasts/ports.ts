/**
 * The two ports a broadcast runs through. On AWS: EventBridge Scheduler (one-time schedules that
 * invoke the broadcast Lambda) and SQS (slots delivered with a delay to the same Lambda). Locally
 * and in tests: the virtual clock (clock-adapters.ts), so advancing time fires them in order.
 */

/** Invoking the runner for one run in one zone at an instant; continuations carry the paging cursor. */
export interface Firing {
  broadcastId: string;
  runKey: string;
  /** IANA zone of the members this firing enters; `*` = every member (plans that are not local-time); `#plan` = find the zones. */
  zone: string;
  /** Epoch ms. */
  at: number;
  cursor?: string;
  /** Slots already queued by earlier invocations of this firing (continuations): the next slot's index. */
  slotBase?: number;
}

export interface FiringScheduler {
  schedule(firing: Firing): Promise<void>;
  /** Removes a firing not yet fired (cancel); a firing already gone is fine. */
  cancel(firing: Pick<Firing, 'broadcastId' | 'runKey' | 'zone'>): Promise<void>;
}

/**
 * Up to `ratePerSecond` members to enter in the second that starts at `notBefore`: the unit of rate
 * limiting. Each slot of a broadcast holds its own second (BroadcastStore.reserveSeconds).
 */
export interface Slot {
  broadcastId: string;
  runKey: string;
  /** Unique within the run: `<zone>:<index>`; the outcome of a slot is counted once. */
  slotId: string;
  profileIds: string[];
  /** Epoch ms. */
  notBefore: number;
}

export interface SlotQueue {
  send(slots: Slot[]): Promise<void>;
}
