import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { graphs, journeyId, journeyTestKit } from './support.js';

/** Each node type on the local stack, with the virtual clock. */

function localClockParts(iso: string, timeZone: string) {
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const parts = Object.fromEntries(
    format.formatToParts(new Date(iso)).map((part) => [part.type, part.value]),
  );
  return `${parts.hour}:${parts.minute}`;
}

describe('journey nodes on the local stack', () => {
  it('email: renders Liquid with profile, event, journey and an escaped html part; skips profiles without email', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey(
      'email',
      {
        t: {
          subject: 'Hi {{ profile.firstName }}, {{ event.item }}',
          html: '<p>{{ event.item }} in {{ journey.id }} v{{ journey.version }}</p><a href="{{ unsubscribe_url }}">u</a>',
          text: '{{ event.item }}',
        },
      },
      (id) => ({
        trigger: { event: `Checkout ${id}` },
        reentry: 'always',
        ...graphs.sendEmail(`${id}-t`),
      }),
    );
    await kit.identify(`a-${id}`, { email: 'ann@example.com', firstName: 'Ann' });
    await kit.track(`a-${id}`, `Checkout ${id}`, { item: '<b>Boots</b>' });
    await kit.track(`nomail-${id}`, `Checkout ${id}`, { item: 'Hat' });
    await kit.identify(`unsub-${id}`, { email: 'u@example.com', unsubscribed: true });
    await kit.track(`unsub-${id}`, `Checkout ${id}`, { item: 'Hat' });

    const outbox = await kit.outbox(id);
    assert.equal(outbox.length, 1);
    const [mail] = outbox;
    assert.equal(mail!.to, 'ann@example.com');
    assert.equal(mail!.from, 'Cairn <no-reply@example.com>');
    assert.equal(mail!.subject, 'Hi Ann, <b>Boots</b>');
    assert.match(mail!.html!, new RegExp(`^<p>&lt;b&gt;Boots&lt;/b&gt; in ${id} v1</p>`));
    assert.match(mail!.html!, /unsubscribe\?p=[^&]+&amp;t=[A-Za-z0-9_-]{43}/);
    assert.equal(mail!.text, '<b>Boots</b>');
    assert.equal(mail!.profileId, await kit.profileId(`a-${id}`));
    assert.equal(mail!.nodeId, 'send');
    assert.equal(mail!.journeyVersion, 1);
    const stats = await kit.stats(id);
    assert.equal(stats.started, 3);
    assert.equal(stats.nodes.send.entered, 3);
    assert.equal(stats.nodes.send.sent, 1);
    assert.equal(stats.nodes.send.skipped, 2);
    assert.equal(stats.nodes.send.delivered, 1);
    assert.equal(stats.nodes.done.completed, 3);
    const messages = await kit.api.get(`/messages?profileId=${await kit.profileId(`a-${id}`)}`);
    assert.equal(messages.status, 200);
    assert.deepEqual(
      messages.body.messages[0].history.map((h: { status: string }) => h.status),
      ['sending', 'sent', 'delivered'],
    );
  });

  it('email feedback: a bounce is recorded on the message and in the node stats', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey('bounce', { t: { subject: 'hello', text: 'hello' } }, (id) => ({
      trigger: { event: `Bounce ${id}` },
      ...graphs.sendEmail(`${id}-t`),
    }));
    const user = `b-${id}`;
    await kit.identify(user, { email: 'bounce@simulator.amazonses.com' });
    await kit.track(user, `Bounce ${id}`);
    await kit.advance('PT1S');
    const stats = await kit.stats(id);
    assert.equal(stats.nodes.send.sent, 1);
    assert.equal(stats.nodes.send.bounced, 1);
    assert.equal(stats.nodes.send.delivered, 0);
    const messages = await kit.api.get(`/messages?profileId=${await kit.profileId(user)}&journeyId=${id}`);
    assert.equal(messages.body.messages[0].status, 'bounced');
  });

  it('wait for a duration: nothing before it has passed, the next node right after', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey('wait', { t: { subject: 'later', text: 'later' } }, (id) => ({
      trigger: { event: `Started ${id}` },
      ...graphs.waitThenEmail(`${id}-t`, { for: 'PT2H' }),
    }));
    await kit.identify(`w-${id}`, { email: 'w@example.com' });
    await kit.track(`w-${id}`, `Started ${id}`);
    await kit.advance('PT1H59M');
    assert.equal((await kit.outbox(id)).length, 0);
    assert.equal((await kit.stats(id)).nodes.pause.waiting, 1);
    await kit.advance('PT2M');
    assert.equal((await kit.outbox(id)).length, 1);
    const stats = await kit.stats(id);
    assert.equal(stats.nodes.pause.waiting, 0);
    assert.equal(stats.nodes.pause.completed, 1);
  });

  it('wait until 09:00 in the profile time zone, for two time zones', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey('until', { t: { subject: 'morning', text: 'good morning' } }, (id) => ({
      trigger: { event: `Joined ${id}` },
      start: 'morning',
      nodes: {
        morning: { type: 'wait', until: { time: '09:00' }, next: 'send' },
        send: { type: 'email', template: `${id}-t`, next: 'done' },
        done: { type: 'exit' },
      },
    }));
    await kit.identify(`paris-${id}`, { email: 'paris@example.com', timezone: 'Europe/Paris' });
    await kit.identify(`ny-${id}`, { email: 'ny@example.com', timezone: 'America/New_York' });
    await kit.track(`paris-${id}`, `Joined ${id}`);
    await kit.track(`ny-${id}`, `Joined ${id}`);
    assert.equal((await kit.outbox(id)).length, 0);
    await kit.advance('P1DT1M');
    const outbox = await kit.outbox(id);
    assert.equal(outbox.length, 2);
    const paris = outbox.find((m) => m.to === 'paris@example.com')!;
    const ny = outbox.find((m) => m.to === 'ny@example.com')!;
    assert.equal(localClockParts(paris.sentAt, 'Europe/Paris'), '09:00');
    assert.equal(localClockParts(ny.sentAt, 'America/New_York'), '09:00');
    assert.notEqual(paris.sentAt, ny.sentAt);
  });

  describe('waitFor', () => {
    async function setup() {
      const kit = await journeyTestKit();
      const id = await kit.journey(
        'waitfor',
        { yes: { subject: 'thanks', text: 'thanks' }, no: { subject: 'reminder', text: 'reminder' } },
        (id) => ({
          trigger: { event: `Cart ${id}` },
          reentry: 'always',
          start: 'bought',
          nodes: {
            bought: {
              type: 'waitFor',
              event: `Order ${id}`,
              match: ['cartId'],
              timeout: 'PT1H',
              // biome-ignore lint/suspicious/noThenProperty: the waitFor node's field is named `then`
              then: 'thanks',
              else: 'reminder',
            },
            thanks: { type: 'email', template: `${id}-yes`, next: 'done' },
            reminder: { type: 'email', template: `${id}-no`, next: 'done' },
            done: { type: 'exit' },
          },
        }),
      );
      const user = `u-${id}`;
      await kit.identify(user, { email: `${user}@example.com` });
      await kit.track(user, `Cart ${id}`, { cartId: 'c1' });
      return { kit, id, user };
    }

    it('resumes on the awaited event with the same match keys: then path', async () => {
      const { kit, id, user } = await setup();
      assert.equal((await kit.stats(id)).nodes.bought.waiting, 1);
      await kit.track(user, `Order ${id}`, { cartId: 'c1' });
      const outbox = await kit.outbox(id);
      assert.deepEqual(
        outbox.map((m) => m.subject),
        ['thanks'],
      );
      const stats = await kit.stats(id);
      assert.equal(stats.nodes.bought.waiting, 0);
      assert.equal(stats.nodes.bought.resumed, 1);
      assert.equal(stats.nodes.thanks.sent, 1);
    });

    it('times out into the else path', async () => {
      const { kit, id } = await setup();
      await kit.advance('PT59M');
      assert.equal((await kit.outbox(id)).length, 0);
      await kit.advance('PT2M');
      assert.deepEqual(
        (await kit.outbox(id)).map((m) => m.subject),
        ['reminder'],
      );
      const stats = await kit.stats(id);
      assert.equal(stats.nodes.bought.timedOut, 1);
      assert.equal(stats.nodes.bought.waiting, 0);
    });

    it('ignores an awaited event with another correlation value', async () => {
      const { kit, id, user } = await setup();
      await kit.track(user, `Order ${id}`, { cartId: 'other' });
      assert.equal((await kit.outbox(id)).length, 0);
      assert.equal((await kit.stats(id)).nodes.bought.waiting, 1);
      await kit.advance('PT61M');
      assert.deepEqual(
        (await kit.outbox(id)).map((m) => m.subject),
        ['reminder'],
      );
    });

    it('resumes across an identity merge: started anonymously, awaited event with the userId', async () => {
      const { kit, id } = await setup();
      const anon = `anon-${id}`;
      const user = `merged-${id}`;
      await kit.api.post('/v1/identify', { anonymousId: anon, traits: { email: 'anon@example.com' } });
      await kit.api.post('/v1/track', {
        anonymousId: anon,
        event: `Cart ${id}`,
        properties: { cartId: 'c9' },
      });
      await kit.advance('PT1S');
      await kit.api.post('/v1/identify', { anonymousId: anon, userId: user, traits: {} });
      await kit.advance('PT1S');
      await kit.track(user, `Order ${id}`, { cartId: 'c9' });
      const mine = (await kit.outbox(id)).filter((m) => m.to === 'anon@example.com');
      assert.deepEqual(
        mine.map((m) => m.subject),
        ['thanks'],
      );
    });
  });

  it('branch: the first matching case wins, else default; update sets and increments traits', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey(
      'branch',
      { pro: { subject: 'pro', text: 'pro' }, free: { subject: 'free', text: 'free' } },
      (id) => ({
        trigger: { event: `Visit ${id}` },
        reentry: 'always',
        start: 'mark',
        nodes: {
          mark: { type: 'update', set: { seen: true }, increment: { visits: 2 }, next: 'plan' },
          plan: {
            type: 'branch',
            cases: [{ when: { traits: { plan: ['pro'] } }, next: 'pro' }],
            default: 'free',
          },
          pro: { type: 'email', template: `${id}-pro`, next: 'done' },
          free: { type: 'email', template: `${id}-free`, next: 'done' },
          done: { type: 'exit' },
        },
      }),
    );
    await kit.identify(`pro-${id}`, { email: 'pro@example.com', plan: 'pro', visits: 1 });
    await kit.identify(`free-${id}`, { email: 'free@example.com', plan: 'free' });
    await kit.track(`pro-${id}`, `Visit ${id}`);
    await kit.track(`free-${id}`, `Visit ${id}`);
    const outbox = await kit.outbox(id);
    assert.equal(outbox.find((m) => m.to === 'pro@example.com')?.subject, 'pro');
    assert.equal(outbox.find((m) => m.to === 'free@example.com')?.subject, 'free');
    const profile = await kit.api.get(`/profiles/${await kit.profileId(`pro-${id}`)}`);
    assert.equal(profile.body.traits.seen, true);
    assert.equal(profile.body.traits.visits, 3);
    const stats = await kit.stats(id);
    assert.equal(stats.nodes.plan.branches['case 0: pro'], 1);
    assert.equal(stats.nodes.plan.branches.default, 1);
  });

  it('split: stable per profile, a holdout branch sends nothing', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey('split', { t: { subject: 'offer', text: 'offer' } }, (id) => ({
      trigger: { event: `Offer ${id}` },
      reentry: 'always',
      start: 'ab',
      nodes: {
        ab: {
          type: 'split',
          branches: [
            { weight: 50, next: 'send', name: 'treatment' },
            { weight: 50, next: 'control', holdout: true, name: 'control' },
          ],
        },
        send: { type: 'email', template: `${id}-t`, next: 'done' },
        control: { type: 'email', template: `${id}-t`, next: 'done' },
        done: { type: 'exit' },
      },
    }));
    const users = Array.from({ length: 12 }, (_, i) => `s${i}-${id}`);
    for (const user of users) await kit.identify(user, { email: `${user}@example.com` });
    for (const user of users) await kit.track(user, `Offer ${id}`);
    for (const user of users) await kit.track(user, `Offer ${id}`);
    const stats = await kit.stats(id);
    const { treatment = 0, control = 0 } = stats.nodes.ab.branches;
    assert.equal(treatment + control, 24);
    assert.equal(treatment % 2, 0, 'the same profile takes the same branch every time');
    assert.equal(stats.nodes.control.skipped, control);
    assert.equal((await kit.outbox(id)).length, treatment);
  });

  it('webhook: POSTs JSON and records the response status', async () => {
    const kit = await journeyTestKit();
    const id = journeyId('hook');
    const received: { body: unknown; contentType?: string }[] = [];
    let failuresLeft = 1;
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        if (failuresLeft-- > 0) {
          response.writeHead(503).end();
          return;
        }
        received.push({ body: JSON.parse(body), contentType: request.headers['content-type'] });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      await kit.publish({
        id,
        trigger: { event: `Hook ${id}` },
        start: 'call',
        nodes: {
          call: { type: 'webhook', url: `http://127.0.0.1:${port}/hook`, retries: 2, next: 'done' },
          done: { type: 'exit' },
        },
      });
      await kit.track(`h-${id}`, `Hook ${id}`, { orderId: 'o1' });
      await kit.advance('PT1M');
      assert.equal(received.length, 1, 'one delivery after one retried 503');
      const body = received[0]!.body as { journeyId: string; event: { properties: unknown } };
      assert.equal(body.journeyId, id);
      assert.deepEqual(body.event.properties, { orderId: 'o1' });
      assert.equal(received[0]!.contentType, 'application/json');
      const stats = await kit.stats(id);
      assert.equal(stats.nodes.call.completed, 1);
      const pid = await kit.profileId(`h-${id}`);
      const timeline = await kit.api.get(`/profiles/${pid}/timeline`);
      const step = timeline.body.entries.find((e: { nodeId?: string }) => e.nodeId === 'call');
      assert.equal(step.outcome, 'delivered');
    } finally {
      server.close();
    }
  });
});
