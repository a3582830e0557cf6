import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localTime } from '../../../shared/journeys/timezone.js';
import { assertNodesAddUp } from '../../support/stats.js';
import { journeyId, kitKeepingMessagingPolicy, uniqueId } from '../journeys/support.js';

/**
 * The messaging policy through real journeys on the local stack: frequency caps on any channel and
 * on one channel, their windows sliding on the virtual clock, what a capped message looks like in
 * stats and history; the transactional category past caps and quiet hours, but never to an address
 * that hard-bounced; quiet hours `skip` dropping a message for good.
 */

const files = kitKeepingMessagingPolicy();

async function setPolicy(policy: Record<string, unknown>) {
  const put = await files.kit.api.put('/messaging/policy', policy);
  assert.equal(put.status, 200, JSON.stringify(put.body));
}

interface Listed {
  channel: string;
  category: string;
  status: string;
  reason?: string;
  history: { status: string; detail?: string }[];
}

async function messagesOf(userId: string, id: string): Promise<Listed[]> {
  const profileId = await files.kit.profileId(userId);
  const out = await files.kit.api.get(`/messages?profileId=${profileId}&journeyId=${id}`);
  assert.equal(out.status, 200, JSON.stringify(out.body));
  return out.body.messages;
}

/** `channel status reason` per message (a delivery receipt already back counts as sent), sorted. */
function summary(messages: Listed[]): string[] {
  const status = (s: string) => (s === 'delivered' ? 'sent' : s);
  return messages.map((m) => `${m.channel} ${status(m.status)} ${m.reason ?? ''}`.trim()).sort();
}

const channelsOf = (messages: readonly object[]) =>
  messages.map((m) => (m as { channel?: string }).channel ?? 'email').sort((a, b) => a.localeCompare(b));

