import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { SQSEvent } from 'aws-lambda';
import { type EdgeServer, startEdgeServer } from '../../../infra/local/edge.js';
import {
  createLocalEventBridge,
  type EventEnvelope,
  type LocalEventBridge,
} from '../../../infra/local/eventbridge.js';
import { createLogger } from '../../../shared/log.js';
import type { BusRule } from '../../../shared/routing.js';
import { awsClientConfig } from '../../support/local.js';

const orders: BusRule = {
  name: 'orders',
  eventPattern: { 'detail-type': ['order'] },
  target: 'ingest',
  batchSize: 10,
  maxReceiveCount: 3,
};
const refunds: BusRule = {
  name: 'refunds',
  eventPattern: { source: ['shop'], 'detail-type': ['refund'] },
  target: 'feedback',
  batchSize: 2,
  maxReceiveCount: 2,
};

const audits: BusRule = {
  name: 'audits',
  bus: 'default',
  eventPattern: { 'detail-type': ['audit'] },
  target: 'feedback',
  batchSize: 10,
  maxReceiveCount: 1,
};

type Stub = (event: SQSEvent) => Promise<unknown>;

describe('local EventBridge through the edge, with the real EventBridge client', () => {
  let bus: LocalEventBridge;
  let edge: EdgeServer;
  let client: EventBridgeClient;
  const received: { fn: string; event: SQSEvent }[] = [];
  let target: Stub = async () => ({});

  before(async () => {
    bus = createLocalEventBridge({
      rules: [orders, refunds, audits],
      invoke: (fn, event) => {
        received.push({ fn, event });
        return target(event);
      },
      batchWindowMs: 5,
      retryDelayMs: 5,
      log: createLogger({}, { write: () => {} }),
    });
    edge = await startEdgeServer({ port: 0, services: [bus], log: createLogger({}, { write: () => {} }) });
    client = new EventBridgeClient(awsClientConfig(edge.url));
  });

  after(async () => {
    client.destroy();
    await bus.stop();
    await edge.close();
  });

  beforeEach(() => {
    received.length = 0;
    target = async () => ({});
  });

  const order = (
    detail: Record<string, unknown>,
    extra: Partial<PutEventsRequestEntry> = {},
  ): PutEventsRequestEntry => ({
    EventBusName: 'cairn',
    Source: 'shop',
    DetailType: 'order',
    Detail: JSON.stringify(detail),
    ...extra,
  });

  it('rejects a request with no entries, more than 10, or over 256 KB as ValidationException', async () => {
    await assert.rejects(client.send(new PutEventsCommand({ Entries: [] })), { name: 'ValidationException' });
    const eleven = Array.from({ length: 11 }, (_, i) => order({ i }));
    await assert.rejects(client.send(new PutEventsCommand({ Entries: eleven })), {
      name: 'ValidationException',
    });
    const big = [order({ pad: 'x'.repeat(140_000) }), order({ pad: 'y'.repeat(140_000) })];
    await assert.rejects(client.send(new PutEventsCommand({ Entries: big })), {
      name: 'ValidationException',
      message: /Total size of the entries/,
    });
    await bus.whenIdle();
    assert.equal(received.length, 0);
  });

  it('reports each bad entry with its ErrorCode and accepts the good ones', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          order({ ok: 1 }),
          { EventBusName: 'cairn', DetailType: 'order', Detail: '{}' },
          { EventBusName: 'cairn', Source: 'shop', Detail: '{}' },
          { EventBusName: 'cairn', Source: 'shop', DetailType: 'order' },
          order({}, { Detail: '[1, 2]' }),
          order({}, { Detail: '{not json' }),
          order({}, { Source: 'aws.ses' }),
          order({}, { EventBusName: 'nope' }),
        ],
      }),
    );
    assert.equal(result.FailedEntryCount, 7);
    const entries = result.Entries ?? [];
    assert.match(entries[0]?.EventId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      entries.slice(1).map((e) => e.ErrorCode),
      [
        'InvalidArgument',
        'InvalidArgument',
        'InvalidArgument',
        'MalformedDetail',
        'MalformedDetail',
        'NotAuthorizedForSourceException',
        'ResourceNotFoundException',
      ],
    );
    assert.match(entries[1]?.ErrorMessage ?? '', /Source is a required argument/);
    await bus.whenIdle();
    assert.equal(received.length, 1, 'only the valid entry is delivered');
  });

  it('delivers matching events asynchronously as SQS batches carrying the EventBridge envelope', async () => {
    const time = new Date('2026-03-04T05:06:07Z');
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          order({ orderId: 'o-1' }, { Time: time, Resources: ['arn:x'] }),
          order({ orderId: 'o-2' }, { DetailType: 'other' }),
        ],
      }),
    );
    assert.equal(result.FailedEntryCount, 0);
    await bus.whenIdle();
    assert.equal(received.length, 1);
    const { fn, event } = received[0]!;
    assert.equal(fn, 'cairn-ingest');
    assert.equal(event.Records.length, 1);
    const record = event.Records[0]!;
    assert.equal(record.eventSource, 'aws:sqs');
    assert.equal(record.eventSourceARN, 'arn:aws:sqs:us-east-1:000000000000:orders');
    assert.equal(record.attributes.ApproximateReceiveCount, '1');
    const envelope = JSON.parse(record.body) as EventEnvelope;
    assert.deepEqual(envelope, {
      version: '0',
      id: result.Entries?.[0]?.EventId,
      'detail-type': 'order',
      source: 'shop',
      account: '000000000000',
      time: '2026-03-04T05:06:07Z',
      region: 'us-east-1',
      resources: ['arn:x'],
      detail: { orderId: 'o-1' },
    });
  });

  it('batches up to the rule batch size and delivers every event exactly once', async () => {
    for (let call = 0; call < 3; call++) {
      const entries = Array.from({ length: 10 }, (_, i) => order({ n: call * 10 + i }));
      await client.send(new PutEventsCommand({ Entries: entries }));
    }
    await client.send(
      new PutEventsCommand({ Entries: [0, 1, 2, 3, 4].map((n) => order({ n }, { DetailType: 'refund' })) }),
    );
    await bus.whenIdle();
    const ingest = received.filter((r) => r.fn === 'cairn-ingest');
    const feedback = received.filter((r) => r.fn === 'cairn-feedback');
    assert.ok(ingest.every((r) => r.event.Records.length <= 10));
    assert.ok(feedback.every((r) => r.event.Records.length <= 2));
    const seen = ingest
      .flatMap((r) => r.event.Records.map((rec) => (JSON.parse(rec.body) as EventEnvelope).detail.n))
      .sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(
      seen,
      Array.from({ length: 30 }, (_, i) => i),
    );
    assert.equal(feedback.flatMap((r) => r.event.Records).length, 5);
  });

  it('retries only the records reported in batchItemFailures, then moves them to the DLQ', async () => {
    target = async (event) => ({
      batchItemFailures: event.Records.filter((r) => (JSON.parse(r.body) as EventEnvelope).detail.poison).map(
        (r) => ({ itemIdentifier: r.messageId }),
      ),
    });
    const before = bus.deadLetters().length;
    await client.send(
      new PutEventsCommand({ Entries: [order({ poison: true, id: 'p' }), order({ id: 'fine' })] }),
    );
    await bus.whenIdle();
    const deliveries = received.flatMap((r) =>
      r.event.Records.map((rec) => ({
        id: (JSON.parse(rec.body) as EventEnvelope).detail.id,
        count: rec.attributes.ApproximateReceiveCount,
      })),
    );
    assert.deepEqual(
      deliveries.filter((d) => d.id === 'fine').map((d) => d.count),
      ['1'],
    );
    assert.deepEqual(
      deliveries.filter((d) => d.id === 'p').map((d) => d.count),
      ['1', '2', '3'],
    );
    const letters = bus.deadLetters().slice(before);
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.rule, 'orders');
    assert.equal(letters[0]?.receiveCount, 3);
    assert.match(letters[0]?.reason ?? '', /batchItemFailures/);
    assert.equal((JSON.parse(letters[0]?.body ?? '{}') as EventEnvelope).detail.id, 'p');
  });

  it('fails the whole batch when the handler throws or names an unknown record, and a later success clears it', async () => {
    let calls = 0;
    target = async () => {
      calls++;
      if (calls === 1) throw new Error('database unavailable');
      if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
      return { batchItemFailures: [] };
    };
    const before = bus.deadLetters().length;
    await client.send(new PutEventsCommand({ Entries: [order({ id: 'a' }), order({ id: 'b' })] }));
    await bus.whenIdle();
    const counts = received.flatMap((r) =>
      r.event.Records.map((rec) => rec.attributes.ApproximateReceiveCount),
    );
    assert.deepEqual(counts, ['1', '1', '2', '2', '3', '3']);
    assert.equal(bus.deadLetters().length, before);
  });

  it('dead-letters a whole failing batch with the error as the reason', async () => {
    target = async () => {
      throw new TypeError('handler bug');
    };
    const before = bus.deadLetters().length;
    await client.send(new PutEventsCommand({ Entries: [order({ id: 'x' }, { DetailType: 'refund' })] }));
    await bus.whenIdle();
    const letters = bus.deadLetters().slice(before);
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.rule, 'refunds');
    assert.equal(letters[0]?.receiveCount, 2, 'refunds allow 2 receives');
    assert.equal(letters[0]?.reason, 'TypeError: handler bug');
  });

  it('holds a service event back for its delay and counts it as pending until delivered', async () => {
    bus.publishAsService(
      { EventBusName: 'cairn', Source: 'shop', DetailType: 'refund', Detail: '{"id":"late"}' },
      { delayMs: 30 },
    );
    assert.equal(bus.isIdle(), false);
    await bus.whenIdle();
    const ids = received.flatMap((r) =>
      r.event.Records.map((rec) => (JSON.parse(rec.body) as EventEnvelope).detail.id),
    );
    assert.deepEqual(ids, ['late']);
  });

  it('matches an event only against the rules of its bus; no EventBusName means the default bus', async () => {
    const details = () =>
      received.flatMap((r) =>
        r.event.Records.map((rec) => (JSON.parse(rec.body) as EventEnvelope).detail.id),
      );
    await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'shop', DetailType: 'order', Detail: '{"id":"order-on-default"}' },
          { Source: 'shop', DetailType: 'audit', Detail: '{"id":"audit-on-default"}' },
          order({ id: 'audit-on-cairn' }, { DetailType: 'audit' }),
          order({ id: 'order-on-cairn' }),
        ],
      }),
    );
    await bus.whenIdle();
    assert.deepEqual(details().sort(), ['audit-on-default', 'order-on-cairn']);
  });

  it('with groupBy person, one busy person never holds up another, and their events stay in order, one batch at a time', async () => {
    const people: BusRule = { ...orders, name: 'people', groupBy: 'person', batchSize: 2 };
    const log = createLogger({}, { write: () => {} });
    let busyInFlight = 0;
    let maxBusyInFlight = 0;
    const busyOrder: number[] = [];
    const finished: string[] = [];
    const local = createLocalEventBridge({
      rules: [people],
      batchWindowMs: 1,
      log,
      invoke: async (_fn, event) => {
        const details = event.Records.map((r) => (JSON.parse(r.body) as EventEnvelope).detail);
        const busy = details.filter((d) => d.userId === 'busy');
        if (busy.length > 0) {
          busyInFlight++;
          maxBusyInFlight = Math.max(maxBusyInFlight, busyInFlight);
          await new Promise((resolve) => setTimeout(resolve, 20));
          busyOrder.push(...busy.map((d) => Number(d.n)));
          busyInFlight--;
        }
        for (const d of details) finished.push(String(d.userId));
        return {};
      },
    });
    const entry = (detail: Record<string, unknown>) => ({
      EventBusName: 'cairn',
      Source: 'shop',
      DetailType: 'order',
      Detail: JSON.stringify(detail),
    });
    for (let n = 0; n < 40; n += 10) {
      local.putEvents(Array.from({ length: 10 }, (_, i) => entry({ userId: 'busy', n: n + i })));
    }
    local.putEvents([entry({ userId: 'calm' })]);
    await local.whenIdle();
    await local.stop();
    assert.deepEqual(
      busyOrder,
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.equal(maxBusyInFlight, 1, 'one batch of a person at a time');
    assert.ok(finished.indexOf('calm') < 10, `calm was done after ${finished.indexOf('calm')} busy events`);
  });

  it('answers unknown actions with an AWS-shaped error', async () => {
    const response = await fetch(edge.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.CreateEventBus' },
      body: '{}',
    });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('content-type'), 'application/x-amz-json-1.1');
    const body = (await response.json()) as { __type: string; message: string };
    assert.equal(body.__type, 'UnknownOperationException');
  });
});
