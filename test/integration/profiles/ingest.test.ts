import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GetCommand,
  PutCommand,
  paginateScan,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  eraseProfile,
  findProfile,
  getProfile,
  type IngestResult,
  ProfileWriteConflict,
  presenceKey,
  timeline,
} from '../../../shared/profiles/index.js';
import { profileIngest, unique, useTestDynamo } from './dynamo.js';

const dynamo = useTestDynamo();

function setup() {
  const ingestion = profileIngest(dynamo);
  // Typed as a first delivery; the duplicate test checks `duplicate` itself.
  const ingest = async (input: Record<string, unknown>) =>
    (await ingestion.ingest(input)) as Extract<IngestResult, { duplicate: false }>;
  return { ...ingestion, ingest };
}

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();

describe('ingestMessage on DynamoDB Local', () => {
  test('a tracked event of a known user costs 3 requests: identity lookup, profile Query, one transaction', async () => {
    const { meter, ingest, client } = setup();
    const userId = unique('user');
    const first = await ingest({
      type: 'identify',
      userId,
      anonymousId: unique('anon'),
      traits: { plan: 'pro' },
    });
    await ingest({ type: 'track', userId, event: 'Warm Up' });
    meter.reset();
    // The transaction's items: 2 WCU each (≤ 1 KB), so 6 WCU an event; the erasure guard adds none.
    const transactions: string[][] = [];
    const send = client.send.bind(client);
    client.send = ((command: { input: { TransactItems?: Record<string, unknown>[] } }) => {
      const items = command instanceof TransactWriteCommand ? command.input.TransactItems : undefined;
      if (items) transactions.push(items.map((item) => Object.keys(item)[0]!));
      return send(command as never);
    }) as typeof client.send;
    const result = await ingest({ type: 'track', userId, event: 'Product Added', properties: { price: 3 } });
    client.send = send;
    assert.equal(result.duplicate, false);
    assert.equal(result.profileId, first.profileId);
    assert.equal(meter.requests, 3, JSON.stringify(meter.byCommand));
    assert.deepEqual(meter.byCommand, { GetItem: 1, Query: 1, TransactWriteItems: 1 });
    assert.deepEqual(
      transactions,
      [['Put', 'Put', 'Put']],
      'dedupe record, event, profile: no ConditionCheck',
    );
    assert.equal(result.profile.counters.events, 3);
    assert.equal(result.profile.counters.tracked['Product Added'], 1);
    assert.equal(result.profile.traits.plan, 'pro');
  });

  test('a known user with userId and anonymousId still costs 3 requests (one BatchGet for both)', async () => {
    const { meter, ingest } = setup();
    const userId = unique('user');
    const anonymousId = unique('anon');
    await ingest({ type: 'identify', userId, anonymousId, traits: { email: `${userId}@example.com` } });
    meter.reset();
    await ingest({
      type: 'track',
      userId,
      anonymousId,
      event: 'Viewed',
      context: { traits: { email: `${userId}@example.com` } },
    });
    assert.deepEqual(meter.byCommand, { BatchGetItem: 1, Query: 1, TransactWriteItems: 1 });
  });

  test('20 parallel writers for one person end with exactly one profile and no lost trait or event', async () => {
    const { ingest, store } = setup();
    const userId = unique('user');
    const anonymousId = unique('anon');
    const writers = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? ingest({ type: 'identify', userId, anonymousId, traits: { [`t${i}`]: i }, timestamp: at(i) })
        : ingest({ type: 'track', userId, anonymousId, event: `E${i}`, timestamp: at(i) }),
    );
    const results = await Promise.all(writers);
    const ids = new Set(results.map((r) => r.profileId));
    assert.equal(ids.size, 1, 'every writer resolved to one profile');
    const [profileId] = [...ids] as [string];
    const profile = await getProfile(store, profileId);
    assert.ok(profile);
    assert.equal(profile.counters.events, 20);
    for (let i = 0; i < 20; i += 2) assert.equal(profile.traits[`t${i}`], i, `trait t${i}`);
    assert.deepEqual(profile.identities.userId, [userId]);
    assert.deepEqual(profile.identities.anonymousId, [anonymousId]);
    assert.equal(profile.firstSeen, at(0));
    assert.equal(profile.lastSeen, at(19));
    const page = await timeline(store, profileId, { limit: 100 });
    assert.equal(page?.events.length, 20);
    assert.deepEqual(
      page?.events.map((e) => e.timestamp),
      Array.from({ length: 20 }, (_, i) => at(i)),
    );
    // Nothing else was created for this person: the identities point at the one profile.
    assert.equal((await findProfile(store, { anonymousId }))?.profileId, profileId);
  });

  test('20 parallel first events of an unknown person create one profile', async () => {
    const { ingest } = setup();
    const anonymousId = unique('anon');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ingest({ type: 'page', anonymousId, name: `p${i}` })),
    );
    assert.equal(new Set(results.map((r) => r.profileId)).size, 1);
    assert.equal(results.at(-1)?.profile.counters.events !== undefined, true);
  });

  test('merges the anonymous profile into the known one on identify and keeps both histories', async () => {
    const { ingest, store, log } = setup();
    const userId = unique('user');
    const anonymousId = unique('anon');
    const known = await ingest({
      type: 'identify',
      userId,
      traits: { name: 'Ann', plan: 'free' },
      timestamp: at(1),
    });
    const anonymous = await ingest({ type: 'track', anonymousId, event: 'Browsed', timestamp: at(2) });
    await ingest({ type: 'identify', anonymousId, traits: { plan: 'pro' }, timestamp: at(3) });
    assert.notEqual(known.profileId, anonymous.profileId);

    const merge = await ingest({ type: 'identify', userId, anonymousId, timestamp: at(4) });
    assert.equal(merge.profileId, known.profileId);
    assert.deepEqual(merge.merged, [anonymous.profileId]);
    assert.equal(merge.profile.traits.plan, 'pro', 'the newer trait of the merged profile wins');
    assert.equal(merge.profile.traits.name, 'Ann');
    assert.deepEqual(merge.profile.mergedFrom, [anonymous.profileId]);

    const viaOldId = await getProfile(store, anonymous.profileId);
    assert.equal(viaOldId?.profileId, known.profileId, 'the merged profile id still leads to the person');
    assert.equal((await findProfile(store, { anonymousId }))?.profileId, known.profileId);
    const events = (await timeline(store, known.profileId))?.events ?? [];
    assert.deepEqual(
      events.map((e) => [e.type, e.profileId]),
      [
        ['identify', known.profileId],
        ['track', anonymous.profileId],
        ['identify', anonymous.profileId],
        ['identify', known.profileId],
      ],
    );
    assert.equal(viaOldId?.counters.events, 4);
    assert.ok(log.lines.some((line) => line.message === 'profiles merged'));
  });

  test('alias merges the previousId profile into the userId profile', async () => {
    const { ingest } = setup();
    const userId = unique('user');
    const anonymousId = unique('anon');
    const anonymous = await ingest({ type: 'track', anonymousId, event: 'Browsed' });
    const known = await ingest({ type: 'identify', userId });
    const alias = await ingest({ type: 'alias', userId, previousId: anonymousId });
    assert.equal(alias.profileId, known.profileId);
    assert.deepEqual(alias.merged, [anonymous.profileId]);
    assert.deepEqual(alias.profile.identities.anonymousId, [anonymousId]);
  });

  test('a second user on a shared device gets a profile of their own (userId limit 1), logged without PII', async () => {
    const { ingest, log } = setup();
    const anonymousId = unique('device');
    const ann = await ingest({
      type: 'identify',
      userId: unique('ann'),
      anonymousId,
      traits: { email: 'ann@example.com' },
    });
    const bobId = unique('bob');
    const bob = await ingest({ type: 'identify', userId: bobId, anonymousId });
    assert.notEqual(bob.profileId, ann.profileId);
    assert.deepEqual(bob.profile.identities.userId, [bobId]);
    assert.deepEqual(bob.profile.identities.anonymousId, [], 'the device stays with the first user');
    assert.deepEqual(bob.refused, [
      { identifierType: 'anonymousId', limitType: 'userId', limit: 1, profileId: ann.profileId },
    ]);
    const line = log.lines.find((l) => l.message === 'identity not linked: limit reached');
    assert.ok(line);
    assert.equal(JSON.stringify(log.lines).includes('ann@example.com'), false);
    assert.equal(JSON.stringify(log.lines).includes(anonymousId), false);
    assert.equal(JSON.stringify(log.lines).includes(bobId), false);
  });

  test('a duplicate messageId is counted once', async () => {
    const { ingest, store } = setup();
    const userId = unique('user');
    const messageId = unique('msg');
    const first = await ingest({ type: 'track', userId, event: 'Order Completed', messageId });
    const again = await ingest({ type: 'track', userId, event: 'Order Completed', messageId });
    const parallel = await Promise.all(
      Array.from({ length: 5 }, () => ingest({ type: 'track', userId, event: 'Order Completed', messageId })),
    );
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.ok(parallel.every((r) => r.duplicate));
    assert.equal(again.profileId, first.profileId);
    const profile = await getProfile(store, first.profileId);
    assert.equal(profile?.counters.events, 1);
    assert.equal((await timeline(store, first.profileId))?.events.length, 1);
  });

  test('presence items of a merged profile move to the surviving profile in the merge transaction', async () => {
    const { ingest, client, store } = setup();
    const userId = unique('user');
    const anonymousId = unique('anon');
    const anonymous = await ingest({ type: 'track', anonymousId, event: 'Product Added' });
    await client.send(
      new PutCommand({
        TableName: dynamo.profilesTableName,
        Item: {
          ...presenceKey(anonymous.profileId, 'cart-v1-abc'),
          profileId: anonymous.profileId,
          journeyId: 'cart',
        },
      }),
    );
    await ingest({ type: 'identify', userId, traits: {} });
    const merged = await ingest({ type: 'identify', userId, anonymousId });
    assert.deepEqual(
      merged.profile.presence.map((p) => [p.executionName, p.profileId, p.journeyId]),
      [['cart-v1-abc', merged.profileId, 'cart']],
    );
    const reread = await getProfile(store, merged.profileId);
    assert.deepEqual(
      reread?.presence.map((p) => [p.executionName, p.profileId]),
      [['cart-v1-abc', merged.profileId]],
    );
    assert.deepEqual((await store.readProfile(anonymous.profileId))?.presence, []);
  });

  test('erasure removes the profile, merged profiles, identities, events and dedupe records', async () => {
    const { ingest, store, client } = setup();
    const userId = unique('user');
    const anonymousId = unique('anon');
    const email = `${unique('e')}@example.com`;
    const anonymous = await ingest({ type: 'track', anonymousId, event: 'Browsed' });
    const known = await ingest({ type: 'identify', userId, traits: { email } });
    await ingest({ type: 'identify', userId, anonymousId });
    await ingest({ type: 'track', userId, event: 'Bought' });

    const report = await eraseProfile(store, anonymous.profileId);
    assert.equal(report?.profileId, known.profileId);
    assert.equal(report?.profiles, 2);
    assert.equal(report?.identities, 3);
    assert.equal(report?.events, 4);
    assert.equal(report?.dedupeRecords, 4);

    // Every page of the Scan: the shared stack's table is bigger than one page (1 MB).
    const items: Record<string, unknown>[] = [];
    for await (const page of paginateScan(
      { client },
      { TableName: dynamo.profilesTableName, ConsistentRead: true },
    ))
      items.push(...(page.Items ?? []));
    // The erasure tombstone (`ERASED`: the profile id and when, refusing late writes) stays by design.
    const left = items.filter(
      (item) =>
        item.sk !== 'ERASED' &&
        [known.profileId, anonymous.profileId, userId, anonymousId, email].some((needle) =>
          JSON.stringify(item).includes(needle),
        ),
    );
    assert.deepEqual(left, []);
    assert.equal(await getProfile(store, known.profileId), null);
    assert.equal(await findProfile(store, { email }), null);
    assert.equal(await eraseProfile(store, known.profileId), null);
  });

  test('a timer refresh of a profile read just before its erasure writes neither the profile nor its counters back', async () => {
    const { ingest, store, client } = setup();
    const userId = unique('user');
    const known = await ingest({ type: 'identify', userId, traits: { plan: 'pro' } });
    const { presence: _presence, ...record } = known.profile;
    await store.markErased([known.profileId], [record]);
    const counter = { pk: `TEST#${unique('count')}`, sk: 'COUNT', add: { dormant: 1 } };
    // The mark bumped the version the refresh read: refused as any changed profile is.
    await assert.rejects(
      store.saveProfile({ ...record, version: record.version + 1 }, record.version, [counter]),
      ProfileWriteConflict,
    );
    await assert.rejects(
      store.saveProfile({ ...record, version: record.version + 1 }, record.version),
      ProfileWriteConflict,
    );
    // A refresh that read the marked profile (its version) is refused too: `erasedAt` is set.
    const marked = await store.readProfile(known.profileId, { consistent: true });
    assert.ok(marked?.erasedAt, 'the read shows the mark');
    assert.equal(marked.version, record.version + 1);
    await assert.rejects(
      store.saveProfile({ ...record, version: marked.version + 1 }, marked.version, [counter]),
      ProfileWriteConflict,
    );
    const saved = await client.send(
      new GetCommand({ TableName: dynamo.profilesTableName, Key: { pk: counter.pk, sk: counter.sk } }),
    );
    assert.equal(saved.Item, undefined, 'the counter was not moved');
    assert.equal(
      (await store.readProfile(known.profileId, { consistent: true }))?.version,
      record.version + 1,
      'only the mark changed it',
    );
  });

  test('timeline paging reaches every live event when the oldest have expired but are not deleted yet', async () => {
    const { client, ingest, store } = setup();
    const userId = unique('user');
    for (let i = 0; i < 6; i++) await ingest({ type: 'track', userId, event: `E${i}`, timestamp: at(i) });
    const profile = await findProfile(store, { userId });
    assert.ok(profile);
    // DynamoDB's TTL deletes late: mark the three oldest expired, as they would be before deletion.
    // A Query of the profile's events, not a filtered Scan: on the shared stack's table a Scan stops
    // at 1 MB, may hold none of them, and the test then expired nothing.
    const items = (
      await client.send(
        new QueryCommand({
          TableName: dynamo.profilesTableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
          ExpressionAttributeValues: { ':pk': `P#${profile.profileId}`, ':e': 'E#' },
        }),
      )
    ).Items!;
    assert.equal(items.length, 6);
    for (const item of items.slice(0, 3))
      await client.send(
        new PutCommand({ TableName: dynamo.profilesTableName, Item: { ...item, expiresAt: 1 } }),
      );
    const first = await timeline(store, profile.profileId, { limit: 2 });
    assert.deepEqual(
      first?.events.map((e) => e.event),
      ['E3', 'E4'],
    );
    assert.ok(first?.nextCursor, 'a next page is announced although the first Query page was mostly expired');
    const second = await timeline(store, profile.profileId, { limit: 2, cursor: first.nextCursor });
    assert.deepEqual(
      second?.events.map((e) => e.event),
      ['E5'],
    );
  });

  test('timeline pages with a cursor in time order', async () => {
    const { ingest, store } = setup();
    const userId = unique('user');
    for (let i = 0; i < 5; i++)
      await ingest({ type: 'track', userId, event: `E${i}`, timestamp: at(10 - i) });
    const profile = await findProfile(store, { userId });
    assert.ok(profile);
    const first = await timeline(store, profile.profileId, { limit: 2 });
    assert.deepEqual(
      first?.events.map((e) => e.event),
      ['E4', 'E3'],
    );
    assert.ok(first?.nextCursor);
    const second = await timeline(store, profile.profileId, { limit: 2, cursor: first.nextCursor });
    assert.deepEqual(
      second?.events.map((e) => e.event),
      ['E2', 'E1'],
    );
    const third = await timeline(store, profile.profileId, { limit: 2, cursor: second?.nextCursor });
    assert.deepEqual(
      third?.events.map((e) => e.event),
      ['E0'],
    );
    assert.equal(third?.nextCursor, undefined);
  });

  test('findProfile normalises email', async () => {
    const { ingest, store } = setup();
    const local = unique('mixed');
    const result = await ingest({
      type: 'identify',
      userId: unique('u'),
      traits: { email: ` ${local.toUpperCase()}@Example.COM ` },
    });
    assert.equal((await findProfile(store, { email: `${local}@example.com` }))?.profileId, result.profileId);
    assert.deepEqual(result.profile.identities.email, [`${local}@example.com`]);
  });
});