describe('frequency caps through journeys', () => {
  it('caps any channel and one channel over sliding windows; a capped message is skipped in stats and history; transactional is neither capped nor counted', async () => {
    const id = journeyId('caps');
    await setPolicy({
      frequencyCaps: [
        { channel: 'any', max: 2, per: 'P1D' },
        { channel: 'sms', max: 1, per: 'P7D' },
      ],
    });
    await files.kit.template(`${id}-mail`, { subject: 'Deals', text: 'deals' });
    await files.kit.api.put(`/templates/${id}-sms`, { channel: 'sms', text: 'Deals today' });
    await files.kit.api.put(`/templates/${id}-push`, { channel: 'push', title: 'Deals', body: 'today' });
    await files.kit.template(`${id}-receipt`, { subject: 'Your receipt', text: 'thanks' });
    await files.kit.publish({
      id,
      trigger: { event: `Deals ${id}` },
      reentry: 'always',
      start: 'mail',
      nodes: {
        mail: { type: 'email', template: `${id}-mail`, next: 'text' },
        text: { type: 'sms', template: `${id}-sms`, next: 'buzz' },
        buzz: { type: 'push', template: `${id}-push`, next: 'done' },
        done: { type: 'exit' },
      },
    });
    const receipt = `${id}-r`;
    await files.kit.publish({
      id: receipt,
      trigger: { event: `Bought ${id}` },
      reentry: 'always',
      start: 'send',
      nodes: {
        send: { type: 'email', template: `${id}-receipt`, category: 'transactional', next: 'done' },
        done: { type: 'exit' },
      },
    });

    const user = `capped-${id}`;
    await files.kit.identify(user, { email: `${user}@example.com`, phone: '+33611112222' });
    await files.kit.track(
      user,
      `Seen ${id}`,
      {},
      { context: { device: { token: `tok-${id}`, type: 'ios' } } },
    );

    // Day 0: email and SMS fill the `any` cap (2 per P1D); the push is capped.
    await files.kit.track(user, `Deals ${id}`);
    assert.deepEqual(channelsOf(await files.kit.outbox(id)), ['email', 'sms']);

    // 12 hours later, still inside the day: all three capped. A receipt goes anyway.
    await files.kit.advance('PT12H');
    await files.kit.track(user, `Deals ${id}`);
    await files.kit.track(user, `Bought ${id}`);
    assert.equal((await files.kit.outbox(id)).length, 2, 'nothing more of the marketing journey');
    assert.equal((await files.kit.outbox(receipt)).length, 1, 'the transactional receipt past a full cap');

    // A day and a minute after day 0, day 0's sends left the P1D window: the email goes, the SMS is
    // still capped by its own P7D cap, and the push goes as the second `any` send of the window (the
    // receipt 12 hours ago did not count).
    await files.kit.advance('PT12H1M');
    await files.kit.track(user, `Deals ${id}`);
    assert.deepEqual(channelsOf(await files.kit.outbox(id)), ['email', 'email', 'push', 'sms']);

    const stats = await files.kit.stats(id);
    assert.deepEqual(
      [stats.nodes.mail.sent, stats.nodes.mail.skipped, stats.nodes.mail.skippedBy.frequency_cap],
      [2, 1, 1],
    );
    assert.deepEqual(
      [stats.nodes.text.sent, stats.nodes.text.skipped, stats.nodes.text.skippedBy.frequency_cap],
      [1, 2, 2],
    );
    assert.deepEqual(
      [stats.nodes.buzz.sent, stats.nodes.buzz.skipped, stats.nodes.buzz.skippedBy.frequency_cap],
      [1, 2, 2],
    );
    assert.equal(stats.nodes.done.completed, 3, 'a capped message does not stop the journey');
    assertNodesAddUp(stats, 'caps');
    assert.equal((await files.kit.stats(receipt)).nodes.send.sent, 1);

    const messages = await messagesOf(user, id);
    assert.deepEqual(summary(messages), [
      'email sent',
      'email sent',
      'email skipped frequency_cap',
      'push sent',
      'push skipped frequency_cap',
      'push skipped frequency_cap',
      'sms sent',
      'sms skipped frequency_cap',
      'sms skipped frequency_cap',
    ]);
    // The history says which cap: the third SMS met its own cap, not `any`.
    const details = messages
      .filter((m) => m.status === 'skipped')
      .map((m) => `${m.channel}: ${m.history.map((h) => `${h.status} ${h.detail}`).join(', ')}`)
      .sort();
    assert.deepEqual(details, [
      'email: skipped frequency_cap: 2 any in P1D (max 2)',
      'push: skipped frequency_cap: 2 any in P1D (max 2)',
      'push: skipped frequency_cap: 2 any in P1D (max 2)',
      'sms: skipped frequency_cap: 1 sms in P7D (max 1)',
      'sms: skipped frequency_cap: 2 any in P1D (max 2)',
    ]);
    // The timeline says the same: a `message` entry per send, a skipped step with the reason per capped one.
    const timeline = await files.kit.api.get(
      `/profiles/${await files.kit.profileId(user)}/timeline?limit=100`,
    );
    type Entry = { kind: string; journeyId?: string; nodeType?: string; outcome?: string; detail?: string };
    const steps = (timeline.body.entries as Entry[]).filter(
      (e) => e.journeyId === id && ['email', 'sms', 'push'].includes(e.nodeType ?? ''),
    );
    assert.equal(steps.filter((e) => e.kind === 'message').length, 4, JSON.stringify(steps));
    const capped = steps.filter((e) => e.kind === 'journey-step' && e.outcome === 'skipped');
    assert.equal(capped.length, 5, JSON.stringify(steps));
    assert.ok(
      capped.every((e) => /frequency_cap/.test(e.detail ?? '')),
      JSON.stringify(capped),
    );
  });
});

