/**
 * Send gateway benchmark (`npm run bench:messaging`): requests per message by channel, gateway
 * included (claim transaction, send-log read when caps apply, the provider call), and sends per
 * second through the gateway on the local stack (DynamoDB Local, the edge's SES, SMS and SNS).
 * The step's own profile Query and final transaction are not in these numbers (README: +2 per message).
 * Writes bench/results/messaging.json. BENCH_MESSAGES (default 300) messages per channel and policy.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { countCalls, runtimeCalls } from '../functions/runtime/runtime.js';
import { emailChannel, sesEmailSender } from '../shared/channels/email.js';
import { snsMobilePush } from '../shared/channels/push/sender.js';
import { endUserMessagingSms } from '../shared/channels/sms/sender.js';
import { systemClock } from '../shared/clock.js';
import type { ChannelAdapter } from '../shared/messaging/channel.js';
import { DynamoMessagingStore } from '../shared/messaging/dynamodb.js';
import { sendThroughGateway } from '../shared/messaging/gateway.js';
import { type Channel, type MessagingPolicy, openPolicy } from '../shared/messaging/policy.js';
import { dynamoMessageStore, messageIdFor } from '../shared/runtime/message-store.js';
import { createDocumentClient } from '../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../shared/store/tables.js';
import { startBenchStack } from './support/bench-stack.js';
import { pool, printTable, round } from './support/stats.js';

const perRun = Number(process.env.BENCH_MESSAGES ?? 300);
const concurrency = 16;
const { stack } = await startBenchStack();
const config = {
  endpoint: stack.edgeUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
};
const role = 'bench-messaging';
const client = countCalls(createDocumentClient(config), role, 'DynamoDB');
const store = new DynamoMessagingStore({
  client,
  profilesTable: tableName(profilesTable, process.env),
  journeysTable: tableName(journeysTable, process.env),
});
const messages = dynamoMessageStore(client);
const adapters: Record<Channel, ChannelAdapter<unknown>> = {
  email: emailChannel(
    sesEmailSender(countCalls(new SESv2Client(config), role, 'SES')),
  ) as ChannelAdapter<unknown>,
  sms: endUserMessagingSms(
    countCalls(new PinpointSMSVoiceV2Client(config), role, 'SMS'),
  ) as ChannelAdapter<unknown>,
  push: snsMobilePush(countCalls(new SNSClient(config), role, 'SNS'), {
    applications: { android: 'arn:aws:sns:us-east-1:000000000000:app/GCM/cairn-bench' },
  }) as ChannelAdapter<unknown>,
};
const content: Record<Channel, unknown> = {
  email: { subject: 'Hello', text: 'Hello there' },
  sms: { text: 'Hello there, your cart is waiting' },
  push: { title: 'Hello', body: 'Your cart is waiting' },
};
const capped: MessagingPolicy = { frequencyCaps: [{ channel: 'any', max: 5, per: 'P1D' }], topics: [] };

async function run(channel: Channel, policy: MessagingPolicy) {
  const before = { ...runtimeCalls[role] };
  const started = process.hrtime.bigint();
  let sent = 0;
  await pool(perRun, concurrency, async (i) => {
    const profileId = randomUUID();
    const outcome = await sendThroughGateway(
      {
        channel,
        category: 'marketing',
        recipient: {
          profileId,
          traits: { email: `b${i}@example.com`, phone: `+3361${String(1_000_000 + i).slice(-7)}` },
          devices: [{ token: `bench-${profileId}`, platform: 'android', lastSeen: new Date().toISOString() }],
        },
        heldOut: false,
        journeyId: 'bench',
        journeyVersion: 1,
        executionName: `bench-v1-${profileId}`,
        nodeId: 'send',
        templateId: 'bench',
        render: async () => content[channel],
        summary: () => 'bench',
      },
      adapters[channel],
      { store, messages, clock: systemClock, policy: async () => policy, messageIdFor },
    );
    if (outcome.outcome === 'sent') sent++;
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = runtimeCalls[role] ?? {};
  const perMessage: Record<string, number> = {};
  for (const [name, count] of Object.entries(after)) {
    const delta = count - (before[name] ?? 0);
    if (delta > 0) perMessage[name] = round(delta / perRun);
  }
  const total = Object.values(perMessage).reduce((a, b) => a + b, 0);
  return {
    sent,
    seconds: round(seconds),
    sendsPerSecond: round(sent / seconds, 1),
    perMessage,
    total: round(total),
  };
}

const results: Record<string, unknown> = {};
for (const channel of ['email', 'sms', 'push'] as const) {
  for (const [label, policy] of [
    ['open', openPolicy],
    ['capped', capped],
  ] as const) {
    const result = await run(channel, policy);
    results[`${channel}.${label}`] = result;
    printTable(`${channel}, policy ${label}: ${result.sent}/${perRun} sent`, [
      ['sends/s (16 in flight)', result.sendsPerSecond],
      ['requests per message', result.total],
      ...Object.entries(result.perMessage).map(([name, n]): [string, number] => [`  ${name}`, n]),
    ]);
  }
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/messaging.json',
  `${JSON.stringify({ messagesPerRun: perRun, concurrency, results }, null, 2)}\n`,
);
await stack.stop();
