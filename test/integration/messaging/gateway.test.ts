import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ManualClock } from '../../../shared/clock.js';
import type { ChannelAdapter, ChannelMessage } from '../../../shared/messaging/channel.js';
import { ChannelSendError } from '../../../shared/messaging/channel.js';
import { DynamoMessagingStore } from '../../../shared/messaging/dynamodb.js';
import { type GatewayRequest, sendThroughGateway } from '../../../shared/messaging/gateway.js';
import { suppressionKey } from '../../../shared/messaging/keys.js';
import type { MessagingPolicy } from '../../../shared/messaging/policy.js';
import {
  dynamoMessageStore,
  type MessageStore,
  messageIdFor,
  messageKey,
} from '../../../shared/runtime/message-store.js';
import { createDocumentClient } from '../../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../../shared/store/tables.js';
import { awsClientConfig } from '../../support/local.js';
import { decision } from '../../support/messaging.js';
import { testStack } from '../../support/stack.js';

/** The send gateway's claim on DynamoDB Local: caps, suppression and at-most-once under concurrency. */

let store: DynamoMessagingStore;
let messages: MessageStore;
let client: ReturnType<typeof createDocumentClient>;

before(async () => {
  const { edgeUrl } = await testStack();
  client = createDocumentClient(awsClientConfig(edgeUrl));
  store = new DynamoMessagingStore({
    client,
    profilesTable: tableName(profilesTable, process.env),
    journeysTable: tableName(journeysTable, process.env),
  });
  messages = dynamoMessageStore(client);
});

function recordingAdapter(fail?: (to: string) => ChannelSendError | undefined) {
  const sent: ChannelMessage<string>[] = [];
  const adapter: ChannelAdapter<string> = {
    channel: 'sms',
    addresses: (recipient) =>
      typeof recipient.traits.phone === 'string'
        ? { addresses: [recipient.traits.phone] }
        : { addresses: [], problem: 'no phone number' },
    async send(message) {
      const error = fail?.(message.to);
      if (error) throw error;
      sent.push(message);
      return { providerMessageId: `p-${sent.length}-${randomUUID()}` };
    },
  };
  return { adapter, sent };
}

function request(profileId: string, overrides: Partial<GatewayRequest<string>> = {}): GatewayRequest<string> {
  return {
    channel: 'sms',
    category: 'marketing',
    recipient: { profileId, traits: { phone: `+3361${String(Math.random()).slice(2, 9)}` } },
    heldOut: false,
    journeyId: 'promo',
    journeyVersion: 1,
    executionName: `promo-v1-${randomUUID()}`,
    nodeId: 'text',
    templateId: 'promo-text',
    render: async () => 'Hello',
    summary: (text) => text,
    ...overrides,
  };
}

/** A request to `profileId`, whose profile has these traits. */
function requestTo(
  profileId: string,
  traits: Record<string, unknown>,
  overrides: Partial<GatewayRequest<string>> = {},
): GatewayRequest<string> {
  return request(profileId, { ...overrides, recipient: { profileId, traits } });
}

/** The gateway's dependencies on DynamoDB Local, with this clock and policy. */
function gatewayDeps(clock: ManualClock, policy: MessagingPolicy) {
  return { store, messages, clock, policy: async () => policy, messageIdFor };
}

const capTwoPerDay: MessagingPolicy = { frequencyCaps: [{ channel: 'any', max: 2, per: 'P1D' }], topics: [] };

