import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createVirtualClock, timeScaleFromEnv } from '../../../infra/local/stepfunctions/clock.js';

const start = Date.parse('2026-01-01T00:00:00Z');

describe('virtual clock', () => {
  test('a frozen clock (scale 0) only moves when advanced', async () => {
    const clock = createVirtualClock({ timeScale: 0, start });
    assert.equal(clock.now(), start);
    await clock.advance(90_000);
    assert.equal(clock.now(), start + 90_000);
    clock.stop();
  });

  test('follows real time times the scale, plus advances', async () => {
    let real = 1_000_000;
    const clock = createVirtualClock({ timeScale: 60, start, realNow: () => real });
    real += 1000;
    assert.equal(clock.now(), start + 60_000);
    await clock.advance(5_000);
    real += 10;
    assert.equal(clock.now(), start + 65_600);
    clock.stop();
  });

  test('advance fires due wake-ups in time order, with now() at each wake-up time, and leaves later ones', async () => {
    const clock = createVirtualClock({ timeScale: 0, start });
    const fired: [string, number][] = [];
    clock.schedule(start + 30_000, () => fired.push(['c', clock.now()]));
    clock.schedule(start + 10_000, () => fired.push(['a', clock.now()]));
    clock.schedule(start + 20_000, () => fired.push(['b', clock.now()]));
    clock.schedule(start + 90_000, () => fired.push(['later', clock.now()]));
    await clock.advance(60_000);
    assert.deepEqual(fired, [
      ['a', start + 10_000],
      ['b', start + 20_000],
      ['c', start + 30_000],
    ]);
    assert.equal(clock.now(), start + 60_000);
    assert.equal(clock.pending(), 1);
    clock.stop();
  });

  test('a cancelled wake-up never fires', async () => {
    const clock = createVirtualClock({ timeScale: 0, start });
    let fired = false;
    const wake = clock.schedule(start + 1000, () => {
      fired = true;
    });
    wake.cancel();
    assert.equal(clock.pending(), 0);
    await clock.advance(5000);
    assert.equal(fired, false);
    clock.stop();
  });

  test('advance waits for the work a wake-up starts, including wake-ups that work schedules within the window', async () => {
    const clock = createVirtualClock({ timeScale: 0, start });
    const log: string[] = [];
    clock.schedule(start + 1000, () => {
      void clock.track(
        (async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          log.push('first done');
          clock.schedule(clock.now() + 5000, () => log.push('second'));
        })(),
      );
    });
    await clock.advance(10_000);
    assert.deepEqual(log, ['first done', 'second']);
    clock.stop();
  });

  test('wake-ups within the same virtual second fire together, at the latest of their times', async () => {
    const clock = createVirtualClock({ timeScale: 0, start });
    const seen: number[] = [];
    clock.schedule(start + 1000, () => seen.push(clock.now()));
    clock.schedule(start + 1400, () => seen.push(clock.now()));
    clock.schedule(start + 2500, () => seen.push(clock.now()));
    await clock.advance(3000);
    assert.deepEqual(seen, [start + 1400, start + 1400, start + 2500]);
    clock.stop();
  });

  test('with a time scale, real time alone fires what is due', async () => {
    const clock = createVirtualClock({ timeScale: 10_000, start });
    // The clock's timer does not keep a process alive (the stack's servers do); this test must.
    const keepAlive = setInterval(() => undefined, 1000);
    await new Promise<void>((resolve) => clock.schedule(clock.now() + 50_000, resolve));
    clearInterval(keepAlive);
    assert.ok(clock.now() >= start + 50_000);
    clock.stop();
  });

  test('skipTo moves time forward only', async () => {
    const clock = createVirtualClock({ timeScale: 0, start });
    clock.skipTo(start + 5000);
    clock.skipTo(start + 1000);
    assert.equal(clock.now(), start + 5000);
    clock.stop();
  });

  test('CAIRN_TIME_SCALE: default 1, a number, or an error naming the bad value', () => {
    assert.equal(timeScaleFromEnv({}), 1);
    assert.equal(timeScaleFromEnv({ CAIRN_TIME_SCALE: '60' }), 60);
    assert.throws(() => timeScaleFromEnv({ CAIRN_TIME_SCALE: 'fast' }), /CAIRN_TIME_SCALE.*"fast"/);
  });
});
