import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { advanceClock, awsClientConfig, readOutbox } from '../../support/local.js';
import { graphs, journeyId, journeyTestKit } from '../journeys/support.js';

/**
 * A script of curl commands must behave the same on any machine: a read (GET) answers once what was
 * sent before it has been processed, and `POST /local/clock` first lets
 * everything already sent settle (the bus, ingest, the journey starting and reaching its wait),
 * then moves time. Each round sends and advances at once, with no wait in between.
 */
describe('advancing the clock right after sending', () => {
  let kit: Awaited<ReturnType<typeof journeyTestKit>>;
  let events: EventBridgeClient;
  let id: string;
  const rounds = 4;

  before(async () => {
    kit = await journeyTestKit();
    events = new EventBridgeClient(awsClientConfig(kit.edgeUrl));
    id = journeyId('clock-race');
    await kit.template(`${id}-later`, { subject: 'An hour later', text: 'still here' });
    await kit.publish({
      id,
      trigger: { event: `Cart ${id}` },
      ...graphs.waitThenEmail(`${id}-later`, { for: 'PT1H' }),
    });
  });

  after(() => events.destroy());

  async function customer(round: number, via: string): Promise<string> {
    const userId = `${via}-${round}-${id}`;
    await kit.identify(userId, { email: `${userId}@example.com` });
    return userId;
  }

  async function mailsTo(userId: string): Promise<number> {
    return (await readOutbox(kit.httpUrl, { journeyId: id, to: `${userId}@example.com` })).length;
  }

  const senders: { via: string; name: string; send(userId: string): Promise<void> }[] = [
    {
      via: 'http',
      name: 'over HTTP',
      async send(userId) {
        const sent = await kit.api.post('/v1/track', { userId, event: `Cart ${id}` });
        assert.equal(sent.status, 200);
      },
    },
    {
      via: 'bus',
      name: 'with PutEvents',
      async send(userId) {
        const message = { type: 'track', userId, event: `Cart ${id}`, messageId: randomUUID() };
        const put = await events.send(
          new PutEventsCommand({
            Entries: [
              { EventBusName: 'cairn', Source: 'shop', DetailType: 'track', Detail: JSON.stringify(message) },
            ],
          }),
        );
        assert.equal(put.FailedEntryCount, 0);
      },
    },
  ];

  for (const sender of senders) {
    it(`an event sent ${sender.name} has started its journey before time moves`, async () => {
      for (let round = 0; round < rounds; round++) {
        const userId = await customer(round, sender.via);
        await sender.send(userId);
        await advanceClock(kit.httpUrl, 'PT1H1M');
        assert.equal(
          await mailsTo(userId),
          1,
          `round ${round}: the wait of the journey the event started ended`,
        );
      }
    });
  }

  it('a read right after sending sees the profile, the email and the journey it started', async () => {
    const welcome = journeyId('read-race');
    await kit.template(`${welcome}-hello`, { subject: 'Hello now', text: 'hi' });
    await kit.publish({
      id: welcome,
      trigger: { event: `Signed ${welcome}` },
      ...graphs.sendEmail(`${welcome}-hello`),
    });
    for (let round = 0; round < rounds; round++) {
      const userId = `reader-${round}-${welcome}`;
      // No wait between the writes and the reads: each read must settle what came before it.
      assert.equal(
        (await kit.api.post('/v1/identify', { userId, traits: { email: `${userId}@example.com` } })).status,
        200,
      );
      assert.equal((await kit.api.post('/v1/track', { userId, event: `Signed ${welcome}` })).status, 200);
      const mails = await readOutbox(kit.httpUrl, { journeyId: welcome, to: `${userId}@example.com` });
      assert.equal(mails.length, 1, `round ${round}: the email the event started is in the outbox`);
      const profile = await kit.api.get(`/profiles?userId=${encodeURIComponent(userId)}`);
      assert.equal(profile.status, 200, `round ${round}: the profile the identify created is found`);
    }
    const stats = await kit.stats(welcome);
    assert.equal(stats.started, rounds);
  });
});
