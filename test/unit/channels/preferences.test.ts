import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  handleUnsubscribe,
  type UnsubscribeRequest,
  unsubscribeLink,
  unsubscribeToken,
} from '../../../shared/channels/unsubscribe.js';
import { ManualClock } from '../../../shared/clock.js';
import { type NormalizedMessage, parseMessage } from '../../../shared/events/index.js';
import { getProfile, ingestMessage, MemoryProfileStore } from '../../../shared/profiles/index.js';

/** The preference page behind the unsubscribe link: topics, channel, all marketing, RFC 8058 per topic. */

const secret = 'test-secret';
const topics = [
  { id: 'newsletter', name: 'Weekly <b>news</b>', description: 'Every "Monday"' },
  { id: 'product-updates', name: 'Product updates' },
];

async function preferences() {
  const clock = new ManualClock(Date.parse('2026-05-01T00:00:00.000Z'));
  let n = 0;
  const ids = { next: () => `id-${++n}` };
  const store = new MemoryProfileStore();
  const { profile } = await ingestMessage(
    parseMessage({ type: 'identify', userId: 'u1', traits: { email: 'a@b.co' } }, { clock, ids }),
    { store, clock, ids, retry: { baseDelayMs: 0, maxDelayMs: 0 } },
  );
  const profileId = profile!.profileId;
  const published: NormalizedMessage[] = [];
  const t = unsubscribeToken(profileId, secret);
  const call = (input: Partial<UnsubscribeRequest>) =>
    handleUnsubscribe(
      { secret, store, clock, topics: async () => topics, publish: async (m) => void published.push(m) },
      { method: 'GET', query: { p: profileId, t }, body: '', headers: {}, ...input },
    );
  const post = (fields: Record<string, string | string[]>, query: Record<string, string> = {}) => {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields))
      for (const one of [value].flat()) body.append(name, one);
    return call({
      method: 'POST',
      query: { p: profileId, t, ...query },
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
  };
  const traits = async () => (await getProfile(store, profileId))!.traits;
  return { profileId, call, post, traits, published };
}

describe('the preference page', () => {
  it('lists the policy’s topics as checked boxes, escaped, with forms that need no script', async () => {
    const { call, profileId } = await preferences();
    assert.equal((await call({ query: { p: profileId, t: 'forged' } })).status, 403, 'no token, no page');
    const link = new URL(unsubscribeLink('https://x.example/unsubscribe', profileId, secret, 'newsletter'));
    const shown = await call({ query: Object.fromEntries(link.searchParams) });
    assert.equal(shown.status, 200);
    assert.match(shown.body, /Weekly &lt;b&gt;news&lt;\/b&gt;/);
    assert.match(shown.body, /Every &quot;Monday&quot;/);
    assert.doesNotMatch(shown.body, /<b>news/);
    assert.doesNotMatch(shown.body, /<script/i);
    assert.match(shown.body, /name="subscribed" value="newsletter" checked/);
    assert.match(shown.body, /name="subscribed" value="product-updates" checked/);
    assert.match(shown.body, /You received this as part of <strong>Weekly &lt;b&gt;news/);
    assert.match(shown.body, /Unsubscribe from all emails/);
    assert.match(shown.body, /Unsubscribe from all marketing/);
    assert.match(shown.body, /action="\?p=[^"]+&amp;t=[^"]+&amp;topic=newsletter"/);
  });

  it('unsubscribes from one topic only, emits Unsubscribed with the topic, and shows it unchecked', async () => {
    const { post, traits, published } = await preferences();
    const done = await post({ action: 'topic', topic: 'newsletter' });
    assert.equal(done.status, 200);
    assert.match(done.body, /You are unsubscribed from this topic/);
    assert.match(done.body, /value="newsletter">/, 'unchecked now');
    assert.deepEqual((await traits()).unsubscribedTopics, ['newsletter']);
    assert.equal((await traits()).unsubscribed, undefined, 'still gets other marketing');
    assert.deepEqual(
      published.map((m) => [m.event, m.properties]),
      [['Unsubscribed', { channel: 'email', topic: 'newsletter', scope: 'topic' }]],
    );
    await post({ action: 'topic', topic: 'newsletter' });
    assert.equal(published.length, 1, 'already off: nothing emitted again');
  });

  it('saving the checkboxes unsubscribes from unticked topics and subscribes again to ticked ones', async () => {
    const { post, traits, published } = await preferences();
    await post({ action: 'save', subscribed: ['product-updates'] });
    assert.deepEqual((await traits()).unsubscribedTopics, ['newsletter']);
    await post({ action: 'save', subscribed: ['newsletter', 'product-updates'] });
    assert.deepEqual((await traits()).unsubscribedTopics, []);
    assert.deepEqual(
      published.map((m) => [m.event, m.properties?.topic]),
      [
        ['Unsubscribed', 'newsletter'],
        ['Subscribed', 'newsletter'],
      ],
    );
  });

  it('unsubscribes from a channel, or from all marketing, and subscribes again', async () => {
    const { post, traits, published } = await preferences();
    await post({ action: 'channel', channel: 'sms' });
    assert.deepEqual((await traits()).unsubscribedChannels, ['sms']);
    const all = await post({ action: 'all' });
    assert.match(all.body, /You are unsubscribed from all marketing messages/);
    assert.equal((await traits()).unsubscribed, true);
    await post({ action: 'resubscribe' });
    assert.equal((await traits()).unsubscribed, false);
    assert.deepEqual(
      published.map((m) => [m.event, m.properties?.scope, m.properties?.channel]),
      [
        ['Unsubscribed', 'channel', 'sms'],
        ['Unsubscribed', 'all', 'email'],
        ['Subscribed', 'all', 'email'],
      ],
    );
  });

  it('refuses a form that names no real scope (400), writing nothing', async () => {
    const { post, traits } = await preferences();
    assert.equal((await post({ action: 'topic', topic: '<x>' })).status, 400);
    assert.equal((await post({ action: 'channel', channel: 'fax' })).status, 400);
    assert.equal((await post({ action: 'delete-everything' })).status, 400);
    assert.equal((await traits()).unsubscribedTopics, undefined);
  });
});

describe('RFC 8058 one-click', () => {
  it('unsubscribes from the topic of the message only', async () => {
    const { call, profileId, traits, published } = await preferences();
    const link = new URL(unsubscribeLink('https://x.example/u', profileId, secret, 'product-updates'));
    const oneClick = await call({
      method: 'POST',
      query: Object.fromEntries(link.searchParams),
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(oneClick.status, 200);
    assert.deepEqual(JSON.parse(oneClick.body), { unsubscribed: true, topic: 'product-updates' });
    assert.deepEqual((await traits()).unsubscribedTopics, ['product-updates']);
    assert.notEqual((await traits()).unsubscribed, true, 'other marketing still arrives');
    assert.deepEqual(published[0]?.properties, {
      channel: 'email',
      topic: 'product-updates',
      scope: 'topic',
    });
  });
});
