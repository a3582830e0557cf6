import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { applyFeedback, applyUnsubscribeFeedback } from '../../../shared/runtime/feedback.js';
import type { MessageRecord } from '../../../shared/runtime/message-store.js';
import { splitJourneyState } from '../../../shared/runtime/presence-store.js';
import { getJourneyStats } from '../../../shared/runtime/queries.js';
import { dynamoRuntimeStore } from '../../../shared/runtime/store.js';
import type { PresenceRecord } from '../../../shared/runtime/types.js';
import { createDocumentClient } from '../../../shared/store/dynamodb.js';
import { profilesTable, tableName } from '../../../shared/store/tables.js';
import { awsClientConfig } from '../../support/local.js';
import { testStack } from '../../support/stack.js';

/** The runtime's DynamoDB store on DynamoDB Local (through the local stack's edge). */

let store: ReturnType<typeof dynamoRuntimeStore>;
let client: ReturnType<typeof createDocumentClient>;

before(async () => {
  const { edgeUrl } = await testStack();
  client = createDocumentClient(awsClientConfig(edgeUrl));
  store = dynamoRuntimeStore(client);
});

function presence(profileId: string, executionName: string, at = 1_000): PresenceRecord {
  return {
    profileId,
    executionName,
    journeyId: 'j1',
    version: 1,
    enteredAt: at,
    triggerMessageId: `m-${executionName}`,
  };
}

