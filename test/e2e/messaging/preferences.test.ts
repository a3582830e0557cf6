import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { devUnsubscribeSecret } from '../../../functions/runtime/unsubscribe-secret.js';
import { unsubscribeLink } from '../../../shared/channels/unsubscribe.js';
import { ManualClock } from '../../../shared/clock.js';
import type { ChannelAdapter } from '../../../shared/messaging/channel.js';
import { sendThroughGateway } from '../../../shared/messaging/gateway.js';
import { MemoryMessagingStore } from '../../../shared/messaging/memory.js';
import { memoryRuntimeStore } from '../../../shared/runtime/memory.js';
import { messageIdFor } from '../../../shared/runtime/message-store.js';
import { uniqueId, waitForIdle } from '../../support/local.js';
import { messagingStack } from './stack.js';

/**
 * The preference page on the local stack: the signed link from an email, the page listing the
 * policy's topics, one topic unsubscribed there; then the send gateway skips a message of that
 * topic (`unsubscribed`) and still sends one of another topic.
 */
describe('subscription topics: the preference page and one-click per topic', () => {
  const stack = messagingStack({
    frequencyCaps: [],
    topics: [
      { id: 'newsletter', name: 'The Newsletter', description: 'Once a week' },
      { id: 'product-updates', name: 'Product updates' },
    ],
  });

  async function reader() {
    const userId = uniqueId('reader');
    await stack.api.post('/v1/identify', { userId, traits: { email: `${userId}@example.com` } });
    await waitForIdle(stack.httpUrl);
    const profileId = (await stack.api.get(`/profiles?userId=${userId}`)).body.profileId as string;
    const link = (topic?: string) =>
      unsubscribeLink(`${stack.httpUrl}/unsubscribe`, profileId, devUnsubscribeSecret, topic);
    const traits = async () => (await stack.api.get(`/profiles/${profileId}`)).body.traits;
    return { profileId, link, traits };
  }

  /** What the gateway decides for a marketing email of `topic` to this customer now. */
  async function sendOfTopic(profileId: string, traits: Record<string, unknown>, topic: string) {
    const email: ChannelAdapter<string> = {
      channel: 'email',
      addresses: (recipient) => ({ addresses: [String(recipient.traits.email)] }),
      send: async () => ({ providerMessageId: uniqueId('ses') }),
    };
    const records = memoryRuntimeStore();
    const outcome = await sendThroughGateway(
      {
        channel: 'email',
        category: 'marketing',
        topic,
        recipient: { profileId, traits },
        heldOut: false,
        journeyId: 'digest',
        journeyVersion: 1,
        executionName: uniqueId('digest-v1'),
        nodeId: 'mail',
        templateId: 'digest',
        render: async () => 'hello',
        summary: (text) => text,
      },
      email,
      {
        store: new MemoryMessagingStore(records),
        messages: records,
        clock: new ManualClock(Date.now()),
        policy: async () => (await stack.api.get('/messaging/policy')).body,
        messageIdFor,
      },
    );
    return outcome.outcome === 'skipped' ? `skipped ${outcome.reason}` : outcome.outcome;
  }

  it('one topic unsubscribed on the page: that topic is skipped `unsubscribed`, another still sends', async () => {
    const { profileId, link, traits } = await reader();
    const page = await fetch(link('newsletter'));
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /The Newsletter/);
    assert.match(html, /Product updates/);
    assert.match(html, /Once a week/);

    const posted = await fetch(link('newsletter'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ action: 'topic', topic: 'newsletter' }).toString(),
    });
    assert.equal(posted.status, 200);
    assert.match(await posted.text(), /unsubscribed from this topic/);
    await waitForIdle(stack.httpUrl);
    const now = await traits();
    assert.deepEqual(now.unsubscribedTopics, ['newsletter']);
    assert.equal(await sendOfTopic(profileId, now, 'newsletter'), 'skipped unsubscribed');
    assert.equal(await sendOfTopic(profileId, now, 'product-updates'), 'sent');

    const timeline = JSON.stringify((await stack.api.get(`/profiles/${profileId}/timeline?limit=20`)).body);
    assert.match(timeline, /"Unsubscribed"/);
    assert.match(timeline, /"topic":"newsletter"/);
  });

  it('RFC 8058 one-click from a message of a topic unsubscribes from that topic only', async () => {
    const { profileId, link, traits } = await reader();
    const oneClick = await fetch(link('product-updates'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    assert.equal(oneClick.status, 200);
    assert.deepEqual(await oneClick.json(), { unsubscribed: true, topic: 'product-updates' });
    await waitForIdle(stack.httpUrl);
    const now = await traits();
    assert.notEqual(now.unsubscribed, true);
    assert.equal(await sendOfTopic(profileId, now, 'product-updates'), 'skipped unsubscribed');
    assert.equal(await sendOfTopic(profileId, now, 'newsletter'), 'sent');
  });
});
