import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exponentialBackoff, resendingUnprocessed, retrying } from '../../shared/retry.js';

class Conflict extends Error {}

/** A call that fails with each error given, then returns 'done'. */
function failing(...errors: Error[]) {
  const calls: number[] = [];
  const attempt = async (n: number) => {
    calls.push(n);
    const error = errors[calls.length - 1];
    if (error) throw error;
    return 'done';
  };
  return { calls, attempt };
}

const noWait = (sleeps: number[]) => async (ms: number) => void sleeps.push(ms);

describe('retrying', () => {
  it('calls again after a retryable error, with the attempt number, and returns what succeeds', async () => {
    const { calls, attempt } = failing(new Conflict('1'), new Conflict('2'));
    const sleeps: number[] = [];
    const result = await retrying(attempt, {
      attempts: 5,
      retryable: (e) => e instanceof Conflict,
      backoff: (failed) => failed * 10,
      sleep: noWait(sleeps),
    });
    assert.equal(result, 'done');
    assert.deepEqual(calls, [1, 2, 3]);
    assert.deepEqual(sleeps, [10, 20]);
  });

  it('gives up after the attempts it is given, with the last error', async () => {
    const { calls, attempt } = failing(
      new Conflict('1'),
      new Conflict('2'),
      new Conflict('3'),
      new Conflict('4'),
    );
    const sleeps: number[] = [];
    await assert.rejects(
      retrying(attempt, {
        attempts: 3,
        retryable: (e) => e instanceof Conflict,
        backoff: () => 1,
        sleep: noWait(sleeps),
      }),
      (error: Error) => error.message === '3',
    );
    assert.deepEqual(calls, [1, 2, 3]);
    assert.equal(sleeps.length, 2, 'no wait after the last attempt');
  });

  it('throws an error that is not retryable at once', async () => {
    const { calls, attempt } = failing(new TypeError('bug'));
    await assert.rejects(
      retrying(attempt, {
        attempts: 5,
        retryable: (e) => e instanceof Conflict,
        backoff: () => 1,
        sleep: noWait([]),
      }),
      TypeError,
    );
    assert.deepEqual(calls, [1]);
  });
});

describe('resendingUnprocessed', () => {
  it('sends again only what was not processed, until nothing is left', async () => {
    const sent: number[][] = [];
    const sleeps: number[] = [];
    const left = await resendingUnprocessed(
      [1, 2, 3, 4],
      async (pending) => {
        sent.push(pending);
        return pending.filter((n) => n > sent.length + 1);
      },
      { backoff: (failed) => failed, sleep: noWait(sleeps) },
    );
    assert.deepEqual(left, []);
    assert.deepEqual(sent, [[1, 2, 3, 4], [3, 4], [4]]);
    assert.deepEqual(sleeps, [1, 2]);
  });

  it('returns what is still unprocessed after the attempts it is given', async () => {
    let requests = 0;
    const left = await resendingUnprocessed(
      ['a', 'b'],
      async (pending) => {
        requests++;
        return pending.slice(1);
      },
      { attempts: 1, backoff: () => 1, sleep: noWait([]) },
    );
    assert.deepEqual(left, ['b']);
    assert.equal(requests, 1);
  });

  it('makes no request for nothing', async () => {
    let requests = 0;
    const left = await resendingUnprocessed(
      [],
      async () => {
        requests++;
        return [];
      },
      { backoff: () => 1 },
    );
    assert.deepEqual(left, []);
    assert.equal(requests, 0);
  });
});

describe('exponentialBackoff', () => {
  it('doubles from twice the base and stays within its cap, whatever the random draw', () => {
    for (const random of [() => 0, () => 0.5, () => 0.999999]) {
      const full = exponentialBackoff({ baseMs: 5, maxMs: 200, jitter: 'full', random });
      for (let failed = 1; failed <= 30; failed++) {
        const delay = full(failed);
        assert.ok(delay >= 0 && delay <= Math.min(200, 5 * 2 ** failed), `${failed}: ${delay}`);
      }
    }
    const top = exponentialBackoff({ baseMs: 5, maxMs: 200, jitter: 'full', random: () => 1 });
    assert.deepEqual([1, 2, 3, 6, 20].map(top), [10, 20, 40, 200, 200]);
  });

  it('adds at most addMs to the exponential delay', () => {
    const low = exponentialBackoff({ baseMs: 5, jitter: { addMs: 10 }, random: () => 0 });
    const high = exponentialBackoff({ baseMs: 5, jitter: { addMs: 10 }, random: () => 1 });
    assert.deepEqual([1, 2, 3].map(low), [10, 20, 40]);
    assert.deepEqual([1, 2, 3].map(high), [20, 30, 50]);
  });
});
