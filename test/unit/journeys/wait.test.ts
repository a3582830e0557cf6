import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../../../shared/journeys/duration.js';
import type { StepContext } from '../../../shared/journeys/nodes/types.js';
import { computeUntil, runWait, type WaitNode, type WaitUntil } from '../../../shared/journeys/nodes/wait.js';

const at = (iso: string) => Date.parse(iso);
const until = (spec: Partial<WaitUntil> & { time: string }): WaitUntil => ({ timezone: 'profile', ...spec });

describe('parseDuration', () => {
  it('reads weeks, days, hours, minutes and seconds', () => {
    assert.deepEqual(parseDuration('PT2H'), { seconds: 7200 });
    assert.deepEqual(parseDuration('P1D'), { seconds: 86400 });
    assert.deepEqual(parseDuration('P1DT12H30M15S'), { seconds: 131415 });
    assert.deepEqual(parseDuration('P2W'), { seconds: 1209600 });
    assert.deepEqual(parseDuration('PT1.5S'), { error: "'PT1.5S' is not a whole number of seconds" });
  });

  it('refuses what is not a fixed, positive duration under a year', () => {
    for (const text of ['P', 'PT', '2h', 'P1H', 'P1DT', '-P1D'])
      assert.ok('error' in parseDuration(text), text);
    assert.match((parseDuration('P1Y') as { error: string }).error, /years or months/);
    assert.match((parseDuration('P1M') as { error: string }).error, /years or months/);
    assert.deepEqual(parseDuration('PT1M'), { seconds: 60 }, 'M after T is minutes');
  });
});

describe('computeUntil', () => {
  const cases: {
    name: string;
    spec: Partial<WaitUntil> & { time: string };
    now: string;
    profileTimeZone?: string;
    properties?: Record<string, unknown>;
    until: string;
  }[] = [
    {
      name: 'waits for the next 09:00 in the profile time zone (Paris, winter = UTC+1)',
      spec: { time: '09:00' },
      now: '2026-01-15T10:00:00Z', // 11:00 in Paris: today's 09:00 has passed
      profileTimeZone: 'Europe/Paris',
      until: '2026-01-16T08:00:00Z',
    },
    {
      name: 'waits for today when the time is still ahead (New York, UTC-5)',
      spec: { time: '09:00' },
      now: '2026-01-15T10:00:00Z', // 05:00 in New York
      profileTimeZone: 'America/New_York',
      until: '2026-01-15T14:00:00Z',
    },
    {
      name: 'falls back to UTC when the profile has no time zone',
      spec: { time: '09:00' },
      now: '2026-01-15T10:00:00Z',
      until: '2026-01-16T09:00:00Z',
    },
    {
      name: 'falls back to UTC when the profile time zone is not valid',
      spec: { time: '09:00' },
      now: '2026-01-15T10:00:00Z',
      profileTimeZone: 'Nowhere/City',
      until: '2026-01-16T09:00:00Z',
    },
    {
      name: 'a fixed zone ignores the profile',
      spec: { time: '18:30', timezone: 'Asia/Tokyo' },
      now: '2026-01-15T00:00:00Z',
      profileTimeZone: 'Europe/Paris',
      until: '2026-01-15T09:30:00Z',
    },
    {
      name: 'follows daylight saving time (Paris summer = UTC+2)',
      spec: { time: '09:00' },
      now: '2026-07-01T12:00:00Z',
      profileTimeZone: 'Europe/Paris',
      until: '2026-07-02T07:00:00Z',
    },
    {
      // 2026-03-29 02:30 does not exist in Paris (02:00 → 03:00).
      name: 'a local time skipped by the spring-forward jump moves forward by the jump',
      spec: { time: '02:30' },
      now: '2026-03-28T12:00:00Z',
      profileTimeZone: 'Europe/Paris',
      until: '2026-03-29T01:30:00Z',
    },
    {
      // Thursday 2026-01-15; the next Monday is 2026-01-19.
      name: 'only on the given weekdays',
      spec: { time: '09:00', weekdays: ['mon'], timezone: 'UTC' },
      now: '2026-01-15T10:00:00Z',
      until: '2026-01-19T09:00:00Z',
    },
    {
      name: 'the day before a date in the entry event, at 09:00 local time',
      spec: { time: '09:00', relativeTo: { property: 'startsAt', days: -1 } },
      now: '2026-01-01T00:00:00Z',
      profileTimeZone: 'America/Los_Angeles',
      properties: { startsAt: '2026-01-20T17:00:00Z' }, // 09:00 in LA on the 20th
      until: '2026-01-19T17:00:00Z',
    },
    {
      name: 'the day of a date late at night in UTC counts in the local zone',
      spec: { time: '09:00', relativeTo: { property: 'startsAt', days: 0 } },
      now: '2026-01-01T00:00:00Z',
      profileTimeZone: 'America/New_York',
      properties: { startsAt: '2026-01-20T03:00:00Z' }, // still the 19th in New York
      until: '2026-01-19T14:00:00Z',
    },
  ];
  for (const { name, spec, now, profileTimeZone, properties = {}, until: expected } of cases) {
    it(name, () => {
      assert.deepEqual(computeUntil(until(spec), { now: at(now), profileTimeZone, properties }), {
        until: expected,
      });
    });
  }

  it('a relative instant already past, or a missing date, ends the wait now with the reason', () => {
    const now = at('2026-01-19T20:00:00Z');
    const spec = until({ time: '09:00', timezone: 'UTC', relativeTo: { property: 'startsAt', days: -1 } });
    assert.deepEqual(computeUntil(spec, { now, properties: { startsAt: '2026-01-20T10:00:00Z' } }), {
      until: '2026-01-19T20:00:00Z',
      reason: 'past',
    });
    assert.deepEqual(computeUntil(spec, { now, properties: {} }), {
      until: '2026-01-19T20:00:00Z',
      reason: 'no_date',
    });
  });

  it('runWait returns the instant as a scheduled outcome going to next', async () => {
    const node: WaitNode = {
      type: 'wait',
      until: until({ time: '09:00', timezone: 'UTC' }),
      next: 'reminder',
    };
    const result = await runWait({
      node,
      nodeId: 'morning',
      now: at('2026-01-15T10:00:00Z'),
      profile: { profileId: 'p', traits: {} },
      state: { profileId: 'p', journeyId: 'j', version: 1, entry: { event: 'E', properties: {} } },
    } as StepContext<WaitNode>);
    assert.deepEqual(result, { outcome: 'scheduled', next: 'reminder', until: '2026-01-16T09:00:00Z' });
  });
});
