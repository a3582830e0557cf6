import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { createIngestHandler } from '../../../functions/ingest/handler.js';
import { ManualClock } from '../../../shared/clock.js';
import { DynamoDeadLetterStore, listDeadLetters } from '../../../shared/events/index.js';
import { randomIds } from '../../../shared/ids.js';
import { memoryLogger } from '../../../shared/log.js';
import {
  DynamoProfileStore,
  type EventReactor,
  eraseProfile,
  findProfile,
  type IngestBatchDeps,
  timeline,
} from '../../../shared/profiles/index.js';
import { unique, useTestDynamo } from '../profiles/dynamo.js';

const dynamo = useTestDynamo();

const context = {} as Context;

function record(body: unknown): SQSRecord {
  return {
    messageId: randomUUID(),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  } as SQSRecord;
}

function envelope(type: string, detail: Record<string, unknown>) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': type,
    source: 'shop',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

function setup(reactor?: EventReactor) {
  // A day of its own per test, so dead-letter listings only show this test's letters.
  const clock = new ManualClock(Date.UTC(2030, 0, 1) + Math.floor(Math.random() * 10_000) * 86_400_000);
  const client = dynamo.documentClient();
  const log = memoryLogger();
  const store = new DynamoProfileStore({ client, tableName: dynamo.profilesTableName, clock });
  const deadLetters = new DynamoDeadLetterStore({ client, tableName: dynamo.journeysTableName, clock });
  const seen: string[] = [];
  const deps: IngestBatchDeps = {
    ingest: { store, clock, ids: randomIds, log },
    parse: { clock, ids: randomIds },
    reactor: reactor ?? {
      onEvent: async ({ event }) => {
        seen.push(event.messageId);
      },
    },
    deadLetters,
    log,
    concurrency: 4,
  };
  const handler = createIngestHandler(deps);
  const day = new Date(clock.now()).toISOString().slice(0, 10);
  return { handler, store, deadLetters, log, seen, day, deps };
}

