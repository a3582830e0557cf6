import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { graphs, journeyId, journeyTestKit } from './support.js';

/** Signed unsubscribe links on the local stack: email → link → page → POST → the next email is skipped. */

describe('unsubscribe links on the local stack', () => {
  it('the email carries a signed link; GET shows a form; POST unsubscribes; the next email is skipped', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey(
      'unsub',
      { t: { subject: 'News', text: 'Bye: {{ unsubscribe_url }}' } },
      (id) => ({
        trigger: { event: `News ${id}` },
        reentry: 'always',
        ...graphs.sendEmail(`${id}-t`),
      }),
    );
    const userId = `u-${id}`;
    await kit.identify(userId, { email: 'reader@example.com' });
    await kit.track(userId, `News ${id}`);
    const profileId = await kit.profileId(userId);

    const [mail] = await kit.outbox(id);
    const link = /Bye: (\S+)/.exec(mail!.text!)?.[1];
    assert.ok(link, 'the email has the link');
    const url = new URL(link);
    assert.equal(url.pathname, '/unsubscribe');
    assert.equal(url.searchParams.get('p'), profileId);
    assert.match(url.searchParams.get('t')!, /^[A-Za-z0-9_-]{43}$/);
    const local = `${kit.httpUrl}/unsubscribe${url.search}`;

    const page = await fetch(local);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer', 'the token never leaks as a referrer');
    assert.match(page.headers.get('content-security-policy')!, /default-src 'none'/);
    const html = await page.text();
    assert.match(html, /<form method="post"/);
    assert.match(html, new RegExp(`name="p" value="${profileId}"`));

    // Unchanged by the page alone.
    const before = await kit.api.get(`/profiles/${profileId}`);
    assert.notEqual(before.body.traits.unsubscribed, true);

    // A mail client's RFC 8058 one-click POST.
    const posted = await fetch(local, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    assert.equal(posted.status, 200);
    assert.deepEqual(await posted.json(), { unsubscribed: true });
    const after = await kit.api.get(`/profiles/${profileId}`);
    assert.equal(after.body.traits.unsubscribed, true);

    // Idempotent: the form POST again (a browser) answers the confirmation page.
    const again = await fetch(local, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ p: profileId, t: url.searchParams.get('t')! }).toString(),
    });
    assert.equal(again.status, 200);
    assert.match(await again.text(), /unsubscribed/);

    await kit.track(userId, `News ${id}`);
    assert.equal((await kit.outbox(id)).length, 1, 'no second email');
    const stats = await kit.stats(id);
    assert.equal(stats.nodes.send.sent, 1);
    assert.equal(stats.nodes.send.skipped, 1);
    const history = await kit.executions(id);
    assert.equal(history.length, 2);
    const newest = history.find((execution) => execution.executionArn !== undefined)!;
    const events = await kit.history(newest.executionArn!);
    const outcomes = events
      .map(
        (event) =>
          event.taskSucceededEventDetails?.output ?? event.lambdaFunctionSucceededEventDetails?.output,
      )
      .filter((output): output is string => output !== undefined)
      .join('\n');
    assert.match(outcomes, /"reason":"unsubscribed"/);
  });

  it('an unsubscribe emits Unsubscribed onto the bus: exitOn stops the journey, once per unsubscribe', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey(
      'unsubexit',
      { t: { subject: 'Hi', text: 'Bye: {{ unsubscribe_url }}' } },
      (id) => ({
        trigger: { event: `Start ${id}` },
        exitOn: [{ event: 'Unsubscribed' }],
        ...graphs.emailTwice(`${id}-t`, 'P2D'),
      }),
    );
    const userId = `u-${id}`;
    await kit.identify(userId, { email: 'leaver@example.com' });
    await kit.track(userId, `Start ${id}`);
    const [mail] = await kit.outbox(id);
    const link = new URL(/Bye: (\S+)/.exec(mail!.text!)![1]!);
    const local = `${kit.httpUrl}/unsubscribe${link.search}`;
    for (let i = 0; i < 2; i++) {
      const posted = await fetch(local, { method: 'POST', body: 'List-Unsubscribe=One-Click' });
      assert.equal(posted.status, 200);
    }
    await kit.advance('PT1M');
    const stats = await kit.stats(id);
    assert.equal(stats.exited, 1, 'the exitOn event stopped the execution');
    assert.equal(stats.nodes.pause.waiting, 0);
    const [execution] = await kit.executions(id);
    assert.equal((await kit.describe(execution!.executionArn!)).status, 'ABORTED');
    const profileId = await kit.profileId(userId);
    const timeline = await kit.api.get(`/profiles/${profileId}/timeline`);
    const unsubscribed = timeline.body.events.filter(
      (event: { event?: string }) => event.event === 'Unsubscribed',
    );
    assert.equal(unsubscribed.length, 1, 'one event for two clicks');
    await kit.advance('P3D');
    assert.equal((await kit.outbox(id)).length, 1, 'no second email');
  });

  it('a wrong or missing token is 403 and does not say whether the profile exists', async () => {
    const kit = await journeyTestKit();
    const userId = `u-${journeyId('unsub403')}`;
    await kit.identify(userId, { email: 'someone@example.com' });
    const profileId = await kit.profileId(userId);
    const bad = 'A'.repeat(43);
    const known = await fetch(`${kit.httpUrl}/unsubscribe?p=${profileId}&t=${bad}`);
    const unknown = await fetch(`${kit.httpUrl}/unsubscribe?p=no-such-profile&t=${bad}`);
    assert.equal(known.status, 403);
    assert.equal(unknown.status, 403);
    assert.equal(await known.text(), await unknown.text());
    const missing = await fetch(`${kit.httpUrl}/unsubscribe`, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
    });
    assert.equal(missing.status, 403);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'forbidden');
    const escaped = await fetch(`${kit.httpUrl}/unsubscribe?p=%3Cscript%3E&t=x`);
    assert.equal(escaped.status, 403);
    assert.doesNotMatch(await escaped.text(), /<script>/);
    const profile = await kit.api.get(`/profiles/${profileId}`);
    assert.notEqual(profile.body.traits.unsubscribed, true);
  });
});
