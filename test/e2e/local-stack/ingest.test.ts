import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { busEntry } from '../../../shared/http/ingestion.js';
import {
  readDeadLetters,
  readRejectedEvents,
  segmentAnalytics,
  uniqueId,
  useStackClients,
  waitForIdle,
} from '../../support/local.js';

interface ProfileJson {
  profileId: string;
  identities: { userId: string[]; anonymousId: string[]; email: string[] };
  traits: Record<string, unknown>;
  firstSeen: string;
  lastSeen: string;
  counters: { events: number; tracked: Record<string, number> };
}

describe('events reach the same profile through PutEvents and the Segment-compatible HTTP API', () => {
  const stack = useStackClients((config) => ({ events: new EventBridgeClient(config) }));

  async function profileBy(query: string): Promise<{ status: number; profile?: ProfileJson }> {
    const response = await fetch(`${stack.httpUrl}/profiles?${query}`, {
      headers: { authorization: 'Bearer dev-token' },
    });
    if (response.status !== 200) return { status: response.status };
    return { status: 200, profile: (await response.json()) as ProfileJson };
  }

  const entry = (message: Record<string, unknown>): PutEventsRequestEntry => ({
    EventBusName: 'cairn',
    ...busEntry(message, 'shop.web'),
  });

  it('PutEvents with the real EventBridge client builds the profile', async () => {
    const userId = uniqueId('eb');
    const email = `${userId}@example.com`;
    const result = await stack.events.send(
      new PutEventsCommand({
        Entries: [
          entry({ type: 'identify', userId, traits: { email, plan: 'pro' }, messageId: randomUUID() }),
          entry({
            type: 'track',
            userId,
            event: 'Order Completed',
            properties: { total: 42 },
            messageId: randomUUID(),
          }),
        ],
      }),
    );
    assert.equal(result.FailedEntryCount, 0);
    await waitForIdle(stack.httpUrl);
    const { status, profile } = await profileBy(`userId=${encodeURIComponent(userId)}`);
    assert.equal(status, 200);
    assert.deepEqual(profile?.identities.userId, [userId]);
    assert.deepEqual(profile?.identities.email, [email]);
    assert.equal(profile?.traits.plan, 'pro');
    assert.equal(profile?.counters.tracked['Order Completed'], 1);
    const byEmail = await profileBy(`email=${encodeURIComponent(email)}`);
    assert.equal(byEmail.profile?.profileId, profile?.profileId);
  });

  it('@segment/analytics-node pointed at the local HTTP API builds the profile, anonymous history included', async () => {
    const userId = uniqueId('seg');
    const anonymousId = randomUUID();
    const { analytics, errors } = segmentAnalytics(stack.httpUrl, { flushAt: 1 });
    analytics.track({ anonymousId, event: 'Product Viewed', properties: { sku: 'sku-1' } });
    analytics.identify({ userId, anonymousId, traits: { name: 'Ada', plan: 'free' } });
    analytics.track({ userId, event: 'Signed Up' });
    await analytics.closeAndFlush({ timeout: 10_000 });
    assert.deepEqual(errors, []);
    await waitForIdle(stack.httpUrl);
    const { status, profile } = await profileBy(`userId=${encodeURIComponent(userId)}`);
    assert.equal(status, 200);
    assert.deepEqual(profile?.identities.anonymousId, [anonymousId]);
    assert.equal(profile?.traits.name, 'Ada');
    assert.equal(
      profile?.counters.tracked['Product Viewed'],
      1,
      'the anonymous event belongs to the known profile',
    );
    assert.equal(profile?.counters.tracked['Signed Up'], 1);
    const byAnonymous = await profileBy(`anonymousId=${encodeURIComponent(anonymousId)}`);
    assert.equal(byAnonymous.profile?.profileId, profile?.profileId);
  });

  it('counts a duplicate messageId once, whichever way it arrives', async () => {
    const userId = uniqueId('dup');
    const messageId = randomUUID();
    const message = {
      type: 'track',
      userId,
      event: 'Cart Viewed',
      messageId,
      timestamp: new Date().toISOString(),
    };
    await stack.events.send(new PutEventsCommand({ Entries: [entry(message), entry(message)] }));
    await stack.events.send(new PutEventsCommand({ Entries: [entry(message)] }));
    const http = await fetch(`${stack.httpUrl}/v1/track`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('dev-write-key:').toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(message),
    });
    assert.ok(http.status < 300, `POST /v1/track → ${http.status}`);
    await waitForIdle(stack.httpUrl);
    const { profile } = await profileBy(`userId=${encodeURIComponent(userId)}`);
    assert.equal(profile?.counters.tracked['Cart Viewed'], 1);
    assert.equal(profile?.counters.events, 1);
  });

  it('answers 404 for an unknown user and 401 without the token', async () => {
    assert.equal((await profileBy(`userId=${uniqueId('nobody')}`)).status, 404);
    const response = await fetch(`${stack.httpUrl}/profiles?userId=x`);
    assert.equal(response.status, 401);
    assert.ok(((await response.json()) as { error?: { code?: string } }).error?.code);
  });

  it('rejects a bad write key with 401 and puts nothing on the bus', async () => {
    const userId = uniqueId('badkey');
    const response = await fetch(`${stack.httpUrl}/v1/track`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('wrong-key:').toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ userId, event: 'X' }),
    });
    assert.equal(response.status, 401);
    await waitForIdle(stack.httpUrl);
    assert.equal((await profileBy(`userId=${userId}`)).status, 404);
  });

  it('an event ingest refuses is listed with its failing field, is not retried, and creates no profile', async () => {
    const userId = uniqueId('bad');
    const before = (await readDeadLetters(stack.httpUrl)).length;
    // Valid for EventBridge, invalid for Cairn: a track without an event name.
    const result = await stack.events.send(
      new PutEventsCommand({ Entries: [entry({ type: 'track', userId, messageId: randomUUID() })] }),
    );
    assert.equal(result.FailedEntryCount, 0);
    await waitForIdle(stack.httpUrl);
    assert.equal((await profileBy(`userId=${userId}`)).status, 404);
    // Ingest records invalid events in its own dead-letter store (not a bus retry), so the bus DLQ is unchanged.
    assert.equal((await readDeadLetters(stack.httpUrl)).length, before);
    const rejected = (await readRejectedEvents(stack.httpUrl)).filter((letter) =>
      letter.body.includes(userId),
    );
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]?.code, 'validation_failed');
    assert.match(rejected[0]?.reason ?? '', /event/);
  });
});
