import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OutboxMessage } from '../../../infra/local/ses.js';
import { type LocalStack, startLocalStack } from '../../../infra/local/stack.js';
import { localTime } from '../../../shared/journeys/timezone.js';
import { assertNodesAddUp } from '../../support/stats.js';
import { advanceClock, journeyId, journeyTestKit, waitForIdle } from '../journeys/support.js';

/**
 * When messages go, through real journeys: quiet hours in Europe/Paris on the two nights its clocks
 * change (last Sunday of March and of October), `hold` sending when the window ends in local time and
 * `skip` dropping; `sendAt: best` at the hour the customer opened most, else the node's default.
 *
 * This file runs a stack of its own with a frozen virtual clock (it moves only when told): it jumps
 * months ahead, which the shared stack's other tests must not see.
 */

type Kit = Awaited<ReturnType<typeof journeyTestKit>>;
let stack: LocalStack;
let kit: Kit;

before(async () => {
  process.env.CAIRN_LOG_LEVEL = 'warn';
  stack = await startLocalStack({
    memory: true,
    httpPort: 0,
    edgePort: 0,
    timeScale: 0,
    keepProcessAlive: false,
  });
  kit = await journeyTestKit({ httpUrl: stack.httpUrl, edgeUrl: stack.edgeUrl });
});

after(async () => {
  await stack.stop();
});

/** Moves the virtual clock to `iso` (never back) and lets what fell due run. */
async function advanceTo(iso: string) {
  const ms = Date.parse(iso) - (await kit.clockNow());
  assert.ok(ms >= 0, `the clock is already past ${iso}`);
  await advanceClock(stack.httpUrl, ms);
  await waitForIdle(stack.httpUrl);
}

