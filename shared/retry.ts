/**
 * The two ways Cairn tries a request again, each written once:
 * - `retrying`: the whole call again while it fails with an error worth another attempt (a DynamoDB
 *   transaction conflict, a profile write that lost the optimistic-concurrency race);
 * - `resendingUnprocessed`: only the part a batch request did not process (BatchWriteItem's
 *   unprocessed items, BatchGetItem's unprocessed keys, PutEvents' failed entries) sent again.
 * Both wait between attempts for what a `Backoff` says.
 */

/** The delay in ms before the next attempt, given how many attempts have failed so far (1 after the first). */
export type Backoff = (failed: number) => number;

export interface ExponentialBackoffOptions {
  /** The delay after the first failed attempt is `baseMs · 2`; it doubles after each. */
  baseMs: number;
  /** The exponential delay never exceeds this. Default: no cap. */
  maxMs?: number;
  /**
   * `'full'`: a random delay from 0 up to the exponential one (AWS's "full jitter");
   * `{ addMs }`: the exponential delay plus a random 0 to `addMs`.
   */
  jitter: 'full' | { addMs: number };
  random?: () => number;
}

/** `baseMs · 2^failed`, capped at `maxMs`, with the jitter asked for. */
export function exponentialBackoff(options: ExponentialBackoffOptions): Backoff {
  const { baseMs, maxMs = Number.POSITIVE_INFINITY, jitter, random = Math.random } = options;
  return (failed) => {
    const delay = Math.min(maxMs, baseMs * 2 ** failed);
    return jitter === 'full' ? delay * random() : delay + random() * jitter.addMs;
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Whether a failure is worth another attempt; any other is thrown at once. */
  retryable: (error: unknown) => boolean;
  backoff: Backoff;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Calls `attempt` (with its number, 1 for the first) until it returns, again after a backoff while it
 * throws a retryable error. After `attempts` the last error is thrown, as is at once any other.
 */
export async function retrying<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= options.attempts || !options.retryable(error)) throw error;
      await wait(options.backoff(n));
    }
  }
}

export interface ResendOptions {
  /** Requests in all, the first included. Default: until nothing is left. */
  attempts?: number;
  backoff: Backoff;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Sends `items`, then what `send` reports it did not process, after a backoff, until nothing is left
 * or `attempts` requests were made. Returns what is still unprocessed (empty when all went through).
 */
export async function resendingUnprocessed<T>(
  items: readonly T[],
  send: (pending: T[]) => Promise<T[]>,
  options: ResendOptions,
): Promise<T[]> {
  const wait = options.sleep ?? sleep;
  const attempts = options.attempts ?? Number.POSITIVE_INFINITY;
  let pending = [...items];
  for (let n = 1; pending.length > 0; n++) {
    pending = await send(pending);
    if (pending.length === 0 || n >= attempts) break;
    await wait(options.backoff(n));
  }
  return pending;
}
