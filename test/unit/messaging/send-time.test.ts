import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseSendTime } from '../../../shared/messaging/send-time.js';

const at = (iso: string) => Date.parse(iso);

/** The choice for opens at these instants, at `now` in `timeZone`, within P1D. */
function bestFor(opens: string[], now: string, timeZone: string) {
  return chooseSendTime(opens.map(at), { within: 'P1D' }, { now: at(now), timeZone });
}

describe('sendAt: best', () => {
  it('picks the local hour the customer opened or clicked most, at the start of that hour', () => {
    // Paris is UTC+1 in December: opens at 19:xx local, one at 08:xx.
    const opens = ['2026-11-20T18:10:00Z', '2026-11-21T18:40:00Z', '2026-11-22T07:05:00Z'];
    const choice = bestFor(opens, '2026-12-01T09:00:00Z', 'Europe/Paris');
    assert.deepEqual(choice, { at: at('2026-12-01T18:00:00Z'), basis: 'history', time: '19:00' });
  });

  it('sends now inside the best hour, or when the best hour is beyond `within`', () => {
    const history = [at('2026-11-20T18:10:00Z')];
    const inside = chooseSendTime(
      history,
      { within: 'P1D' },
      { now: at('2026-12-01T18:20:00Z'), timeZone: 'UTC' },
    );
    assert.deepEqual(inside, { at: at('2026-12-01T18:20:00Z'), basis: 'history', time: '18:00' });
    const far = chooseSendTime(
      history,
      { within: 'PT2H' },
      { now: at('2026-12-01T09:00:00Z'), timeZone: 'UTC' },
    );
    assert.deepEqual(far, { at: at('2026-12-01T09:00:00Z'), basis: 'now' });
  });

  it('without history: the default time of day in the customer’s zone, else now', () => {
    const now = at('2026-12-01T09:00:00Z');
    assert.deepEqual(
      chooseSendTime([], { within: 'P1D', default: '10:00' }, { now, timeZone: 'America/New_York' }),
      {
        at: at('2026-12-01T15:00:00Z'),
        basis: 'default',
        time: '10:00',
      },
    );
    assert.deepEqual(chooseSendTime([], { within: 'P1D' }, { now, timeZone: 'bad/zone' }), {
      at: now,
      basis: 'now',
    });
  });

  it('follows a DST change: the same local hour is a different UTC hour after it', () => {
    // Opens at 19:xx in Paris in summer (UTC+2); after the October change Paris is UTC+1.
    const summer = ['2026-07-01T17:15:00Z', '2026-07-02T17:30:00Z'];
    const choice = bestFor(summer, '2026-10-25T12:00:00Z', 'Europe/Paris');
    assert.deepEqual(choice, { at: at('2026-10-25T18:00:00Z'), basis: 'history', time: '19:00' });
  });
});