const paris = 'Europe/Paris';
const hhmm = (iso: string, zone: string) => {
  const t = localTime(Date.parse(iso), zone);
  return `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;
};

async function emailJourney(id: string, node: Record<string, unknown> = {}) {
  await kit.template(`${id}-t`, { subject: `Hello ${id}`, text: 'hello' });
  await kit.publish({
    id,
    trigger: { event: `Go ${id}` },
    reentry: 'always',
    start: 'send',
    nodes: { send: { type: 'email', template: `${id}-t`, ...node, next: 'done' }, done: { type: 'exit' } },
  });
}

async function customer(userId: string, timezone: string) {
  await kit.identify(userId, { email: `${userId}@example.com`, timezone });
  return userId;
}

async function messagesOf(userId: string, id: string) {
  const out = await kit.api.get(`/messages?profileId=${await kit.profileId(userId)}&journeyId=${id}`);
  return out.body.messages as {
    status: string;
    reason?: string;
    history: { status: string; detail?: string }[];
  }[];
}

describe('sendAt: best through a journey', () => {
  it('holds each message until the local hour its customer opened most, else the node’s default time', async () => {
    // December: Paris is UTC+1.
    await advanceTo('2026-12-10T06:00:00Z');
    const hello = journeyId('hello');
    await emailJourney(hello);
    const reader = await customer(`reader-${hello}`, paris);
    await kit.track(reader, `Go ${hello}`);
    const [sent] = await kit.outbox(hello);
    assert.ok(sent);
    // SES reports opens and a click of that email, as its configuration set would: at 19:20 and
    // 19:50 Paris time on two days, and once at 08:10. The customer reads in the 19:00 hour.
    const engagement = (eventType: 'Open' | 'Click', at: string) =>
      stack.bus.publishAsService({
        Source: 'aws.ses',
        DetailType: eventType === 'Open' ? 'Email Opened' : 'Email Clicked',
        Time: at,
        EventBusName: 'default',
        Detail: JSON.stringify({
          eventType,
          mail: {
            messageId: sent.messageId,
            tags: {
              'ses:configuration-set': [(sent as OutboxMessage).configurationSet],
              ...Object.fromEntries(Object.entries(sent.tags).map(([name, value]) => [name, [value]])),
            },
          },
          ...(eventType === 'Open' ? { open: { timestamp: at } } : { click: { timestamp: at, link: 'x' } }),
        }),
      });
    engagement('Open', '2026-12-08T18:20:00Z');
    engagement('Click', '2026-12-09T18:50:00Z');
    engagement('Open', '2026-12-09T07:10:00Z');
    await waitForIdle(stack.httpUrl);
    const history = (await messagesOf(reader, hello))[0]?.history.map((h) => h.status);
    assert.deepEqual(history?.filter((s) => s === 'opened' || s === 'clicked').sort(), [
      'clicked',
      'opened',
      'opened',
    ]);

    const digest = journeyId('digest');
    await emailJourney(digest, { sendAt: { best: true, within: 'P1D', default: '10:00' } });
    const newcomer = await customer(`new-${digest}`, paris);
    await kit.track(reader, `Go ${digest}`);
    await kit.track(newcomer, `Go ${digest}`);
    let stats = await kit.stats(digest);
    assert.deepEqual([stats.nodes.send.heldBy.send_time, stats.nodes.send.waiting], [2, 2]);
    assert.equal((await kit.outbox(digest)).length, 0);

    // 10:00 Paris: the newcomer (no opens yet) gets the default time.
    await advanceTo('2026-12-10T09:00:00Z');
    let out = await kit.outbox(digest);
    assert.deepEqual(
      out.map((m) => [m.to, hhmm(m.sentAt, paris)]),
      [[`${newcomer}@example.com`, '10:00']],
    );
    // 19:00 Paris: the reader, at the start of the hour they read in.
    await advanceTo('2026-12-10T18:00:00Z');
    out = await kit.outbox(digest);
    assert.deepEqual(
      out.map((m) => [m.to, m.sentAt.slice(0, 16), hhmm(m.sentAt, paris)]).sort(),
      [
        [`${newcomer}@example.com`, '2026-12-10T09:00', '10:00'],
        [`${reader}@example.com`, '2026-12-10T18:00', '19:00'],
      ].sort(),
    );
    stats = await kit.stats(digest);
    assert.deepEqual([stats.nodes.send.sent, stats.nodes.send.waiting], [2, 0]);
    assertNodesAddUp(stats, 'sendAt');
    const [record] = await messagesOf(reader, digest);
    assert.deepEqual(
      record?.history.map((h) => h.status),
      ['held', 'sending', 'sent', 'delivered'],
    );
    assert.equal(record?.history[0]?.detail, 'send_time until 2026-12-10T18:00:00.000Z');
  });
});

describe('quiet hours across a daylight-saving change (Europe/Paris)', () => {
  const quiet = { start: '21:00', end: '08:00', fallbackTimezone: 'UTC' };

  it('spring forward: held at 22:00 on Saturday 27 March, sent at 08:00 local on Sunday, 06:00 UTC (not 07:00)', async () => {
    const id = journeyId('dstm');
    await emailJourney(id);
    assert.equal(
      (await kit.api.put('/messaging/policy', { quietHours: { ...quiet, action: 'hold' } })).status,
      200,
    );
    // Saturday 22:00 in Paris (UTC+1); the clocks go to UTC+2 at 02:00 that night.
    await advanceTo('2027-03-27T21:00:00Z');
    const night = await customer(`night-${id}`, paris);
    await kit.track(night, `Go ${id}`);
    const [held] = await messagesOf(night, id);
    assert.equal(held?.status, 'held');
    assert.equal(held?.history[0]?.detail, 'quiet_hours until 2027-03-28T06:00:00.000Z');
    // The execution sleeps in the node's Wait state, no Lambda waiting.
    const [execution] = await kit.executions(id);
    const events = await kit.history(execution!.executionArn!);
    assert.ok(
      events.some((e) => e.type === 'WaitStateEntered' && e.stateEnteredEventDetails?.name === 'send.hold'),
      'a Wait state holds the message',
    );

    await advanceTo('2027-03-28T05:59:59Z');
    assert.equal((await kit.outbox(id)).length, 0, 'still quiet at 07:59:59 local');
    await advanceTo('2027-03-28T06:00:00Z');
    const [sent] = await kit.outbox(id);
    assert.ok(sent, 'sent when the window ends');
    assert.deepEqual([sent.sentAt.slice(0, 16), hhmm(sent.sentAt, paris)], ['2027-03-28T06:00', '08:00']);
    const stats = await kit.stats(id);
    assert.deepEqual([stats.nodes.send.sent, stats.nodes.send.heldBy.quiet_hours], [1, 1]);
    assertNodesAddUp(stats, 'March');
  });

  it('fall back: held at 22:00 on Saturday 30 October, sent at 08:00 local on Sunday, 07:00 UTC (not 06:00); `skip` drops a message for good', async () => {
    const id = journeyId('dsto');
    await emailJourney(id);
    assert.equal(
      (await kit.api.put('/messaging/policy', { quietHours: { ...quiet, action: 'hold' } })).status,
      200,
    );
    // Saturday 22:00 in Paris (UTC+2); the clocks go back to UTC+1 at 03:00 that night.
    await advanceTo('2027-10-30T20:00:00Z');
    const held = await customer(`held-${id}`, paris);
    await kit.track(held, `Go ${id}`);
    assert.equal(
      (await messagesOf(held, id))[0]?.history[0]?.detail,
      'quiet_hours until 2027-10-31T07:00:00.000Z',
    );

    // The same night with `skip`: dropped, not sent when the window ends.
    assert.equal(
      (await kit.api.put('/messaging/policy', { quietHours: { ...quiet, action: 'skip' } })).status,
      200,
    );
    const dropped = await customer(`dropped-${id}`, paris);
    await kit.track(dropped, `Go ${id}`);
    const [skipped] = await messagesOf(dropped, id);
    assert.deepEqual([skipped?.status, skipped?.reason], ['skipped', 'quiet_hours']);

    await advanceTo('2027-10-31T06:59:59Z');
    assert.equal((await kit.outbox(id)).length, 0, 'still quiet at 07:59:59 local');
    // The held message runs again at 08:00 local: outside the window, it goes (whatever the action now).
    await advanceTo('2027-11-01T07:00:00Z');
    const out = await kit.outbox(id);
    assert.deepEqual(
      out.map((m) => [m.to, m.sentAt.slice(0, 16), hhmm(m.sentAt, paris)]),
      [[`${held}@example.com`, '2027-10-31T07:00', '08:00']],
    );
    const stats = await kit.stats(id);
    assert.deepEqual(
      [stats.nodes.send.sent, stats.nodes.send.skippedBy.quiet_hours, stats.nodes.send.heldBy.quiet_hours],
      [1, 1, 1],
    );
    assertNodesAddUp(stats, 'October');
  });
});
