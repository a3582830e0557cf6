import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoSegmentStore } from '../../../shared/segments/index.js';
import type { Segment } from '../../../shared/segments/schema.js';
import { journeysTable, profilesTable } from '../../../shared/store/tables.js';
import { advanceClock, awsClientConfig, uniqueId, waitForIdle } from '../../support/local.js';
import { testStack } from '../../support/stack.js';
import { apiClient, issueFields } from './client.js';

const writeKey = `Basic ${Buffer.from('dev-write-key:').toString('base64')}`;

/**
 * Broadcasts on the local stack: the same api and broadcast handlers as on AWS, EventBridge Scheduler
 * and the slot queue emulated by the edge on the virtual clock (POST /local/clock fires them).
 */
describe('API: broadcasts to a segment at each customer local time', () => {
  let httpUrl: string;
  let api: ReturnType<typeof apiClient>;
  let segments: DynamoSegmentStore;

  before(async () => {
    const stack = await testStack();
    httpUrl = stack.httpUrl;
    api = apiClient(httpUrl);
    segments = new DynamoSegmentStore({
      client: DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig(stack.edgeUrl))),
      profilesTable: profilesTable.defaultName,
      journeysTable: journeysTable.defaultName,
    });
  });

  async function publishedJourney(): Promise<string> {
    const id = uniqueId('bc').toLowerCase();
    const yaml = [
      `id: ${id}`,
      'name: Broadcast e2e',
      `trigger: { event: "Never Sent ${id}" }`,
      'reentry: always',
      'start: done',
      'nodes:',
      '  done: { type: exit }',
      '',
    ].join('\n');
    assert.equal((await api.putYaml(`/journeys/${id}`, yaml)).status, 201);
    assert.equal((await api.post(`/journeys/${id}/publish`)).status, 200);
    return id;
  }

  /** Profiles with these time zones, members of a new segment; returns the segment id and profile ids by zone. */
  async function audience(zones: string[]): Promise<{ segment: string; byZone: Record<string, string> }> {
    const segment = uniqueId('seg');
    const byZone: Record<string, string> = {};
    for (const timezone of zones) {
      const userId = uniqueId('u');
      const res = await fetch(`${httpUrl}/v1/identify`, {
        method: 'POST',
        headers: { authorization: writeKey, 'content-type': 'application/json' },
        body: JSON.stringify({ userId, traits: { timezone } }),
      });
      assert.equal(res.status, 200);
      await waitForIdle(httpUrl);
      byZone[timezone] = (await api.get(`/profiles?userId=${userId}`)).body.profileId;
    }
    const now = new Date().toISOString();
    await segments.saveSegment({
      id: segment,
      definition: { id: segment, name: segment, where: { traits: { audience: [segment] } } } as Segment,
      status: 'ready',
      revision: 1,
      createdAt: now,
      updatedAt: now,
    });
    for (const profileId of Object.values(byZone)) await segments.enter(segment, profileId, now);
    return { segment, byZone };
  }

  it('advancing the clock past 09:00 Tokyo enters the Tokyo customers, past 09:00 Paris the Paris ones', async () => {
    const id = await publishedJourney();
    const { segment } = await audience(['Asia/Tokyo', 'Europe/Paris', 'America/New_York']);
    const { nowMs } = await advanceClock(httpUrl, 0);
    // Tomorrow (UTC), 09:00 local: Tokyo fires at 00:00 UTC, Paris at 08:00 UTC, New York at 14:00 UTC.
    const day = new Date(nowMs + 86_400_000).toISOString().slice(0, 10);
    const created = await api.post(`/journeys/${id}/broadcasts`, {
      segment,
      localTime: { time: '09:00', date: day },
      fallbackTimezone: 'UTC',
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.status, 'scheduled');
    assert.equal(created.body.audience, 3);
    const broadcastId = created.body.broadcastId;
    const get = async () => (await api.get(`/broadcasts/${broadcastId}`)).body;
    const advanceTo = async (iso: string) => {
      const { nowMs: current } = await advanceClock(httpUrl, 0);
      await advanceClock(httpUrl, Math.max(0, Date.parse(iso) - current));
      await waitForIdle(httpUrl);
    };

    await advanceTo(`${day}T00:00:05Z`);
    assert.equal((await get()).entered, 1, 'Tokyo');
    await advanceTo(`${day}T08:00:05Z`);
    assert.equal((await get()).entered, 2, 'Paris');
    await advanceTo(`${day}T14:00:05Z`);
    const done = await get();
    assert.equal(done.entered, 3, 'New York');
    assert.equal(done.status, 'done');
    assert.deepEqual(
      done.runs.map((r: { runAt: string; audience: number; entered: number }) => [
        r.runAt,
        r.audience,
        r.entered,
      ]),
      [[`${day}T09:00`, 3, 3]],
    );
    const listed = await api.get(`/journeys/${id}/broadcasts`);
    assert.deepEqual(
      listed.body.broadcasts.map((b: { broadcastId: string }) => b.broadcastId),
      [broadcastId],
    );
  });

  it('cancels a scheduled broadcast: nobody enters, and GET shows it cancelled', async () => {
    const id = await publishedJourney();
    const { segment } = await audience(['Europe/Paris']);
    const { nowMs } = await advanceClock(httpUrl, 0);
    const at = new Date(nowMs + 3_600_000).toISOString();
    const created = await api.post(`/journeys/${id}/broadcasts`, { segment, at });
    assert.equal(created.status, 202);
    const cancelled = await api.delete(`/broadcasts/${created.body.broadcastId}`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    await advanceClock(httpUrl, 'PT2H');
    await waitForIdle(httpUrl);
    const view = (await api.get(`/broadcasts/${created.body.broadcastId}`)).body;
    assert.deepEqual([view.status, view.entered], ['cancelled', 0]);
  });

  it('answers 400 with the field paths for bad input, 404 for an unknown broadcast', async () => {
    const id = await publishedJourney();
    const bad = await api.post(`/journeys/${id}/broadcasts`, {
      segment: 'no-such-segment',
      recurrence: { cron: 'every monday' },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(issueFields(bad), ['recurrence.cron']);
    const unknown = await api.post(`/journeys/${id}/broadcasts`, { segment: 'no-such-segment' });
    assert.deepEqual(issueFields(unknown), ['segment']);
    assert.equal((await api.get('/broadcasts/nope')).status, 404);
  });
});
