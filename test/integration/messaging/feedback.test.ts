import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SNSClient } from '@aws-sdk/client-sns';
import { snsMobilePush } from '../../../shared/channels/push/sender.js';
import { endUserMessagingSms } from '../../../shared/channels/sms/sender.js';
import { ManualClock } from '../../../shared/clock.js';
import { DynamoMessagingStore } from '../../../shared/messaging/dynamodb.js';
import { type GatewayRequest, sendThroughGateway } from '../../../shared/messaging/gateway.js';
import { messageIdFor } from '../../../shared/runtime/message-store.js';
import { getJourneyStats } from '../../../shared/runtime/queries.js';
import { dynamoRuntimeStore } from '../../../shared/runtime/store.js';
import { createDocumentClient } from '../../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../../shared/store/tables.js';
import { awsClientConfig, waitForIdle } from '../../support/local.js';
import { decision } from '../../support/messaging.js';
import { testStack } from '../../support/stack.js';

/**
 * Feedback into suppression on the local stack, real SDK clients end to end: the gateway sends
 * through the local End User Messaging SMS / SNS, the local SMS publishes its delivery receipt to
 * the default bus, the feedback handler records it (status history, suppression).
 */

let httpUrl: string;
let store: DynamoMessagingStore;
let runtime: ReturnType<typeof dynamoRuntimeStore>;
let sms: PinpointSMSVoiceV2Client;
let sns: SNSClient;

before(async () => {
  const stack = await testStack();
  httpUrl = stack.httpUrl;
  const client = createDocumentClient(awsClientConfig(stack.edgeUrl));
  store = new DynamoMessagingStore({
    client,
    profilesTable: tableName(profilesTable, process.env),
    journeysTable: tableName(journeysTable, process.env),
  });
  runtime = dynamoRuntimeStore(client, { now: () => Date.now() });
  sms = new PinpointSMSVoiceV2Client(awsClientConfig(stack.edgeUrl));
  sns = new SNSClient(awsClientConfig(stack.edgeUrl));
});

after(() => {
  sms.destroy();
  sns.destroy();
});

const deps = () => ({
  store,
  messages: runtime,
  clock: new ManualClock(Date.now()),
  policy: async () => ({ frequencyCaps: [], topics: [] }),
  messageIdFor,
});

function textTo(phone: string): GatewayRequest<{ text: string }> {
  const journeyId = `fb-${randomUUID().slice(0, 8)}`;
  return {
    channel: 'sms',
    category: 'marketing',
    recipient: { profileId: randomUUID(), traits: { phone } },
    heldOut: false,
    journeyId,
    journeyVersion: 1,
    executionName: `${journeyId}-v1-${randomUUID()}`,
    nodeId: 'text',
    templateId: 'promo',
    render: async () => ({ text: 'Hello' }),
    summary: (content) => content.text,
  };
}

/** A number unique to this run that ends with the simulator's digits. */
const numberEnding = (last4: string) => `+336${String(Date.now()).slice(-4)}${last4}`;

describe('SMS delivery receipts', () => {
  const adapter = () => endUserMessagingSms(sms, { configurationSetName: 'cairn' });

  async function sendAndSettle(phone: string) {
    const request = textTo(phone);
    const outcome = await sendThroughGateway(request, adapter(), deps());
    assert.equal(outcome.outcome, 'sent');
    await waitForIdle(httpUrl);
    const message = await runtime.getMessage(request.executionName, request.nodeId);
    return { request, message };
  }

  it('a delivered receipt is recorded on the message; the number stays sendable', async () => {
    const phone = numberEnding('4242');
    const { request, message } = await sendAndSettle(phone);
    assert.deepEqual(
      message?.history.map((h) => h.status),
      ['sending', 'delivered'],
    );
    assert.deepEqual(await store.suppressions([{ channel: 'sms', address: phone }]), []);
    const stats = (await getJourneyStats(runtime, request.journeyId)).nodes;
    assert.equal(stats.text?.delivered, 1);
  });

  it('a permanent failure (TEXT_INVALID) fails the message and suppresses the number for every later send', async () => {
    const phone = numberEnding('0000');
    const { request, message } = await sendAndSettle(phone);
    assert.equal(message?.status, 'failed');
    assert.deepEqual(message?.history.at(-1)?.detail, 'TEXT_INVALID');
    const [suppression] = await store.suppressions([{ channel: 'sms', address: phone }]);
    assert.equal(suppression?.reason, 'permanent_failure');
    assert.ok(Date.parse(suppression?.at ?? '') > 0);
    assert.equal((await getJourneyStats(runtime, request.journeyId)).nodes.text?.failed, 1);
    const again = await sendThroughGateway(
      { ...textTo(phone), category: 'transactional' },
      adapter(),
      deps(),
    );
    assert.deepEqual(decision(again), {
      outcome: 'skipped',
      reason: 'suppressed',
      detail: 'sms address suppressed',
    });
  });

  it('a handset that is off (TEXT_UNREACHABLE) fails the message without suppressing the number', async () => {
    const phone = numberEnding('0002');
    const { message } = await sendAndSettle(phone);
    assert.equal(message?.status, 'failed');
    assert.deepEqual(await store.suppressions([{ channel: 'sms', address: phone }]), []);
  });
});

describe('push: a device token the platform rejects', () => {
  it('suppresses that token only; the customer’s other device still gets the message', async () => {
    const push = snsMobilePush(sns, {
      applications: { android: 'arn:aws:sns:us-east-1:000000000000:app/GCM/cairn-local' },
    });
    const profileId = randomUUID();
    const good = `tok-${randomUUID()}`;
    const dead = `invalid-${randomUUID()}`;
    const devices = [
      { token: dead, platform: 'android' as const, lastSeen: '2026-12-01T00:00:00.000Z' },
      { token: good, platform: 'android' as const, lastSeen: '2026-12-01T00:00:00.000Z' },
    ];
    const request = (): GatewayRequest<{ title: string; body: string }> => ({
      ...textTo('+33600000000'),
      channel: 'push',
      recipient: { profileId, traits: {}, devices },
      render: async () => ({ title: 'Hi', body: 'There' }),
      summary: (content) => content.title,
    });
    const first = await sendThroughGateway(request(), push, deps());
    // `recipients`: the devices that took it (the rejected token did not).
    assert.equal(first.outcome === 'sent' && first.recipients, 1);
    const [suppression] = await store.suppressions([
      { channel: 'push', address: `android:${dead}` },
      { channel: 'push', address: `android:${good}` },
    ]);
    assert.deepEqual(
      { address: suppression?.address, reason: suppression?.reason },
      { address: `android:${dead}`, reason: 'invalid_token' },
    );
    const second = await sendThroughGateway(request(), push, deps());
    assert.equal(second.outcome === 'sent' && second.recipients, 1, 'only the live token is tried');
  });
});
