import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  consentSkipReason,
  resubscribeTraits,
  unsubscribeTraits,
} from '../../../shared/messaging/consent.js';
import { claimSend, emptySendLog, type SendLog } from '../../../shared/messaging/frequency.js';
import {
  type FrequencyCap,
  messagingPolicySchema,
  type QuietHours,
} from '../../../shared/messaging/policy.js';
import { quietHoursAt } from '../../../shared/messaging/quiet-hours.js';

const at = (iso: string) => Date.parse(iso);
const hours = (n: number) => n * 3_600_000;

describe('messaging policy schema', () => {
  it('takes the documented example and fills defaults', () => {
    const policy = messagingPolicySchema.parse({
      frequencyCaps: [
        { channel: 'any', max: 2, per: 'P1D' },
        { channel: 'sms', max: 4, per: 'P7D' },
      ],
      quietHours: { start: '21:00', end: '08:00' },
    });
    assert.deepEqual(policy.quietHours, {
      start: '21:00',
      end: '08:00',
      fallbackTimezone: 'UTC',
      action: 'hold',
    });
    assert.deepEqual(messagingPolicySchema.parse({}), { frequencyCaps: [], topics: [] });
  });

  it('reports every problem with its path', () => {
    const result = messagingPolicySchema.safeParse({
      frequencyCaps: [
        { channel: 'fax', max: 0, per: 'P1M' },
        { channel: 'any', max: 2, per: 'P1D' },
        { channel: 'any', max: 3, per: 'PT24H' },
      ],
      quietHours: { start: '25:00', end: '08:00', fallbackTimezone: 'Mars/Olympus', action: 'later' },
      extra: true,
    });
    assert.equal(result.success, false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.')).sort();
    assert.deepEqual(paths, [
      '',
      'frequencyCaps.0.channel',
      'frequencyCaps.0.max',
      'frequencyCaps.0.per',
      'quietHours.action',
      'quietHours.fallbackTimezone',
      'quietHours.start',
    ]);
    const duplicate = messagingPolicySchema.safeParse({
      frequencyCaps: [
        { channel: 'any', max: 2, per: 'P1D' },
        { channel: 'any', max: 3, per: 'PT24H' },
      ],
    });
    assert.equal(
      duplicate.error?.issues[0]?.message,
      'same channel and window as frequencyCaps[0]: keep one',
    );
    assert.deepEqual(duplicate.error?.issues[0]?.path, ['frequencyCaps', 1]);
  });
});

describe('quiet hours', () => {
  const quiet: QuietHours = { start: '21:00', end: '08:00', fallbackTimezone: 'UTC', action: 'hold' };

  it('holds until 08:00 the next local morning when the window spans midnight', () => {
    // 22:30 in Paris (winter, UTC+1): quiet until 08:00 Paris = 07:00Z the next day.
    const verdict = quietHoursAt(quiet, 'sms', at('2026-01-15T21:30:00Z'), 'Europe/Paris');
    assert.deepEqual(verdict, { timeZone: 'Europe/Paris', until: at('2026-01-16T07:00:00Z') });
    // 02:00 in Paris: until 08:00 the same day.
    assert.equal(
      quietHoursAt(quiet, 'sms', at('2026-01-16T01:00:00Z'), 'Europe/Paris').until,
      at('2026-01-16T07:00:00Z'),
    );
  });

  it('is open outside the window, start inclusive, end exclusive', () => {
    assert.equal(quietHoursAt(quiet, 'email', at('2026-01-15T12:00:00Z'), 'UTC').until, undefined);
    assert.equal(quietHoursAt(quiet, 'email', at('2026-01-15T08:00:00Z'), 'UTC').until, undefined);
    assert.equal(
      quietHoursAt(quiet, 'email', at('2026-01-15T21:00:00Z'), 'UTC').until,
      at('2026-01-16T08:00:00Z'),
    );
  });

  it('reads the window in each customer’s zone, the fallback when the trait is missing or invalid', () => {
    const now = at('2026-01-15T13:00:00Z'); // 22:00 in Tokyo, 08:00 in New York, 13:00 UTC
    assert.deepEqual(quietHoursAt(quiet, 'push', now, 'Asia/Tokyo'), {
      timeZone: 'Asia/Tokyo',
      until: at('2026-01-15T23:00:00Z'),
    });
    assert.equal(quietHoursAt(quiet, 'push', now, 'America/New_York').until, undefined);
    assert.deepEqual(quietHoursAt(quiet, 'push', now, 'Not/AZone'), { timeZone: 'UTC' });
    const tokyoFallback = { ...quiet, fallbackTimezone: 'Asia/Tokyo' };
    assert.equal(quietHoursAt(tokyoFallback, 'push', now, undefined).timeZone, 'Asia/Tokyo');
  });

  it('keeps local wall-clock hours across a daylight-saving change', () => {
    // Night of 28-29 March 2026 in Paris: clocks go 02:00 → 03:00 (UTC+1 → UTC+2).
    const verdict = quietHoursAt(quiet, 'sms', at('2026-03-28T21:00:00Z'), 'Europe/Paris'); // 22:00 CET
    assert.equal(verdict.until, at('2026-03-29T06:00:00Z'), '08:00 CEST is 06:00Z');
    // Autumn: 24-25 October 2026, 03:00 → 02:00 (UTC+2 → UTC+1).
    const autumn = quietHoursAt(quiet, 'sms', at('2026-10-24T20:00:00Z'), 'Europe/Paris'); // 22:00 CEST
    assert.equal(autumn.until, at('2026-10-25T07:00:00Z'), '08:00 CET is 07:00Z');
  });

  it('applies only to the channels it names', () => {
    const smsOnly = { ...quiet, channels: ['sms' as const] };
    const night = at('2026-01-15T23:00:00Z');
    assert.ok(quietHoursAt(smsOnly, 'sms', night, 'UTC').until);
    assert.equal(quietHoursAt(smsOnly, 'email', night, 'UTC').until, undefined);
  });

  it('handles a window within one day (12:00-14:00)', () => {
    const lunch = { ...quiet, start: '12:00', end: '14:00' };
    assert.equal(
      quietHoursAt(lunch, 'sms', at('2026-01-15T13:00:00Z'), 'UTC').until,
      at('2026-01-15T14:00:00Z'),
    );
    assert.equal(quietHoursAt(lunch, 'sms', at('2026-01-15T23:00:00Z'), 'UTC').until, undefined);
  });
});

describe('frequency caps', () => {
  const twoPerDay: FrequencyCap = { channel: 'any', max: 2, per: 'P1D' };
  const smsFourPerWeek: FrequencyCap = { channel: 'sms', max: 4, per: 'P7D' };
  const t0 = at('2026-01-15T09:00:00Z');

  function sendAll(
    times: number[],
    channel: 'email' | 'sms',
    caps: FrequencyCap[],
    log: SendLog = emptySendLog,
  ) {
    const outcomes: boolean[] = [];
    for (const now of times) {
      const verdict = claimSend(log, caps, channel, now);
      outcomes.push(verdict.allowed);
      if (verdict.allowed) log = verdict.next;
    }
    return { outcomes, log };
  }

  it('allows max sends in any window of length per, then refuses until the oldest leaves it', () => {
    const { outcomes, log } = sendAll([t0, t0 + hours(1), t0 + hours(2)], 'email', [twoPerDay]);
    assert.deepEqual(outcomes, [true, true, false]);
    const refused = claimSend(log, [twoPerDay], 'email', t0 + hours(23));
    assert.equal(refused.allowed, false);
    if (!refused.allowed) {
      assert.equal(refused.retryAt, t0 + hours(24), 'slides: free again when the first send is a day old');
      assert.equal(refused.count, 2);
    }
    assert.equal(claimSend(log, [twoPerDay], 'email', t0 + hours(24)).allowed, true);
  });

  it('counts every channel for `any`, one channel for a channel cap', () => {
    const { log } = sendAll([t0, t0 + 1], 'sms', [smsFourPerWeek]);
    assert.equal(claimSend(log, [twoPerDay], 'email', t0 + 2).allowed, false, 'two sms count for any');
    const weekly = sendAll([t0, t0 + 1, t0 + 2, t0 + 3], 'sms', [smsFourPerWeek]);
    assert.equal(claimSend(weekly.log, [smsFourPerWeek], 'sms', t0 + hours(100)).allowed, false);
    assert.equal(claimSend(weekly.log, [smsFourPerWeek], 'email', t0 + hours(100)).allowed, true);
  });

  it('bumps the version it conditions on and keeps only what caps can need', () => {
    const { log } = sendAll(
      Array.from({ length: 10 }, (_, i) => t0 + hours(30 * i)),
      'email',
      [twoPerDay],
    );
    assert.equal(log.version, 10);
    assert.ok((log.sends.email?.length ?? 0) <= 2, 'no unbounded growth');
  });

  it('allows everything with no caps', () => {
    assert.deepEqual(sendAll([t0, t0, t0, t0], 'sms', []).outcomes, [true, true, true, true]);
  });
});

describe('consent', () => {
  it('stops marketing for all, a channel or a topic', () => {
    assert.equal(consentSkipReason({}, 'email', 'newsletter'), undefined);
    assert.equal(consentSkipReason({ unsubscribed: true }, 'sms', undefined), 'unsubscribed');
    assert.equal(consentSkipReason({ unsubscribedChannels: ['sms'] }, 'sms', undefined), 'unsubscribed');
    assert.equal(consentSkipReason({ unsubscribedChannels: ['sms'] }, 'email', undefined), undefined);
    assert.equal(
      consentSkipReason({ unsubscribedTopics: ['newsletter'] }, 'email', 'newsletter'),
      'unsubscribed',
    );
    assert.equal(consentSkipReason({ unsubscribedTopics: ['newsletter'] }, 'email', 'offers'), undefined);
    assert.equal(consentSkipReason({ smsConsent: false }, 'sms', undefined), 'no_consent');
    assert.equal(consentSkipReason({ consent: { push: false } }, 'push', undefined), 'no_consent');
    assert.equal(consentSkipReason({ emailConsent: false }, 'email', undefined), 'no_consent');
  });

  it('is safe for any trait value, including inherited property names', () => {
    assert.equal(consentSkipReason({ consent: 'yes', unsubscribedTopics: 'x' }, 'email', 'x'), undefined);
    assert.equal(consentSkipReason({ consent: {} }, 'email', 'constructor'), undefined);
  });

  it('writes and undoes unsubscribes idempotently', () => {
    assert.deepEqual(unsubscribeTraits({}, { topic: 'newsletter' }), { unsubscribedTopics: ['newsletter'] });
    assert.deepEqual(unsubscribeTraits({ unsubscribedTopics: ['newsletter'] }, { topic: 'newsletter' }), {});
    assert.deepEqual(unsubscribeTraits({}, { channel: 'sms' }), { unsubscribedChannels: ['sms'] });
    assert.deepEqual(unsubscribeTraits({}, { all: true }), { unsubscribed: true });
    assert.deepEqual(resubscribeTraits({ unsubscribedChannels: ['sms', 'push'] }, { channel: 'sms' }), {
      unsubscribedChannels: ['push'],
    });
    assert.deepEqual(resubscribeTraits({}, { topic: 'x' }), {});
  });
});