describe('transactional messages and quiet hours through journeys', () => {
  it('transactional goes during quiet hours, never to an address that hard-bounced; marketing in quiet hours with `skip` is dropped for good', async () => {
    const id = journeyId('trx');
    // Quiet now in Tokyo (this test's customers), for two hours, dropping what falls in it.
    const tokyo = localTime(await files.kit.clockNow(), 'Asia/Tokyo');
    const hh = (hour: number) => `${String(hour % 24).padStart(2, '0')}:00`;
    await setPolicy({
      frequencyCaps: [{ channel: 'any', max: 1, per: 'P1D' }],
      quietHours: { start: hh(tokyo.hour), end: hh(tokyo.hour + 2), fallbackTimezone: 'UTC', action: 'skip' },
    });
    await files.kit.template(`${id}-news`, { subject: 'News', text: 'news' });
    await files.kit.template(`${id}-receipt`, { subject: 'Receipt', text: 'thanks' });
    const news = `${id}-n`;
    await files.kit.publish({
      id: news,
      trigger: { event: `News ${id}` },
      reentry: 'always',
      start: 'send',
      nodes: { send: { type: 'email', template: `${id}-news`, next: 'done' }, done: { type: 'exit' } },
    });
    await files.kit.publish({
      id,
      trigger: { event: `Bought ${id}` },
      reentry: 'always',
      start: 'send',
      nodes: {
        send: { type: 'email', template: `${id}-receipt`, category: 'transactional', next: 'done' },
        done: { type: 'exit' },
      },
    });

    const ok = `ok-${id}`;
    const bounced = `bounced-${id}`;
    const bouncing = `bounce+${uniqueId('trx')}@simulator.amazonses.com`;
    await files.kit.identify(ok, { email: `${ok}@example.com`, timezone: 'Asia/Tokyo' });
    await files.kit.identify(bounced, { email: bouncing, timezone: 'Asia/Tokyo' });

    // Marketing in the quiet window: skipped, and still not sent once the window is over.
    await files.kit.track(ok, `News ${id}`);
    // Transactional in the same window, twice (past the cap of 1 as well): both sent.
    await files.kit.track(ok, `Bought ${id}`);
    await files.kit.track(ok, `Bought ${id}`);
    // To the bouncing address: sent, the hard bounce comes back and suppresses it; the next
    // transactional message to it is skipped `suppressed`.
    await files.kit.track(bounced, `Bought ${id}`);
    await files.kit.advance('PT1S');
    await files.kit.track(bounced, `Bought ${id}`);
    await files.kit.advance('PT2H');

    assert.equal((await files.kit.outbox(news)).length, 0, 'the quiet-hours skip is never sent later');
    const receipts = await files.kit.outbox(id);
    assert.deepEqual(
      receipts.map((m) => m.to).sort(),
      [bouncing, `${ok}@example.com`, `${ok}@example.com`].sort(),
    );

    const newsStats = await files.kit.stats(news);
    assert.deepEqual(
      [newsStats.nodes.send.sent, newsStats.nodes.send.skippedBy.quiet_hours, newsStats.nodes.send.held],
      [0, 1, 0],
    );
    assert.deepEqual(summary(await messagesOf(ok, news)), ['email skipped quiet_hours']);

    const stats = await files.kit.stats(id);
    assert.deepEqual(
      [stats.nodes.send.sent, stats.nodes.send.skipped, stats.nodes.send.skippedBy.suppressed],
      [3, 1, 1],
    );
    assertNodesAddUp(stats, 'receipts');
    assert.deepEqual(summary(await messagesOf(ok, id)), ['email sent', 'email sent']);
    const toBounced = await messagesOf(bounced, id);
    assert.deepEqual(summary(toBounced), ['email bounced', 'email skipped suppressed']);
    assert.ok(toBounced.every((m) => m.category === 'transactional'));
    const suppressions = await files.kit.api.get(
      `/profiles/${await files.kit.profileId(bounced)}/suppressions`,
    );
    assert.deepEqual(
      suppressions.body.suppressions.map((s: { address: string; reason: string }) => [s.address, s.reason]),
      [[bouncing, 'hard_bounce']],
    );
  });
});