describe('ingest handler (SQS batch of EventBridge events)', () => {
  test('invalid events go to dead letters with reason and paths; the rest of the batch is ingested', async () => {
    const { handler, store, deadLetters, log, day } = setup();
    const userId = unique('user');
    const good = record(envelope('track', { userId, event: 'Signed Up', messageId: unique('m') }));
    const missingIds = record(envelope('track', { event: 'Signed Up' }));
    const badType = record(envelope('purchase', { userId }));
    const notJson = record('{"detail-type": "track", ');
    const tooBig = record(
      envelope('track', { userId, event: 'Big', properties: { blob: 'x'.repeat(300 * 1024) } }),
    );
    const wrongField = record(envelope('identify', { userId, traits: 'vip', timestamp: 'soon' }));
    const response = await handler(
      { Records: [good, missingIds, badType, notJson, tooBig, wrongField] } as SQSEvent,
      context,
    );
    assert.deepEqual(response, { batchItemFailures: [] });

    const profile = await findProfile(store, { userId });
    assert.equal(profile?.counters.events, 1);

    const { items } = await listDeadLetters(deadLetters, { date: day });
    const byId = new Map(items.map((item) => [item.id, item]));
    assert.equal(items.length, 5);
    assert.equal(byId.get(missingIds.messageId)?.code, 'validation_failed');
    assert.deepEqual(byId.get(missingIds.messageId)?.issues, [
      { path: ['detail', 'userId'], message: 'userId or anonymousId is required' },
    ]);
    assert.deepEqual(
      byId.get(badType.messageId)?.issues.map((i) => i.path),
      [['detail-type']],
    );
    assert.equal(byId.get(notJson.messageId)?.code, 'malformed_json');
    assert.equal(byId.get(tooBig.messageId)?.code, 'payload_too_large');
    assert.ok((byId.get(tooBig.messageId)?.bodyBytes ?? 0) > 300 * 1024);
    assert.equal(
      byId.get(wrongField.messageId)?.reason,
      'detail.timestamp: timestamp must be an ISO-8601 date-time, e.g. 2026-01-31T09:30:00Z; detail.traits: traits must be an object',
    );
    assert.equal(JSON.stringify(log.lines).includes(userId), false, 'no identifiers in logs');
  });

  test('a failing reaction reports that event and the later events of the same person; a redelivery is a duplicate', async () => {
    const failFor = unique('flaky');
    let failing = true;
    const reacted: string[] = [];
    const { handler, store } = setup({
      onEvent: async ({ event, result }) => {
        if (failing && event.userId === failFor) throw new Error('journeys unavailable');
        reacted.push(`${event.event}:${result.duplicate}`);
      },
    });
    const other = unique('steady');
    const first = record(envelope('track', { userId: failFor, event: 'A', messageId: unique('m') }));
    const second = record(envelope('track', { userId: failFor, event: 'B', messageId: unique('m') }));
    const unrelated = record(envelope('track', { userId: other, event: 'C', messageId: unique('m') }));
    const response = await handler({ Records: [first, unrelated, second] } as SQSEvent, context);
    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier).sort(),
      [first.messageId, second.messageId].sort(),
    );
    assert.deepEqual(reacted, ['C:false']);

    failing = false;
    const retry = await handler({ Records: [first, second] } as SQSEvent, context);
    assert.deepEqual(retry, { batchItemFailures: [] });
    // A was stored before its reaction failed: the redelivery is a duplicate, and still reacted to.
    assert.deepEqual(reacted, ['C:false', 'A:true', 'B:false']);
    const profile = await findProfile(store, { userId: failFor });
    assert.equal(profile?.counters.events, 2);
  });

  test('events of one person are ingested in batch order', async () => {
    const { handler, store, seen } = setup();
    const userId = unique('ordered');
    const records = Array.from({ length: 10 }, (_, i) =>
      record(envelope('track', { userId, event: `E${i}`, messageId: `${userId}-${i}` })),
    );
    const others = Array.from({ length: 10 }, () => record(envelope('page', { anonymousId: unique('a') })));
    const mixed = records.flatMap((r, i) => [r, others[i]!]);
    assert.deepEqual(await handler({ Records: mixed } as SQSEvent, context), { batchItemFailures: [] });
    assert.deepEqual(
      seen.filter((id) => id.startsWith(userId)),
      Array.from({ length: 10 }, (_, i) => `${userId}-${i}`),
    );
    const profile = await findProfile(store, { userId });
    const events = (await timeline(store, profile!.profileId))?.events ?? [];
    assert.equal(events.length, 10);
  });

  test('a failure on the last receive is kept in the dead letters with its real reason, and still reported', async () => {
    const userId = unique('user');
    const { handler, deadLetters, day } = setup({
      onEvent: async () => {
        throw new TypeError('connect ECONNREFUSED 127.0.0.1:9');
      },
    });
    const early = record(envelope('track', { userId, event: 'A', messageId: unique('m') }));
    const last = {
      ...record(envelope('track', { userId: unique('other'), event: 'B', messageId: unique('m') })),
      attributes: { ApproximateReceiveCount: '3' },
    } as SQSRecord;
    const response = await handler({ Records: [early, last] } as SQSEvent, context);
    assert.deepEqual(
      response?.batchItemFailures.map((f) => f.itemIdentifier).sort(),
      [early.messageId, last.messageId].sort(),
    );
    const { items } = await listDeadLetters(deadLetters, { date: day });
    assert.deepEqual(
      items.map((item) => [item.id, item.code, item.reason]),
      [[last.messageId, 'ingest_failed', 'TypeError: connect ECONNREFUSED 127.0.0.1:9']],
    );
  });

  test('an event DynamoDB refuses as it is goes to the dead letters at once with the reason; the person goes on', async () => {
    const userId = unique('user');
    const refused = unique('m');
    const { deps, deadLetters, day, seen } = setup();
    const bad = record(envelope('track', { userId, event: 'A', messageId: refused }));
    const good = record(envelope('track', { userId, event: 'B', messageId: unique('m') }));
    const refusing = createIngestHandler({
      ...deps,
      reactor: {
        onEvent: async ({ event }) => {
          if (event.messageId === refused) {
            throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
              name: 'ValidationException',
            });
          }
          seen.push(event.messageId);
        },
      },
    });
    const response = await refusing({ Records: [bad, good] } as SQSEvent, context);
    assert.deepEqual(response, { batchItemFailures: [] });
    const { items } = await listDeadLetters(deadLetters, { date: day });
    assert.deepEqual(
      items.map((item) => [item.id, item.code, item.reason]),
      [
        [
          bad.messageId,
          'ingest_rejected',
          'ValidationException: Item size has exceeded the maximum allowed size',
        ],
      ],
    );
    assert.equal(seen.length, 1);
  });

  test('a derived event about an erased profile (a lifecycle timer or update node that read it just before) brings no one back', async () => {
    const { handler, store, seen } = setup();
    const userId = unique('erased');
    await handler(
      {
        Records: [record(envelope('identify', { type: 'identify', userId, traits: { plan: 'pro' } }))],
      } as SQSEvent,
      context,
    );
    const profile = await findProfile(store, { userId });
    assert.ok(profile);
    await eraseProfile(store, profile.profileId);
    // What refreshProfile / publishDerived put on the bus for the profile as it was read before the erasure.
    const derived = {
      type: 'track',
      userId,
      event: 'Lifecycle Stage Changed',
      messageId: unique('derived'),
      properties: { from: 'active', to: 'dormant' },
      context: { cairn: { derived: true, profileId: profile.profileId } },
    };
    const out = await handler({ Records: [record(envelope('track', derived))] } as SQSEvent, context);
    assert.deepEqual(out?.batchItemFailures, []);
    assert.equal(await findProfile(store, { userId }), null, 'no new profile for the erased userId');
    assert.ok(!seen.includes(derived.messageId), 'no journey heard of it');
    // A sender's own event after the erasure still starts a new profile (erasure is not a block list).
    await handler(
      { Records: [record(envelope('track', { type: 'track', userId, event: 'Came Back' }))] } as SQSEvent,
      context,
    );
    assert.ok(await findProfile(store, { userId }));
  });
});

