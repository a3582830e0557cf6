import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  devUnsubscribeSecret,
  lazyUnsubscribeSecret,
  unsubscribeSecret,
  withUnsubscribeSecret,
} from '../../../functions/runtime/unsubscribe-secret.js';
import {
  escapeHtml,
  handleUnsubscribe,
  type UnsubscribeRequest,
  unsubscribeLink,
  unsubscribeProfile,
  unsubscribeToken,
  verifyUnsubscribeToken,
} from '../../../shared/channels/unsubscribe.js';
import { ManualClock } from '../../../shared/clock.js';
import { parseMessage } from '../../../shared/events/index.js';
import { getProfile, ingestMessage, MemoryProfileStore } from '../../../shared/profiles/index.js';

const secret = 'test-secret';

async function setup() {
  let n = 0;
  const clock = new ManualClock(Date.parse('2026-05-01T00:00:00.000Z'));
  const ids = { next: () => `id-${++n}` };
  const store = new MemoryProfileStore();
  const result = await ingestMessage(
    parseMessage({ type: 'identify', userId: 'u1', traits: { email: 'a@b.co' } }, { clock, ids }),
    { store, clock, ids, retry: { baseDelayMs: 0, maxDelayMs: 0 } },
  );
  const profileId = result.profile!.profileId;
  const request = (input: Partial<UnsubscribeRequest>): UnsubscribeRequest => ({
    method: 'GET',
    query: {},
    body: '',
    headers: {},
    ...input,
  });
  const counted: { message: { executionName: string; nodeId: string }; profileId: string; detail: string }[] =
    [];
  const fromMessage = async (
    message: { executionName: string; nodeId: string },
    profileId: string,
    detail: string,
  ) => {
    counted.push({ message, profileId, detail });
  };
  const handle = (input: Partial<UnsubscribeRequest>) =>
    handleUnsubscribe({ secret, store, clock, fromMessage }, request(input));
  return { clock, store, profileId, handle, counted };
}