describe('runtime store on DynamoDB Local', () => {
  it('reentry never: one entry, except a retry of the same execution', async () => {
    const profileId = randomUUID();
    assert.equal(
      await store.recordEntry({ presence: presence(profileId, 'e1'), notEnteredSince: null }),
      true,
    );
    assert.equal(
      await store.recordEntry({ presence: presence(profileId, 'e2'), notEnteredSince: null }),
      false,
    );
    assert.equal(
      await store.recordEntry({ presence: presence(profileId, 'e1'), notEnteredSince: null }),
      true,
    );
    const state = await store.readJourneyState(profileId);
    assert.deepEqual(
      state.presence.map((p) => p.executionName),
      ['e1'],
    );
    assert.equal(state.entries[0]?.lastExecution, 'e1');
  });

  it('reentry after: refused while the last entry is newer than the cutoff', async () => {
    const profileId = randomUUID();
    await store.recordEntry({ presence: presence(profileId, 'a1', 1_000), notEnteredSince: 0 });
    assert.equal(
      await store.recordEntry({ presence: presence(profileId, 'a2', 2_000), notEnteredSince: 500 }),
      false,
    );
    assert.equal(
      await store.recordEntry({ presence: presence(profileId, 'a3', 3_000), notEnteredSince: 1_000 }),
      true,
    );
  });

  it('a redelivered entry (the same execution name) is not counted again nor moves lastEnteredAt', async () => {
    const profileId = randomUUID();
    assert.equal(
      await store.recordEntry({ presence: presence(profileId, 'd1', 1_000), notEnteredSince: 0 }),
      true,
    );
    assert.equal(
      await store.recordEntry({ presence: presence(profileId, 'd1', 5_000), notEnteredSince: 4_000 }),
      true,
      'a redelivery goes on (its StartExecution is redone)',
    );
    assert.equal(
      await store.recordEntry({ presence: presence(profileId, 'd1', 6_000), notEnteredSince: undefined }),
      true,
    );
    const [record] = (await store.readJourneyState(profileId)).entries;
    assert.deepEqual([record?.entries, record?.lastEnteredAt, record?.lastExecution], [1, 1_000, 'd1']);
    // The re-entry rule reads the first delivery's time: the redeliveries did not delay the next entry.
    assert.equal(
      await store.recordEntry({ presence: presence(profileId, 'd2', 7_000), notEnteredSince: 2_000 }),
      true,
    );
  });

  it('a broadcast run enters a profile once, even under another execution name (a republished version)', async () => {
    const profileId = randomUUID();
    const run = (key: string, slot: string) => ({ scope: 'b1', key, mark: `${key} ${slot}` });
    const entry = (name: string, key: string, slot = '*:0') =>
      store.recordEntry({
        presence: presence(profileId, name),
        notEnteredSince: undefined,
        run: run(key, slot),
      });
    assert.equal(await entry('v1-x', '2026-12-04T09:00'), true);
    assert.equal(await entry('v1-x', '2026-12-04T09:00'), true, 'a retry of the same start');
    assert.equal(await entry('v2-x', '2026-12-04T09:00'), false, 'the same run on version 2');
    assert.equal(await entry('v2-y', '2026-12-03T09:00'), false, 'an earlier run, late');
    assert.equal(await entry('v2-z', '2026-12-11T09:00', '*:3'), true, 'the next run');
    const [record] = (await store.readJourneyState(profileId)).entries;
    assert.deepEqual([record?.lastExecution, record?.runs], ['v2-z', { b1: '2026-12-11T09:00 *:3' }]);
    // Entries of other triggers are not bound by a broadcast's runs.
    assert.equal(
      await store.recordEntry({ presence: presence(profileId, 'event-1'), notEnteredSince: undefined }),
      true,
    );
  });

  it('the profile Query (sk >= PROFILE) returns presence and entry items the reactor can split', async () => {
    const profileId = randomUUID();
    await store.recordEntry({ presence: presence(profileId, 'q1'), notEnteredSince: undefined });
    await store.setWaiting(presence(profileId, 'q1'), {
      nodeId: 'w',
      event: 'E',
      match: { k: 1 },
      token: 't1',
      since: 1,
    });
    const out = await client.send(
      new QueryCommand({
        TableName: tableName(profilesTable, process.env),
        KeyConditionExpression: 'pk = :pk AND sk >= :sk',
        ExpressionAttributeValues: { ':pk': `P#${profileId}`, ':sk': 'PROFILE' },
      }),
    );
    const state = splitJourneyState(out.Items ?? []);
    assert.equal(state.presence[0]?.waiting?.token, 't1');
    assert.equal(state.entries[0]?.journeyId, 'j1');
  });

  it('a redelivered entry keeps the task token stored since', async () => {
    const profileId = randomUUID();
    await store.recordEntry({ presence: presence(profileId, 'r1'), notEnteredSince: null });
    await store.setWaiting(presence(profileId, 'r1'), { nodeId: 'w', event: 'E', token: 'tok', since: 1 });
    assert.equal(
      await store.recordEntry({ presence: presence(profileId, 'r1', 9_999), notEnteredSince: null }),
      true,
    );
    const [record] = (await store.readJourneyState(profileId)).presence;
    assert.equal(record?.waiting?.token, 'tok');
    assert.equal(record?.enteredAt, 1_000);
  });

  it('clears a task token only while it is the same token', async () => {
    const profileId = randomUUID();
    await store.setWaiting(presence(profileId, 'w1'), { nodeId: 'w', event: 'E', token: 'old', since: 1 });
    await store.setWaiting(presence(profileId, 'w1'), { nodeId: 'w', event: 'E', token: 'new', since: 2 });
    assert.equal(await store.clearWaiting(profileId, 'w1', 'old'), false);
    assert.equal(await store.clearWaiting(profileId, 'w1', 'new'), true);
    assert.equal((await store.readJourneyState(profileId)).presence[0]?.waiting, undefined);
  });

  it('sharded counters add up across shards', async () => {
    const journeyId = `j-${randomUUID()}`;
    let shard = 0;
    const sharded = dynamoRuntimeStore(client, { shard: () => shard++ % 3 });
    for (let i = 0; i < 6; i++) {
      await sharded.addStats(journeyId, [
        { nodeId: 'a', counter: 'entered' },
        { nodeId: 'a', counter: 'entered' },
        { counter: 'started' },
      ]);
    }
    const stats = await getJourneyStats(store, journeyId);
    assert.equal(stats.nodes.a?.entered, 12);
    assert.equal(stats.started, 6);
  });

  it('a message is claimed once; feedback updates it once per status and counts it', async () => {
    const executionName = `x-${randomUUID()}`;
    const record: MessageRecord = {
      profileId: 'p',
      executionName,
      nodeId: 'mail',
      journeyId: `j-${executionName}`,
      journeyVersion: 1,
      messageId: 'm',
      channel: 'email',
      templateId: 't',
      status: 'sending',
      createdAt: '2026-01-01T00:00:00.000Z',
      history: [{ status: 'sending', at: '2026-01-01T00:00:00.000Z' }],
    };
    assert.equal(await store.claimMessage(record), true);
    assert.equal(await store.claimMessage(record), false);
    const envelope = (eventType: string) => ({
      source: 'aws.ses',
      time: '2026-01-01T00:00:01Z',
      detail: {
        eventType,
        mail: { tags: { execution: [executionName], nodeId: ['mail'], journeyId: [record.journeyId] } },
      },
    });
    const deps = { store, suppressions: { suppress: async () => {} }, clock: { now: () => 0 } };
    assert.equal(await applyFeedback(envelope('Delivery'), deps), 'recorded');
    assert.equal(await applyFeedback(envelope('Delivery'), deps), 'duplicate');
    // The step's own "sent" update arrives after the delivery report: the status stays delivered.
    await store.updateMessage(
      { executionName, nodeId: 'mail' },
      { status: 'sent', at: 'x', ifStatusIn: ['sending'] },
    );
    assert.equal(await applyFeedback(envelope('Open'), deps), 'recorded');
    assert.equal(await applyFeedback(envelope('Open'), deps), 'recorded');
    const message = await store.getMessage(executionName, 'mail');
    assert.equal(message?.status, 'opened');
    assert.deepEqual(
      message?.history.map((h) => h.status),
      ['sending', 'delivered', 'sent', 'opened', 'opened'],
    );
    const stats = await getJourneyStats(store, record.journeyId);
    assert.equal(stats.nodes.mail?.delivered, 1);
    assert.equal(stats.nodes.mail?.opened, 2);

    // An unsubscribe through this message's link: once per message, only for its own profile.
    const key = { executionName, nodeId: 'mail' };
    assert.equal(await applyUnsubscribeFeedback(key, 'someone-else', deps), 'unknown-message');
    assert.equal(await applyUnsubscribeFeedback(key, 'p', deps, 'topic:news'), 'recorded');
    assert.equal(await applyUnsubscribeFeedback(key, 'p', deps, 'all'), 'duplicate');
    const unsubscribed = (await store.getMessage(executionName, 'mail'))!;
    assert.equal(unsubscribed.status, 'unsubscribed');
    assert.deepEqual(unsubscribed.history.at(-1), {
      status: 'unsubscribed',
      at: '1970-01-01T00:00:00.000Z',
      detail: 'topic:news',
    });
    assert.equal((await getJourneyStats(store, record.journeyId)).nodes.mail?.unsubscribed, 1);
  });

  it('timeline entries list in time order and lead to their message records', async () => {
    const profileId = randomUUID();
    for (const [at, nodeId] of [
      ['2026-01-02T00:00:00.000Z', 'b'],
      ['2026-01-01T00:00:00.000Z', 'a'],
    ] as const) {
      await store.addTimeline({
        profileId,
        at,
        kind: 'journey-step',
        journeyId: 'j',
        journeyVersion: 1,
        executionName: 'e',
        nodeId,
        nodeType: 'exit',
        outcome: 'completed',
      });
    }
    const entries = await store.listTimeline(profileId);
    assert.deepEqual(
      entries.map((e) => e.nodeId),
      ['a', 'b'],
    );
    assert.equal(entries[0]?.kind, 'journey-step');
  });
});
