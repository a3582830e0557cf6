import { useHandlerClock } from '../../../functions/config.js';
import type { Clock } from '../../../shared/clock.js';

/**
 * The local stack's time. It follows real time multiplied by `timeScale` (1 = real time, 60 = a
 * minute per second, 0 = frozen), plus every `advance`. Everything that waits (Wait states, task
 * token timeouts, execution timeouts) is an entry in ONE sorted wake-up queue with one real timer
 * for its head, so 10,000 waiting executions cost 10,000 small queue entries, not 10,000 timers.
 *
 * `advance(ms)` fires what falls due in time order (entries within the same virtual second fire
 * together, as AWS Waits have one-second granularity) and resolves once everything it woke has
 * settled: each execution reached its next wait or its end. Work that should be awaited the same
 * way (an in-process event bus delivering to a handler, say) registers itself with `track`.
 */
export interface VirtualClock extends Clock {
  now(): number;
  readonly timeScale: number;
  /** Moves time forward, firing everything due in order; resolves when all that work has settled. */
  advance(ms: number): Promise<void>;
  /** Calls `fire` once virtual time reaches `at` (ms since the epoch). */
  schedule(at: number, fire: () => void): ScheduledWake;
  /** Resolves once virtual time reaches `at`; for in-memory waits. */
  sleepUntil(at: number): Promise<void>;
  /**
   * Moves time forward to `at` without firing anything now (what is due fires on the next timer
   * or advance): for restoring the virtual time a previous run of the stack had reached.
   */
  skipTo(at: number): void;
  /** Counts `work` as running until it settles: `advance` and `settled` wait for it. */
  track<T>(work: Promise<T>): Promise<T>;
  /** Resolves when no tracked work is running (checked after the event loop has had a turn). */
  settled(): Promise<void>;
  /** How many wake-ups are queued (cancelled ones excluded). */
  pending(): number;
  /** Stops the real timer (the queue stays). */
  stop(): void;
}

export interface ScheduledWake {
  readonly at: number;
  cancel(): void;
}

export interface VirtualClockOptions {
  /** Virtual ms per real ms. Default: env CAIRN_TIME_SCALE, else 1. 0 freezes time between advances. */
  timeScale?: number;
  /** Virtual time at creation. Default: real time. */
  start?: number;
  /** Real time source (tests). */
  realNow?: () => number;
}

interface Entry {
  at: number;
  seq: number;
  fire: (() => void) | undefined;
}

/** Longest real delay Node's setTimeout accepts without firing at once. */
const maxTimerMs = 2_147_483_647;
/** Entries due within this much virtual time of the first fire together during `advance`. */
const batchMs = 1000;

export function createVirtualClock(options: VirtualClockOptions = {}): VirtualClock {
  const realNow = options.realNow ?? (() => Date.now());
  const timeScale = options.timeScale ?? timeScaleFromEnv();
  const realStart = realNow();
  let offset = (options.start ?? realStart) - realStart * timeScale;
  const heap: Entry[] = [];
  let seq = 0;
  let live = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let stopped = false;
  let running = 0;
  let idleWaiters: (() => void)[] = [];
  let advancing: Promise<void> = Promise.resolve();

  const now = () => Math.floor(realNow() * timeScale + offset);

  function push(entry: Entry): void {
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  function pop(): Entry | undefined {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }

  /** The earliest live entry, dropping cancelled ones from the top. */
  function peek(): Entry | undefined {
    while (heap.length > 0 && heap[0]!.fire === undefined) pop();
    return heap[0];
  }

  function fire(entry: Entry): void {
    const run = entry.fire;
    entry.fire = undefined;
    live--;
    if (!run) return;
    try {
      run();
    } catch {
      // A wake-up callback must not break the queue; the callbacks report their own failures.
    }
  }

  /** Re-arms the one real timer for the queue head (only when real time moves the clock). */
  function arm(force = false): void {
    if (stopped || timeScale <= 0) return;
    const head = peek();
    const at = head?.at ?? Number.POSITIVE_INFINITY;
    if (timer && at === timerAt && !force) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    timerAt = at;
    if (!head) return;
    const delay = Math.min(maxTimerMs, Math.max(0, Math.ceil((at - now()) / timeScale)));
    timer = setTimeout(onTimer, delay);
    timer.unref();
  }

  function onTimer(): void {
    timer = undefined;
    timerAt = Number.POSITIVE_INFINITY;
    const t = now();
    for (let head = peek(); head && head.at <= t; head = peek()) fire(pop()!);
    arm();
  }

  function notifyIdle(): void {
    if (running > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async function settled(): Promise<void> {
    for (;;) {
      // Let callbacks that were just fired start their work (and register it) before checking.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (running === 0) return;
      await new Promise<void>((resolve) => idleWaiters.push(resolve));
    }
  }

  async function advanceBy(ms: number): Promise<void> {
    const target = now() + Math.max(0, ms);
    await settled();
    for (let head = peek(); head && head.at <= target; head = peek()) {
      const batchEnd = Math.min(target, head.at + batchMs - 1);
      const due: Entry[] = [];
      for (let next = peek(); next && next.at <= batchEnd; next = peek()) due.push(pop()!);
      const last = due[due.length - 1]!.at;
      if (last > now()) offset += last - now();
      for (const entry of due) fire(entry);
      await settled();
    }
    if (target > now()) offset += target - now();
    arm(true);
    await settled();
  }

  const clock: VirtualClock = {
    now,
    timeScale,
    advance(ms) {
      const step = advancing.then(() => advanceBy(ms));
      advancing = step.catch(() => undefined);
      return step;
    },
    schedule(at, callback) {
      const entry: Entry = { at, seq: seq++, fire: callback };
      live++;
      push(entry);
      if (at < timerAt) arm();
      return {
        at,
        cancel() {
          if (entry.fire) {
            entry.fire = undefined;
            live--;
          }
        },
      };
    },
    sleepUntil(at) {
      if (at <= now()) return Promise.resolve();
      return new Promise((resolve) => clock.schedule(at, resolve));
    },
    skipTo(at) {
      if (at > now()) offset += at - now();
      arm(true);
    },
    track(work) {
      running++;
      const done = () => {
        running--;
        notifyIdle();
      };
      work.then(done, done);
      return work;
    },
    settled,
    pending: () => live,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
  return clock;
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export function timeScaleFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CAIRN_TIME_SCALE;
  if (raw === undefined || raw === '') return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale < 0)
    throw new Error(`CAIRN_TIME_SCALE must be a number >= 0, got "${raw}"`);
  return scale;
}

let shared: VirtualClock | undefined;

/**
 * The process-wide clock of the local stack: the Step Functions service, the `/local/clock` routes
 * and the handlers' injected `Clock` all read this one, so they agree on "now".
 */
export function localClock(): VirtualClock {
  if (!shared) setLocalClock(createVirtualClock());
  return shared!;
}

/** Replaces the process-wide clock (the stack does this once, before creating anything that reads it). */
export function setLocalClock(clock: VirtualClock): void {
  shared = clock;
  // Handlers in this process read time through the edge's handlerClock (functions/config.ts).
  useHandlerClock(clock);
}