describe('send gateway on DynamoDB Local', () => {
  it('sends exactly 2 of 20 messages to one customer at the same instant with a cap of 2', async () => {
    const profileId = randomUUID();
    const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
    const { adapter, sent } = recordingAdapter();
    const deps = gatewayDeps(clock, capTwoPerDay);
    const traits = { phone: '+33612345678' };
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => sendThroughGateway(requestTo(profileId, traits), adapter, deps)),
    );
    assert.equal(outcomes.filter((o) => o.outcome === 'sent').length, 2);
    assert.equal(sent.length, 2);
    const skipped = outcomes.filter((o) => o.outcome === 'skipped');
    assert.equal(skipped.length, 18);
    assert.ok(skipped.every((o) => o.outcome === 'skipped' && o.reason === 'frequency_cap'));
    const log = await store.readSendLog(profileId);
    assert.equal(log.sends.sms?.length, 2);

    // The window slides: a day after the first send there is room again.
    clock.set(Date.parse('2026-12-02T12:00:00Z'));
    const next = await sendThroughGateway(requestTo(profileId, traits), adapter, deps);
    assert.equal(next.outcome, 'sent');
  });

  it('sends transactional messages past the cap, and does not count them', async () => {
    const profileId = randomUUID();
    const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
    const { adapter } = recordingAdapter();
    const deps = gatewayDeps(clock, capTwoPerDay);
    const traits = { phone: '+33612345679', unsubscribed: true };
    for (let i = 0; i < 4; i++) {
      const outcome = await sendThroughGateway(
        requestTo(profileId, traits, { category: 'transactional' }),
        adapter,
        deps,
      );
      assert.equal(outcome.outcome, 'sent', 'a receipt goes out even to an unsubscribed customer');
    }
    assert.deepEqual((await store.readSendLog(profileId)).sends, {});
  });

  it('sends at most once per execution and node: a retried step returns the first send', async () => {
    const profileId = randomUUID();
    const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
    const { adapter, sent } = recordingAdapter();
    const deps = gatewayDeps(clock, { frequencyCaps: [], topics: [] });
    const once = request(profileId);
    const [a, b] = await Promise.all([
      sendThroughGateway(once, adapter, deps),
      sendThroughGateway(once, adapter, deps),
    ]);
    assert.equal(sent.length, 1);
    assert.deepEqual([a.outcome, b.outcome], ['sent', 'sent']);
    const record = await client.send(
      new GetCommand({
        TableName: tableName(journeysTable, process.env),
        Key: messageKey(once.executionName, once.nodeId),
      }),
    );
    assert.equal(record.Item?.channel, 'sms');
    assert.equal(record.Item?.status, 'sending', 'sent is written by the step’s final write');
  });

  it('skips a suppressed address for every channel user, even transactional, and keeps the address hashed', async () => {
    const profileId = randomUUID();
    const phone = `+3367${String(Date.now()).slice(-7)}`;
    const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
    const { adapter } = recordingAdapter((to) =>
      to === phone
        ? new ChannelSendError('DESTINATION_PHONE_NUMBER_OPTED_OUT', {
            retryable: false,
            suppress: 'opted_out',
          })
        : undefined,
    );
    const deps = gatewayDeps(clock, { frequencyCaps: [], topics: [] });
    const traits = { phone };
    const first = await sendThroughGateway(requestTo(profileId, traits), adapter, deps);
    assert.deepEqual(first.outcome === 'skipped' && first.reason, 'suppressed');
    const again = await sendThroughGateway(
      request(randomUUID(), { category: 'transactional', recipient: { profileId: randomUUID(), traits } }),
      adapter,
      deps,
    );
    assert.deepEqual(decision(again), {
      outcome: 'skipped',
      reason: 'suppressed',
      detail: 'sms address suppressed',
    });
    const [found] = await store.suppressions([{ channel: 'sms', address: phone }]);
    assert.equal(found?.reason, 'opted_out');
    const raw = await client.send(
      new GetCommand({ TableName: tableName(profilesTable, process.env), Key: suppressionKey('sms', phone) }),
    );
    assert.equal(raw.Item?.reason, 'opted_out');
    assert.ok(!JSON.stringify(raw.Item).includes(phone.slice(1)), 'no phone number in the item');
    await store.unsuppress('sms', phone);
    assert.deepEqual(await store.suppressions([{ channel: 'sms', address: phone }]), []);
  });

  it('holds marketing in quiet hours until the window ends in the customer’s zone, or skips it', async () => {
    const clock = new ManualClock(Date.parse('2026-12-01T22:30:00Z')); // 07:30 in Tokyo, 23:30 in Paris
    const { adapter, sent } = recordingAdapter();
    const quiet = { start: '21:00', end: '08:00', fallbackTimezone: 'UTC', action: 'hold' as const };
    const deps = gatewayDeps(clock, { frequencyCaps: [], topics: [], quietHours: quiet });
    const paris = randomUUID();
    const inParis = { phone: '+33600000001', timezone: 'Europe/Paris' };
    const held = await sendThroughGateway(requestTo(paris, inParis), adapter, deps);
    assert.deepEqual(decision(held), {
      outcome: 'held',
      until: '2026-12-02T07:00:00.000Z',
      reason: 'quiet_hours',
    });
    const tokyo = randomUUID();
    const tokyoHeld = await sendThroughGateway(
      requestTo(tokyo, { phone: '+81900000001', timezone: 'Asia/Tokyo' }),
      adapter,
      deps,
    );
    assert.deepEqual(decision(tokyoHeld), {
      outcome: 'held',
      until: '2026-12-01T23:00:00.000Z',
      reason: 'quiet_hours',
    });
    const receipt = await sendThroughGateway(
      requestTo(paris, inParis, { category: 'transactional' }),
      adapter,
      deps,
    );
    assert.equal(receipt.outcome, 'sent', 'a receipt is never held');
    assert.equal(sent.length, 1);
    const skipDeps = {
      ...deps,
      policy: async () => ({
        frequencyCaps: [],
        topics: [],
        quietHours: { ...quiet, action: 'skip' as const },
      }),
    };
    const skipped = await sendThroughGateway(requestTo(paris, inParis), adapter, skipDeps);
    assert.deepEqual(decision(skipped), {
      outcome: 'skipped',
      reason: 'quiet_hours',
      detail: 'quiet in Europe/Paris',
    });
  });

  it('skips with the reason before rendering: no address, unsubscribed from the topic, holdout', async () => {
    const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
    let renders = 0;
    const { adapter } = recordingAdapter();
    const deps = gatewayDeps(clock, { frequencyCaps: [], topics: [] });
    const id = randomUUID();
    const render = async () => {
      renders++;
      return 'x';
    };
    assert.deepEqual(decision(await sendThroughGateway(requestTo(id, {}, { render }), adapter, deps)), {
      outcome: 'skipped',
      reason: 'no_address',
      detail: 'no phone number',
    });
    const topicOff = { phone: '+33600000002', unsubscribedTopics: ['offers'] };
    assert.deepEqual(
      decision(await sendThroughGateway(requestTo(id, topicOff, { topic: 'offers', render }), adapter, deps)),
      { outcome: 'skipped', reason: 'unsubscribed' },
    );
    assert.deepEqual(await sendThroughGateway(request(id, { heldOut: true, render }), adapter, deps), {
      outcome: 'skipped',
      reason: 'holdout',
    });
    assert.equal(renders, 0);
  });
  it('gives held and skipped messages a record: held, held again, then claimed and sent on one history; skipped over a hold; none for a holdout', async () => {
    const clock = new ManualClock(Date.parse('2026-12-01T22:30:00Z')); // 23:30 in Paris: quiet
    const { adapter, sent } = recordingAdapter();
    const quiet = { start: '21:00', end: '08:00', fallbackTimezone: 'UTC', action: 'hold' as const };
    const deps = gatewayDeps(clock, { frequencyCaps: [], topics: [], quietHours: quiet });
    const journeyId = `rec-${randomUUID().slice(0, 8)}`;
    const profileId = randomUUID();
    const recipient = { profileId, traits: { phone: '+33600000003', timezone: 'Europe/Paris' } };
    const once = request(profileId, { journeyId, recipient });
    /** The step's final write of the record (RuntimeStore.writeStep makes the same update in its transaction). */
    const write = async (outcome: Awaited<ReturnType<typeof sendThroughGateway>>) => {
      const record = outcome.outcome === 'sent' ? outcome.sent : outcome.record;
      assert.ok(record, `a record write for ${outcome.outcome}`);
      return messages.updateMessage(record.key, record.change);
    };

    const held = await sendThroughGateway(once, adapter, deps);
    assert.equal(held.outcome, 'held');
    await write(held);
    let record = await messages.getMessage(once.executionName, 'text');
    assert.equal(record?.status, 'held');
    assert.equal(record?.reason, 'quiet_hours');
    assert.equal(record?.channel, 'sms');
    assert.equal(record?.messageId, messageIdFor(once.executionName, 'text'));
    assert.equal(record?.history[0]?.detail, 'quiet_hours until 2026-12-02T07:00:00.000Z');
    const createdAt = record?.createdAt;

    clock.advance(30 * 60_000); // still quiet: held again, the same record
    await write(await sendThroughGateway(once, adapter, deps));
    clock.set(Date.parse('2026-12-02T07:00:00Z'));
    const sentOutcome = await sendThroughGateway(once, adapter, deps);
    assert.equal(sentOutcome.outcome, 'sent');
    await write(sentOutcome);
    record = await messages.getMessage(once.executionName, 'text');
    assert.equal(record?.status, 'sent');
    assert.equal(record?.reason, undefined, 'the hold reason goes with the claim');
    assert.equal(record?.createdAt, createdAt);
    assert.deepEqual(
      record?.history.map((entry) => entry.status),
      ['held', 'held', 'sending', 'sent'],
    );
    assert.equal(sent.length, 1);
    const listed = await messages.listJourneyMessages(journeyId, { limit: 10 });
    assert.deepEqual(
      listed.messages.map((m) => [m.executionName, m.status]),
      [[once.executionName, 'sent']],
      'one record in the journey index',
    );

    // A retried step that would now skip leaves the sent record alone.
    const late = await sendThroughGateway(once, adapter, {
      ...deps,
      policy: async () => ({ frequencyCaps: [], topics: [], quietHours: { ...quiet, action: 'skip' } }),
    });
    assert.equal(late.outcome, 'sent', 'the claim finds the first send');

    // Held, then skipped when it runs again (the policy now skips in quiet hours).
    clock.set(Date.parse('2026-12-02T22:00:00Z'));
    const other = request(profileId, { journeyId, recipient });
    await write(await sendThroughGateway(other, adapter, deps));
    const skipped = await sendThroughGateway(other, adapter, {
      ...deps,
      policy: async () => ({ frequencyCaps: [], topics: [], quietHours: { ...quiet, action: 'skip' } }),
    });
    await write(skipped);
    record = await messages.getMessage(other.executionName, 'text');
    assert.equal(record?.status, 'skipped');
    assert.equal(record?.reason, 'quiet_hours');
    assert.deepEqual(
      record?.history.map((entry) => [entry.status, entry.detail]),
      [
        ['held', 'quiet_hours until 2026-12-03T07:00:00.000Z'],
        ['skipped', 'quiet_hours: quiet in Europe/Paris'],
      ],
    );

    const holdout = await sendThroughGateway(request(profileId, { journeyId, heldOut: true }), adapter, deps);
    assert.equal(holdout.outcome === 'skipped' && holdout.record, undefined, 'a holdout gets no message');
  });
});
