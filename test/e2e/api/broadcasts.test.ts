import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { advanceClock, awsClientConfig, uniqueId, waitForIdle } from '../../support/local.js';
import { testStack } from '../../support/stack.js';
import { apiClient, issueFields } from './client.js';

/**
 * Broadcasts on the local stack: the same api and broadcast handlers as on AWS, EventBridge Scheduler
 * and the slot queue emulated by the edge on the virtual clock (POST /local/clock fires them), to
 * segments defined through the API (PUT /segments/{id}) over profiles sent through /v1/identify.
 */
describe('API: broadcasts to a segment at each customer local time', () => {
  let httpUrl: string;
  let api: ReturnType<typeof apiClient>;
  let sqs: SQSClient;
  let slotQueueUrl: string;

  before(async () => {
    const stack = await testStack();
    httpUrl = stack.httpUrl;
    api = apiClient(httpUrl);
    sqs = new SQSClient(awsClientConfig(stack.edgeUrl));
    slotQueueUrl = `${stack.edgeUrl}/000000000000/cairn-broadcast-slots`;
  });

  function journeyYaml(id: string, name = 'Broadcast e2e'): string {
    return [
      `id: ${id}`,
      `name: ${name}`,
      `trigger: { event: "Never Sent ${id}" }`,
      'reentry: always',
      'start: wait',
      'nodes:',
      '  wait: { type: wait, for: P1D, next: done }',
      '  done: { type: exit }',
      '',
    ].join('\n');
  }

  async function publishedJourney(): Promise<string> {
    const id = uniqueId('bc').toLowerCase();
    assert.equal((await api.putYaml(`/journeys/${id}`, journeyYaml(id))).status, 201);
    assert.equal((await api.post(`/journeys/${id}/publish`)).status, 200);
    return id;
  }

  /**
   * Profiles with these time zones (identify), and a segment of exactly them defined through the
   * API; returns the segment id and the profile ids by zone once the segment is ready.
   */
  async function audience(zones: string[]): Promise<{ segment: string; byZone: Record<string, string> }> {
    const segment = uniqueId('seg').toLowerCase();
    const byZone: Record<string, string> = {};
    for (const timezone of zones) {
      const userId = uniqueId('u');
      const sent = await api.post('/v1/identify', { userId, traits: { timezone, audience: segment } });
      assert.equal(sent.status, 200);
      await waitForIdle(httpUrl);
      byZone[timezone] = (await api.get(`/profiles?userId=${userId}`)).body.profileId;
    }
    const put = await api.put(`/segments/${segment}`, {
      id: segment,
      name: 'Broadcast audience',
      where: { traits: { audience: [segment] } },
    });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    await waitForIdle(httpUrl);
    const ready = await api.get(`/segments/${segment}`);
    assert.deepEqual(
      [ready.body.status, ready.body.count],
      ['ready', zones.length],
      JSON.stringify(ready.body),
    );
    return { segment, byZone };
  }

  const broadcast = async (id: string) => (await api.get(`/broadcasts/${id}`)).body;
  const stats = async (journeyId: string) => (await api.get(`/journeys/${journeyId}/stats`)).body;

  it('now: every member enters, the run is counted exactly and the broadcast is done', async () => {
    const id = await publishedJourney();
    const { segment } = await audience(['Europe/Paris', 'Asia/Tokyo']);
    const created = await api.post(`/journeys/${id}/broadcasts`, { segment });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.deepEqual([created.body.status, created.body.audience], ['scheduled', 2]);
    await advanceClock(httpUrl, 'PT5S');
    await waitForIdle(httpUrl);
    const view = await broadcast(created.body.broadcastId);
    assert.deepEqual(
      [view.status, view.audience, view.entered, view.skipped, view.failed],
      ['done', 2, 2, 0, 0],
    );
    assert.equal((await stats(id)).started, 2);
  });

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
    const advanceTo = async (iso: string) => {
      const { nowMs: current } = await advanceClock(httpUrl, 0);
      await advanceClock(httpUrl, Math.max(0, Date.parse(iso) - current));
      await waitForIdle(httpUrl);
    };

    await advanceTo(`${day}T00:00:05Z`);
    assert.equal((await broadcast(broadcastId)).entered, 1, 'Tokyo');
    await advanceTo(`${day}T08:00:05Z`);
    assert.equal((await broadcast(broadcastId)).entered, 2, 'Paris');
    await advanceTo(`${day}T14:00:05Z`);
    const done = await broadcast(broadcastId);
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

  it('a customer is entered at most once per run: a slot delivered again after a republish, or another slot with them', async () => {
    const id = await publishedJourney();
    const { segment, byZone } = await audience(['Europe/Paris', 'Europe/Berlin']);
    const created = await api.post(`/journeys/${id}/broadcasts`, { segment });
    assert.equal(created.status, 202);
    const broadcastId = created.body.broadcastId;
    await advanceClock(httpUrl, 'PT5S');
    await waitForIdle(httpUrl);
    const first = await broadcast(broadcastId);
    assert.deepEqual([first.status, first.entered], ['done', 2]);
    // Version 2 mid-run: its execution names differ from version 1's, so they cannot dedupe the start.
    assert.equal((await api.putYaml(`/journeys/${id}`, journeyYaml(id, 'Broadcast e2e v2'))).status, 200);
    const republished = await api.post(`/journeys/${id}/publish`);
    assert.equal(republished.status, 200, JSON.stringify(republished.body));
    const profileIds = Object.values(byZone).sort();
    const deliver = async (slotId: string, ids: string[]) => {
      const slot = { broadcastId, runKey: first.runs[0].runAt, slotId, profileIds: ids, notBefore: 0 };
      await sqs.send(
        new SendMessageCommand({ QueueUrl: slotQueueUrl, MessageBody: JSON.stringify({ slot }) }),
      );
      await advanceClock(httpUrl, 'PT5S');
      await waitForIdle(httpUrl);
    };
    // SQS delivers the run's slot again (at least once) after the republish.
    await deliver('*:0', profileIds);
    // Another slot of the same run with one of them (a zone the customer moved to).
    await deliver('*:7', [profileIds[0]!]);
    assert.equal((await stats(id)).started, 2, 'nobody started twice');
    const view = await broadcast(broadcastId);
    assert.deepEqual([view.entered, view.skipped], [2, 1]);
    assert.deepEqual(view.runs[0].reasons, { entered_this_run: 1 });
    // The next run (a new broadcast of the same journey, reentry: always) enters them again.
    const again = await api.post(`/journeys/${id}/broadcasts`, { segment });
    await advanceClock(httpUrl, 'PT5S');
    await waitForIdle(httpUrl);
    assert.equal((await broadcast(again.body.broadcastId)).entered, 2);
    assert.equal((await stats(id)).started, 4);
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
    const view = await broadcast(created.body.broadcastId);
    assert.deepEqual([view.status, view.entered], ['cancelled', 0]);
  });

  it('answers 400 with the field paths for bad input, 404 for an unknown broadcast', async () => {
    const id = await publishedJourney();
    const { segment } = await audience(['Europe/Paris']);
    const { nowMs } = await advanceClock(httpUrl, 0);
    const past = new Date(nowMs - 3_600_000).toISOString();
    const bad = await api.post(`/journeys/${id}/broadcasts`, {
      segment: 'no-such-segment',
      at: past,
      fallbackTimezone: 'Mars/Olympus',
      recurrence: { cron: 'every monday' },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(issueFields(bad).sort(), ['at', 'fallbackTimezone', 'recurrence.cron', 'segment']);
    const unknown = await api.post(`/journeys/${id}/broadcasts`, { segment: 'no-such-segment' });
    assert.equal(unknown.status, 400);
    assert.deepEqual(issueFields(unknown), ['segment']);
    const draft = uniqueId('bc').toLowerCase();
    assert.equal((await api.putYaml(`/journeys/${draft}`, journeyYaml(draft))).status, 201);
    const unpublished = await api.post(`/journeys/${draft}/broadcasts`, { segment });
    assert.equal(unpublished.status, 400);
    assert.deepEqual(issueFields(unpublished), ['journey']);
    const yesterday = new Date(nowMs - 2 * 86_400_000).toISOString().slice(0, 10);
    const late = await api.post(`/journeys/${id}/broadcasts`, {
      segment,
      localTime: { time: '09:00', date: yesterday },
    });
    assert.equal(late.status, 400);
    assert.deepEqual(issueFields(late), ['localTime']);
    assert.equal((await api.get('/broadcasts/nope')).status, 404);
  });
});