describe('ingest racing an erasure', () => {
  test('an event whose ingest read the profile just before DELETE /profiles/{id} and commits after the erasure scanned it writes nothing under the erased profile', async () => {
    const { handler, store, log, seen, deps } = setup();
    const userId = unique('racing').toLowerCase();
    const anonymousId = unique('anon');
    await handler(
      { Records: [record(envelope('identify', { type: 'identify', userId, anonymousId }))] } as SQSEvent,
      context,
    );
    const profile = await findProfile(store, { userId });
    assert.ok(profile);

    // Ingest reads identity and profile, then waits in its commit until the erasure has scanned the
    // profile's items; the erasure waits there until that commit is done. Deterministic interleaving.
    const scanned = deferred();
    const { ingestRead, committed } = holdCommits(store, scanned.promise);
    const erasureClient = dynamo.documentClient();
    const send = erasureClient.send.bind(erasureClient);
    erasureClient.send = (async (command: unknown) => {
      const out = await send(command as QueryCommand);
      const input = (command as QueryCommand).input;
      if (command instanceof QueryCommand && input.ProjectionExpression?.includes('dedupe')) {
        scanned.resolve();
        await committed.promise;
      }
      return out;
    }) as typeof erasureClient.send;
    const erasureStore = new DynamoProfileStore({
      client: erasureClient,
      tableName: dynamo.profilesTableName,
      clock: deps.ingest.clock,
    });

    const racing = {
      type: 'identify',
      userId,
      anonymousId,
      messageId: unique('racing'),
      traits: { email: `${userId}@example.com` },
    };
    const ingesting = handler({ Records: [record(envelope('identify', racing))] } as SQSEvent, context);
    await ingestRead.promise;
    const erased = await eraseProfile(erasureStore, profile.profileId);
    const out = await ingesting;

    assert.deepEqual(erased?.profileIds, [profile.profileId]);
    assert.deepEqual(out?.batchItemFailures, [], 'consumed: a redelivery would start a new profile with it');
    assert.deepEqual(
      await sortKeysUnder(profile.profileId),
      ['ERASED'],
      'only the tombstone is left under the erased profile',
    );
    for (const identity of [
      `I#userId#${userId}`,
      `I#anonymousId#${anonymousId}`,
      `I#email#${userId}@example.com`,
    ]) {
      const item = await erasureClient.send(
        new GetCommand({ TableName: dynamo.profilesTableName, Key: { pk: identity, sk: 'IDENTITY' } }),
      );
      assert.equal(item.Item, undefined, `${identity.split('#')[1]} identity gone`);
    }
    assert.equal(await findProfile(store, { userId }), null, 'no profile for the erased userId');
    assert.ok(!seen.includes(racing.messageId), 'no journey heard of it');
    const dropped = log.lines.find((line) => line.message === 'event of an erased profile dropped');
    assert.equal(dropped?.messageId, racing.messageId);
    assert.equal(JSON.stringify(log.lines).includes(userId), false, 'no identifiers in logs');
  });
  test('an event whose ingest read the profile just before the erasure marked it and commits right after the mark writes nothing under it', async () => {
    const { handler, store, log, seen, deps } = setup();
    const userId = unique('marked').toLowerCase();
    await handler(
      { Records: [record(envelope('identify', { type: 'identify', userId }))] } as SQSEvent,
      context,
    );
    const profile = await findProfile(store, { userId });
    assert.ok(profile);

    // Ingest reads identity and profile, then waits in its commit until the erasure has marked the
    // profile (tombstone, version + 1, erasedAt) and nothing more; the erasure waits there until
    // that commit is done. The commit fails on the version, the retry reads the mark and drops it.
    const marked = deferred();
    const held = holdCommits(store, marked.promise);
    const { ingestRead, committed } = held;
    const erasureStore = new DynamoProfileStore({
      client: dynamo.documentClient(),
      tableName: dynamo.profilesTableName,
      clock: deps.ingest.clock,
    });
    const mark = erasureStore.markErased.bind(erasureStore);
    erasureStore.markErased = async (ids, live) => {
      await mark(ids, live);
      marked.resolve();
      await committed.promise;
    };

    const racing = { type: 'track', userId, event: 'Viewed', messageId: unique('marked') };
    const ingesting = handler({ Records: [record(envelope('track', racing))] } as SQSEvent, context);
    await ingestRead.promise;
    const erased = await eraseProfile(erasureStore, profile.profileId);
    const out = await ingesting;

    assert.deepEqual(erased?.profileIds, [profile.profileId]);
    assert.deepEqual(out?.batchItemFailures, []);
    assert.equal(held.commits(), 1, 'the retry read the mark and did not try to commit');
    assert.deepEqual(
      await sortKeysUnder(profile.profileId),
      ['ERASED'],
      'only the tombstone is left under the erased profile',
    );
    assert.equal(await findProfile(store, { userId }), null, 'no profile for the erased userId');
    assert.ok(!seen.includes(racing.messageId), 'no journey heard of it');
    const dropped = log.lines.find((line) => line.message === 'event of an erased profile dropped');
    assert.equal(dropped?.messageId, racing.messageId);
  });
});

/**
 * The store's commits wait for `gate` (the erasure reaching the point under test); `ingestRead`
 * resolves when ingest has read and is about to commit, `committed` when its commit is over.
 */
function holdCommits(store: DynamoProfileStore, gate: Promise<void>) {
  const ingestRead = deferred();
  const committed = deferred();
  const commit = store.commit.bind(store);
  let commits = 0;
  store.commit = async (change) => {
    commits += 1;
    ingestRead.resolve();
    await gate;
    try {
      await commit(change);
    } finally {
      committed.resolve();
    }
  };
  return { ingestRead, committed, commits: () => commits };
}

async function sortKeysUnder(profileId: string) {
  const out = await dynamo.documentClient().send(
    new QueryCommand({
      TableName: dynamo.profilesTableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `P#${profileId}` },
      ConsistentRead: true,
    }),
  );
  return out.Items?.map((item) => item.sk);
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