describe('unsubscribe tokens', () => {
  it('are HMAC-SHA256(profileId, secret) in base64url, 43 characters, no padding', () => {
    const token = unsubscribeToken('p-1', secret);
    assert.equal(token, createHmac('sha256', secret).update('p-1').digest('base64url'));
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  });

  it('verify only for the same profile and secret (constant-time compare, any length)', () => {
    const token = unsubscribeToken('p-1', secret);
    assert.equal(verifyUnsubscribeToken('p-1', token, secret), true);
    assert.equal(verifyUnsubscribeToken('p-2', token, secret), false);
    assert.equal(verifyUnsubscribeToken('p-1', token, 'other-secret'), false);
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    assert.equal(verifyUnsubscribeToken('p-1', flipped, secret), false);
    assert.equal(verifyUnsubscribeToken('p-1', token.slice(0, 10), secret), false);
    assert.equal(verifyUnsubscribeToken('p-1', `${token}x`, secret), false);
    assert.equal(verifyUnsubscribeToken('p-1', '', secret), false);
    assert.equal(verifyUnsubscribeToken('', unsubscribeToken('', secret), secret), false);
    assert.equal(verifyUnsubscribeToken('p-1', 'é'.repeat(43), secret), false);
  });

  it('links carry p and t, appended with & when the base has a query', () => {
    const link = new URL(unsubscribeLink('https://x.example/unsubscribe', 'a b&c', secret));
    assert.equal(link.searchParams.get('p'), 'a b&c');
    assert.equal(link.searchParams.get('t'), unsubscribeToken('a b&c', secret));
    assert.match(
      unsubscribeLink('https://x.example/u?list=1', 'p', secret),
      /^https:\/\/x\.example\/u\?list=1&p=p&t=/,
    );
  });

  it('the secret: env, the dev default locally, an error in the cloud without one', async () => {
    assert.equal(unsubscribeSecret({ CAIRN_UNSUBSCRIBE_SECRET: 's' }), 's');
    assert.equal(unsubscribeSecret({}), devUnsubscribeSecret);
    assert.throws(() => unsubscribeSecret({ CAIRN_AUTH: 'cloud' }), /CAIRN_UNSUBSCRIBE_SECRET/);
    const asked: string[] = [];
    const getSecret = async (id: string) => {
      asked.push(id);
      return 'from-secrets-manager';
    };
    const env = await withUnsubscribeSecret({ CAIRN_UNSUBSCRIBE_SECRET_ARN: 'arn:s', X: '1' }, getSecret);
    assert.equal(env.CAIRN_UNSUBSCRIBE_SECRET, 'from-secrets-manager');
    assert.equal(env.X, '1');
    const plain = { X: '2' };
    assert.equal(await withUnsubscribeSecret(plain, getSecret), plain);
    assert.deepEqual(asked, ['arn:s']);
    await assert.rejects(withUnsubscribeSecret({ CAIRN_UNSUBSCRIBE_SECRET_ARN: 'arn:s' }, async () => ''));
  });

  it('escapes HTML', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('GET|POST /unsubscribe', () => {
  it('GET shows a confirmation form and changes nothing; POST unsubscribes once', async () => {
    const { store, clock, profileId, handle } = await setup();
    const t = unsubscribeToken(profileId, secret);
    const page = await handle({ query: { p: profileId, t } });
    assert.equal(page.status, 200);
    assert.match(page.contentType, /^text\/html/);
    assert.match(page.body, /<form method="post" action="\?p=[^"]+&amp;t=/);
    assert.equal((await getProfile(store, profileId))!.traits.unsubscribed, undefined);

    const oneClick = await handle({
      method: 'POST',
      query: { p: profileId, t },
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(oneClick.status, 200);
    assert.deepEqual(JSON.parse(oneClick.body), { unsubscribed: true });
    const profile = (await getProfile(store, profileId))!;
    assert.equal(profile.traits.unsubscribed, true);
    assert.equal(profile.traits.email, 'a@b.co');

    const commits = store.calls.commit;
    assert.equal(await unsubscribeProfile(store, clock, profileId), false, 'already unsubscribed: no write');
    const form = await handle({
      method: 'POST',
      body: new URLSearchParams({ p: profileId, t }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
    assert.equal(form.status, 200);
    assert.match(form.body, /You are unsubscribed/);
    assert.equal(store.calls.commit, commits);
  });

  it('a link naming its message (e, n) keeps it through the page and counts a real unsubscribe for it once', async () => {
    const { profileId, handle, counted } = await setup();
    const message = { executionName: 'j-v1-abc', nodeId: 'mail' };
    const link = new URL(unsubscribeLink('https://x.example/u', profileId, secret, undefined, message));
    const query = Object.fromEntries(link.searchParams);
    const page = await handle({ query });
    assert.match(page.body, /action="\?p=[^"]+&amp;e=j-v1-abc&amp;n=mail"/);
    assert.equal(counted.length, 0, 'the page alone counts nothing');
    const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };
    await handle({ method: 'POST', query, body: 'action=all', headers: form });
    // Already unsubscribed: the one-click changes nothing, so counts nothing.
    await handle({ method: 'POST', query, body: 'List-Unsubscribe=One-Click' });
    assert.deepEqual(counted, [{ message, profileId, detail: 'all' }]);
  });

  it('a wrong or missing token is 403, the same for known and unknown profiles, and writes nothing', async () => {
    const { store, profileId, handle } = await setup();
    const wrong = unsubscribeToken(profileId, 'not-the-secret');
    const known = await handle({ query: { p: profileId, t: wrong } });
    const unknown = await handle({ query: { p: 'nobody', t: wrong } });
    assert.equal(known.status, 403);
    assert.deepEqual(known, unknown);
    const post = await handle({
      method: 'POST',
      query: { p: profileId },
      body: 'List-Unsubscribe=One-Click',
    });
    assert.equal(post.status, 403);
    assert.equal(JSON.parse(post.body).error.code, 'forbidden');
    const xss = await handle({ query: { p: '<script>alert(1)</script>', t: 'x' } });
    assert.doesNotMatch(xss.body, /<script>alert/);
    assert.equal(store.calls.commit, 1, 'only the identify of setup');
    // An unknown profile with a valid token: 200, nothing written, nothing revealed.
    const ghost = await handle({
      method: 'POST',
      query: { p: 'ghost', t: unsubscribeToken('ghost', secret) },
    });
    assert.equal(ghost.status, 200);
    assert.equal(store.calls.commit, 1);
  });
});

describe('the runtime signs the links it renders and puts in List-Unsubscribe', () => {
  it('CAIRN_UNSUBSCRIBE_URL + ?p&t&e&n with CAIRN_UNSUBSCRIBE_SECRET; in the cloud, no secret is an error', async () => {
    const { createRuntime } = await import('../../../functions/runtime/runtime.js');
    const base = 'https://api.example.com/unsubscribe';
    const runtime = createRuntime({
      env: { CAIRN_UNSUBSCRIBE_URL: base, CAIRN_UNSUBSCRIBE_SECRET: secret },
    });
    const message = { executionName: 'welcome-v1-abc', nodeId: 'hello' };
    assert.equal(
      runtime.step.unsubscribeUrl('p-1', message),
      `${base}?p=p-1&t=${unsubscribeToken('p-1', secret)}&e=welcome-v1-abc&n=hello`,
    );
    const local = createRuntime({ env: {} });
    assert.equal(
      local.step.unsubscribeUrl('p-1', message),
      unsubscribeLink('http://localhost:3000/unsubscribe', 'p-1', devUnsubscribeSecret, undefined, message),
    );
    const cloud = createRuntime({ env: { CAIRN_AUTH: 'cloud' } });
    assert.throws(() => cloud.step.unsubscribeUrl('p-1', message), /CAIRN_UNSUBSCRIBE_SECRET/);
  });
});

describe('lazyUnsubscribeSecret', () => {
  const env = { CAIRN_UNSUBSCRIBE_SECRET_ARN: 'arn:secret', CAIRN_AUTH: 'cloud' };

  it('reads the secret on first use only, and keeps it', async () => {
    let reads = 0;
    const secret = lazyUnsubscribeSecret(env, async () => {
      reads += 1;
      return 'from-secrets-manager';
    });
    assert.equal(reads, 0, 'nothing is read before it is needed');
    assert.equal(await secret(), 'from-secrets-manager');
    assert.equal(await secret(), 'from-secrets-manager');
    assert.equal(reads, 1);
  });

  it('tries again after a failed read', async () => {
    let reads = 0;
    const secret = lazyUnsubscribeSecret(env, async () => {
      reads += 1;
      if (reads === 1) throw new Error('Secrets Manager unavailable');
      return 'second-time';
    });
    await assert.rejects(secret(), /unavailable/);
    assert.equal(await secret(), 'second-time');
  });
});
