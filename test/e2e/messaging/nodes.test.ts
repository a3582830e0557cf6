import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localTime } from '../../../shared/journeys/timezone.js';
import { assertNodesAddUp } from '../../support/stats.js';
import { journeyId, kitKeepingMessagingPolicy } from '../journeys/support.js';

/**
 * sms and push nodes through the send gateway on the local stack, in real journeys: parts, two
 * devices, a frequency cap on one channel, quiet hours `hold` as a Wait of the execution, bad
 * input skipped with its reason, and the stats (skippedBy, held) adding up.
 */

const files = kitKeepingMessagingPolicy();

describe('sms and push nodes through the gateway', () => {
  it('sends, holds for quiet hours (a Wait, then sent), caps per channel, skips bad addresses; stats add up', async () => {
    const id = journeyId('msgn');
    // Quiet hours for push only, now in Tokyo and not in the fallback zone (other tests' customers).
    const now = await files.kit.clockNow();
    const tokyo = localTime(now, 'Asia/Tokyo');
    const pad = (n: number) => String(n).padStart(2, '0');
    const start = `${pad(tokyo.hour)}:00`;
    const end = `${pad((tokyo.hour + 2) % 24)}:00`;
    const put = await files.kit.api.put('/messaging/policy', {
      frequencyCaps: [{ channel: 'sms', max: 1, per: 'P1D' }],
      quietHours: { start, end, fallbackTimezone: 'America/New_York', action: 'hold', channels: ['push'] },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));

    await files.kit.api.put(`/templates/${id}-sms`, {
      channel: 'sms',
      text: 'Hi {{ profile.firstName }} ✓ your cart {{ event.cartId }} is waiting for you, come back soon: it is kept for three more days!',
    });
    await files.kit.api.put(`/templates/${id}-push`, {
      channel: 'push',
      title: 'Hello {{ profile.firstName }}',
      body: 'Your cart',
      data: { cart: '{{ event.cartId }}' },
    });
    const nodes = {
      text: { type: 'sms', template: `${id}-sms`, next: 'buzz' },
      buzz: { type: 'push', template: `${id}-push`, next: 'done' },
      done: { type: 'exit' },
    };
    await files.kit.publish({
      id,
      trigger: { event: `Cart ${id}` },
      reentry: 'always',
      start: 'text',
      nodes,
    });

    const ann = `ann-${id}`;
    await files.kit.identify(ann, { firstName: 'Ann', phone: '+33612345678', timezone: 'Asia/Tokyo' });
    for (const token of ['tok-a', 'tok-b'])
      await files.kit.track(
        ann,
        `Seen ${id}`,
        {},
        { context: { device: { token: `${token}-${id}`, type: 'ios' } } },
      );
    await files.kit.identify(`bad-${id}`, { firstName: 'Bo', phone: '06 12 34 56 78' });
    await files.kit.track(ann, `Cart ${id}`, { cartId: 'c1' });
    await files.kit.track(`bad-${id}`, `Cart ${id}`, { cartId: 'c2' });
    await files.kit.track(`none-${id}`, `Cart ${id}`, { cartId: 'c3' });
    // Ann again the same day: the sms cap (1 per P1D) skips the text.
    await files.kit.track(ann, `Cart ${id}`, { cartId: 'c4' });

    const sms = (await files.kit.outbox(id)).filter((m) => (m as { channel?: string }).channel === 'sms');
    assert.equal(sms.length, 1);
    const text = sms[0] as unknown as { to: string; text: string; parts: number; encoding: string };
    assert.equal(text.to, '+33612345678');
    assert.match(text.text, /^Hi Ann ✓ your cart c1/);
    assert.deepEqual([text.encoding, text.parts], ['UCS-2', 2]);

    let stats = await files.kit.stats(id);
    assert.equal(stats.nodes.text.sent, 1);
    assert.equal(stats.nodes.text.parts, 2);
    assert.equal(stats.nodes.text.skipped, 3);
    assert.equal(stats.nodes.text.skippedBy.no_address, 2);
    assert.equal(stats.nodes.text.skippedBy.frequency_cap, 1);
    // Ann's two pushes are held (quiet in Tokyo); the others have no device.
    assert.equal(stats.nodes.buzz.held, 2);
    assert.equal(stats.nodes.buzz.heldBy.quiet_hours, 2);
    assert.equal(stats.nodes.buzz.waiting, 2);
    assert.equal(stats.nodes.buzz.skippedBy.no_address, 2);
    assertNodesAddUp(stats, 'while held');
    assert.equal(
      (await files.kit.outbox(id)).filter((m) => (m as { channel?: string }).channel === 'push').length,
      0,
    );

    await files.kit.advance('PT2H');
    const pushes = (await files.kit.outbox(id)).filter((m) => (m as { channel?: string }).channel === 'push');
    // Two executions × two devices.
    assert.equal(pushes.length, 4);
    assert.deepEqual(new Set(pushes.map((m) => m.to)), new Set([`tok-a-${id}`, `tok-b-${id}`]));
    assert.equal((pushes[0] as unknown as { title: string }).title, 'Hello Ann');
    stats = await files.kit.stats(id);
    assert.equal(stats.nodes.buzz.sent, 2);
    assert.equal(stats.nodes.buzz.waiting, 0);
    assert.equal(stats.nodes.done.completed, 4);
    assertNodesAddUp(stats, 'after the hold');

    const messages = await files.kit.api.get(
      `/messages?profileId=${await files.kit.profileId(ann)}&journeyId=${id}`,
    );
    // Every message has a record, sent or not: the capped text is `skipped` with its reason, the
    // pushes were `held` before they went.
    type Listed = { channel: string; status: string; reason?: string; history: { status: string }[] };
    const listed: Listed[] = messages.body.messages;
    // (a delivery receipt may have come back already: delivered is sent and more)
    const sentOrLater = (status: string) => (status === 'delivered' ? 'sent' : status);
    const summary = listed
      .map((m) => `${m.channel} ${sentOrLater(m.status)} ${m.reason ?? ''}`.trim())
      .sort();
    assert.deepEqual(summary, ['push sent', 'push sent', 'sms sent', 'sms skipped frequency_cap']);
    const pushRecord = listed.find((m) => m.channel === 'push') as Listed & { recipients: number };
    assert.equal(pushRecord.recipients, 2);
    assert.deepEqual(
      pushRecord.history.map((entry) => entry.status),
      ['held', 'sending', 'sent'],
    );
  });

  it('a push no device took is `failed` with the platform’s reason (not a skip because one token was dead); the node fails', async () => {
    const id = journeyId('msgf');
    // Over the platforms' 4 KB: SNS refuses the payload for every endpoint (InvalidParameter).
    await files.kit.api.put(`/templates/${id}-push`, {
      channel: 'push',
      title: 'Big',
      body: 'x'.repeat(5000),
    });
    await files.kit.publish({
      id,
      trigger: { event: `Big ${id}` },
      start: 'buzz',
      nodes: { buzz: { type: 'push', template: `${id}-push`, next: 'done' }, done: { type: 'exit' } },
    });
    const user = `pf-${id}`;
    // Newest device first: the live token is tried first, the dead one last.
    for (const token of [`invalid-${id}`, `live-${id}`])
      await files.kit.track(user, `Seen ${id}`, {}, { context: { device: { token, type: 'android' } } });
    await files.kit.track(user, `Big ${id}`);

    const profileId = await files.kit.profileId(user);
    const messages = await files.kit.api.get(`/messages?profileId=${profileId}&journeyId=${id}`);
    assert.equal(messages.body.messages.length, 1, JSON.stringify(messages.body));
    const [record] = messages.body.messages;
    assert.equal(record.status, 'failed');
    assert.equal(record.reason, 'InvalidParameterException');
    assert.deepEqual(
      record.history.map((entry: { status: string }) => entry.status),
      ['sending', 'failed'],
    );
    const stats = await files.kit.stats(id);
    assert.equal(stats.nodes.buzz.failed, 1);
    assert.equal(stats.nodes.buzz.skipped, 0);
    assertNodesAddUp(stats, 'after the failure');
    // The dead token is still suppressed, the live one is not.
    const suppressions = await files.kit.api.get(`/profiles/${profileId}/suppressions`);
    const reasons = suppressions.body.suppressions.map((s: { address: string; reason: string }) => [
      s.address,
      s.reason,
    ]);
    assert.deepEqual(reasons, [[`android:invalid-${id}`, 'invalid_token']]);
    assert.equal((await files.kit.outbox(id)).length, 0);
  });

  it('refuses an unknown topic and a template of another channel, with paths', async () => {
    const id = journeyId('msgv');
    await files.kit.api.put(`/templates/${id}-sms`, { channel: 'sms', text: 'hi' });
    const out = await files.kit.api.put(`/journeys/${id}`, {
      name: id,
      trigger: { event: `V ${id}` },
      start: 'a',
      nodes: {
        a: { type: 'push', template: `${id}-sms`, topic: 'no-such-topic', next: 'done' },
        done: { type: 'exit' },
      },
    });
    assert.equal(out.status, 400);
    const paths = out.body.error.details.issues.map((i: { path: unknown[] }) => i.path.join('.'));
    assert.ok(paths.includes('nodes.a.template'), JSON.stringify(out.body));
    assert.ok(paths.includes('nodes.a.topic'), JSON.stringify(out.body));
  });
});
