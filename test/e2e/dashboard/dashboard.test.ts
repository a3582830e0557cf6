import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { dashboardCsp } from '../../../functions/api/app/assets.js';
import { splitBranchIndex, splitHash } from '../../../shared/journeys/nodes/split.js';
import { evenSplit } from '../../support/journeys.js';
import { settle } from '../analytics/support.js';
import { journeyId, journeyTestKit, uniqueId } from '../journeys/support.js';

/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (no browser
 * download). Pages load without console errors (a CSP violation is one), the graph has one element
 * per node with the API's counts, the experiment shows its verdict, sign-in and navigation work.
 * Screenshots go to .cairn/screenshots (docs/screenshots with CAIRN_UPDATE_SCREENSHOTS=1: the README's).
 */
const chromiumPath =
  process.env.CAIRN_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const shots = process.env.CAIRN_UPDATE_SCREENSHOTS ? 'docs/screenshots' : '.cairn/screenshots';

type Kit = Awaited<ReturnType<typeof journeyTestKit>>;
let kit: Kit;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const id = journeyId('dash');
const segmentId = `${id}-readers`;
let users: string[] = [];
const definition = {
  id,
  name: 'Spring promotion',
  // Its own trigger: other tests share the stack and send 'Signed Up'.
  trigger: { event: `Entered ${id}` },
  goal: { event: 'Order Completed', within: 'P7D' },
  reentry: 'always',
  start: 'welcome',
  nodes: {
    welcome: { type: 'email', template: `${id}-hello`, next: 'ab' },
    ab: evenSplit({ discount: 'Discount', story: 'Story' }),
    discount: { type: 'wait', for: 'P1D', next: 'done' },
    story: { type: 'wait', for: 'P1D', next: 'done' },
    done: { type: 'exit' },
  },
};

before(async () => {
  assert.ok(chromiumPath, 'chromium is not installed (apt-get install chromium)');
  kit = await journeyTestKit();
  await kit.template(`${id}-hello`, { subject: 'Hello {{ profile.firstName }}', text: 'Welcome' });
  await kit.publish(definition);
  // A segment of this test's customers, filled as their traits arrive.
  const segment = await kit.api.put(`/segments/${segmentId}`, {
    id: segmentId,
    name: 'Spring readers',
    where: { traits: { campaign: [id] } },
  });
  assert.equal(segment.status, 201, JSON.stringify(segment.body));
  const prefix = uniqueId('dash');
  users = Array.from({ length: 80 }, (_, i) => `${prefix}-${i}`);
  const events = users.flatMap((userId) => [
    {
      type: 'identify',
      userId,
      traits: { email: `${userId}@example.com`, firstName: 'Ada', campaign: id },
    },
    { type: 'track', userId, event: `Entered ${id}` },
  ]);
  for (let i = 0; i < events.length; i += 100) {
    assert.equal((await kit.api.post('/v1/batch', { batch: events.slice(i, i + 100) })).status, 200);
  }
  await settle(kit.httpUrl);
  // Half of the Discount arm buys, one in ten of the Story arm.
  const buyers: string[] = [];
  let discount = 0;
  let story = 0;
  for (const userId of users) {
    const hash = splitHash(await kit.profileId(userId), id, 'ab');
    const arm = definition.nodes.ab.branches[splitBranchIndex(definition.nodes.ab as never, hash)]!.next;
    if (arm === 'discount' && discount++ % 2 === 0) buyers.push(userId);
    if (arm === 'story' && story++ % 10 === 0) buyers.push(userId);
  }
  await kit.api.post('/v1/batch', {
    batch: buyers.map((userId) => ({ type: 'track', userId, event: 'Order Completed' })),
  });
  await settle(kit.httpUrl);
  // The others wait out their day and leave at `done`: every path ends, at the goal or the exit.
  await kit.advance('P2D');
  await settle(kit.httpUrl);

  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await mkdir(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
});

describe('the dashboard in Chromium', { timeout: 600_000 }, () => {
  it('asks for the token, refuses a wrong one, signs in with the right one', async () => {
    await page.goto(`${kit.httpUrl}/app/`);
    await page.fill('#token', 'wrong-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('text=That token was not accepted.');
    await page.fill('#token', 'dev-token');
    await page.click('button[type=submit]');
    await page.waitForSelector(`a[data-journey="${id}"]`);
    await page.screenshot({ path: join(shots, 'journeys.png') });
    // The one 401 the wrong token caused is the only console error allowed.
    const unexpected = problems.filter((p) => !p.includes('401'));
    problems.length = 0;
    assert.deepEqual(unexpected, []);
  });

  it('draws one graph node per journey node, with the API report counts', async () => {
    await page.click(`a[data-journey="${id}"]`);
    await page.waitForSelector('svg.journey-graph g.node');
    const report = (await kit.api.get(`/journeys/${id}/report`)).body;
    const drawn = await page.$$eval('svg.journey-graph g.node', (nodes) =>
      nodes.map((n) => [n.getAttribute('data-node'), Number(n.getAttribute('data-entered'))]),
    );
    assert.deepEqual(
      Object.fromEntries(drawn),
      Object.fromEntries(Object.keys(definition.nodes).map((node) => [node, report.nodes[node].entered])),
    );
    assert.equal(await page.textContent('[data-kpi=entered]'), String(report.entered));
    await page.click('g.node[data-node="welcome"]');
    await page.waitForSelector('[data-panel="welcome"]');
    const panel = await page.textContent('[data-panel="welcome"]');
    assert.match(panel ?? '', new RegExp(`Sent${report.messages.welcome.sent}`));
    // Message performance: every count and rate of the report's row, in its column.
    const m = report.messages.welcome;
    const cells = await page.$$eval('tr[data-message="welcome"] td', (tds) =>
      tds.map((td) => td.textContent),
    );
    const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
    assert.deepEqual(cells, [
      'welcome',
      m.channel,
      ...[m.sent, m.delivered, m.opened].map(String),
      percent(m.openRate),
      String(m.clicked),
      percent(m.clickRate),
      ...[m.bounced, m.complained, m.unsubscribed].map(String),
    ]);
    await page.screenshot({ path: join(shots, 'journey.png'), fullPage: true });
  });

  it('shows the experiment verdict and the confidence interval of every arm', async () => {
    const report = (await kit.api.get(`/journeys/${id}/report`)).body;
    const [experiment] = report.experiments;
    const verdict = await page.textContent(`[data-experiment="ab"] .verdict`);
    assert.ok(verdict?.includes(experiment.note), `${verdict} / ${experiment.note}`);
    for (const arm of experiment.arms) {
      const label = await page.textContent(`[data-experiment="ab"] text[data-arm="${arm.next}"]`);
      assert.ok(label?.startsWith(`${(arm.rate * 100).toFixed(1)}%`), label ?? '');
    }
    const element = await page.$('[data-experiment="ab"]');
    await element!.screenshot({ path: join(shots, 'experiment.png') });
    // The Sankey: one link per link of GET /paths, with its count.
    const { links } = (await kit.api.get(`/journeys/${id}/paths`)).body as {
      links: { from: string; to: string; count: number }[];
    };
    const drawn = await page.$$eval('svg.sankey .sankey-link', (paths) =>
      paths.map(
        (p) => `${p.getAttribute('data-from')}>${p.getAttribute('data-to')}=${p.getAttribute('data-count')}`,
      ),
    );
    assert.deepEqual(drawn.sort(), links.map((l) => `${l.from}>${l.to}=${l.count}`).sort());
    assert.ok(
      links.some((l) => l.to === 'done'),
      'paths run on to the exit',
    );
    const sankey = await page.$('svg.sankey');
    await sankey!.screenshot({ path: join(shots, 'paths.png') });
  });

  it('finds a customer and shows the timeline the API answers', async () => {
    await page.click('nav a[href="#/profiles"]');
    await page.waitForSelector('#who');
    await page.fill('#who', `${id}-nobody`);
    await page.click('button[type=submit]');
    await page.waitForSelector('text=No profile has that identifier.');
    const profileId = await kit.profileId(users[0]!);
    await page.fill('#who', users[0]!);
    await page.click('button[type=submit]');
    await page.waitForSelector(`[data-profile="${profileId}"]`);
    const timeline = (await kit.api.get(`/profiles/${profileId}/timeline?limit=100`)).body;
    const shown = await page.$$eval(`[data-profile="${profileId}"] ol.timeline li`, (items) => items.length);
    assert.equal(shown, timeline.entries.length);
    assert.ok(shown >= 3, `${shown} timeline entries`); // identify, track, the welcome email at least
    await page.screenshot({ path: join(shots, 'profile.png'), fullPage: true });
  });

  it('shows segment sizes and lifecycle stage counts equal to the API', async () => {
    // The page reads GET /lifecycle's `now` (profiles per stage) in the order of `definition.stages`.
    const shownRows = (attribute: string) =>
      page.$$eval(
        `tr[${attribute}]`,
        (rows, name) =>
          rows.map((row) => [row.getAttribute(name), row.querySelector('td:last-child')?.textContent ?? '']),
        attribute,
      );
    let lifecycle: { definition: { stages: { name: string }[] }; now: Record<string, number> } | undefined;
    let stages: (string | null)[][] = [];
    // Other tests may add profiles meanwhile: the page and the API are compared at one moment.
    for (let attempt = 0; attempt < 5; attempt++) {
      await page.click('nav a[href="#/segments"]');
      await page.waitForSelector('tr[data-stage]');
      stages = await shownRows('data-stage');
      lifecycle = (await kit.api.get('/lifecycle')).body;
      const expected = lifecycle!.definition.stages.map(({ name }) => [
        name,
        (lifecycle!.now[name] ?? 0).toLocaleString('en-US'),
      ]);
      if (JSON.stringify(stages.slice(0, expected.length)) === JSON.stringify(expected)) break;
      await page.click('nav a[href="#/"]');
    }
    assert.deepEqual(
      stages,
      [
        ...lifecycle!.definition.stages.map(({ name }) => name),
        ...Object.keys(lifecycle!.now).filter(
          (name) => !lifecycle!.definition.stages.some((s) => s.name === name),
        ),
      ].map((name) => [name, (lifecycle!.now[name] ?? 0).toLocaleString('en-US')]),
    );
    // This test's 80 customers are new profiles: the counts are not all zero.
    assert.ok((lifecycle!.now.new ?? 0) >= 80, JSON.stringify(lifecycle!.now));
    const segments = (await kit.api.get('/segments')).body.segments as { id: string; count: number }[];
    const ours = segments.find((s) => s.id === segmentId);
    assert.equal(ours?.count, 80);
    const segmentRows = Object.fromEntries(await shownRows('data-segment'));
    assert.equal(segmentRows[segmentId], '80');
    await page.screenshot({ path: join(shots, 'segments.png'), fullPage: true });
  });

  it('navigates between the pages without errors', async () => {
    await page.click('nav a[href="#/profiles"]');
    await page.waitForSelector('#who');
    await page.click('nav a[href="#/segments"]');
    await page.waitForSelector('h1:text("Segments")');
    await page.click('nav a[href="#/"]');
    await page.waitForSelector(`a[data-journey="${id}"]`);
    assert.deepEqual(
      problems.filter((p) => !/404|501/.test(p)),
      [],
    );
  });

  it('refreshes the numbers while the page stays open', async () => {
    await page.click('nav a[href="#/"]');
    const entered = `tr:has(a[data-journey="${id}"]) td:nth-child(4)`;
    await page.waitForSelector(entered);
    const before = (await kit.api.get(`/journeys/${id}/stats`)).body.started as number;
    assert.equal(await page.textContent(entered), before.toLocaleString('en-US'));
    const more = Array.from({ length: 3 }, (_, i) => `${users[0]}-later-${i}`);
    await kit.api.post('/v1/batch', {
      batch: more.flatMap((userId) => [
        { type: 'identify', userId, traits: { email: `${userId}@example.com` } },
        { type: 'track', userId, event: `Entered ${id}` },
      ]),
    });
    await settle(kit.httpUrl);
    const after = (await kit.api.get(`/journeys/${id}/stats`)).body.started as number;
    assert.equal(after, before + 3);
    // No navigation, no reload: the page fetches the same numbers again every 5 s.
    const expected = after.toLocaleString('en-US');
    let shown = await page.textContent(entered);
    for (const deadline = Date.now() + 20_000; shown !== expected && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      shown = await page.textContent(entered);
    }
    assert.equal(shown, expected);
  });

  it('on AWS: signs in on the Cognito hosted page with the code grant and PKCE (S256), under the strict CSP', async () => {
    // A stand-in for the user pool domain: the api serves config.json (and the CSP) as it does on AWS
    // with CAIRN_SIGN_IN_URL; the hosted page answers with a code, the token endpoint checks PKCE.
    const cognito = 'https://cairn-test.auth.eu-west-1.amazoncognito.com';
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const hosted = await context.newPage();
    const errors: string[] = [];
    hosted.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    let challenge = '';
    let exchanged: URLSearchParams | undefined;
    await hosted.route(`${kit.httpUrl}/app/**`, async (route) => {
      const response = await route.fetch();
      const csp = dashboardCsp(cognito);
      if (route.request().url().endsWith('/config.json')) {
        const signIn = { kind: 'cognito', url: cognito, clientId: 'dashboard-client' };
        return route.fulfill({
          response,
          json: { signIn },
          headers: { ...response.headers(), 'content-security-policy': csp },
        });
      }
      return route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': csp } });
    });
    await hosted.route(`${cognito}/oauth2/authorize?**`, async (route) => {
      const query = new URL(route.request().url()).searchParams;
      assert.equal(query.get('response_type'), 'code');
      assert.equal(query.get('client_id'), 'dashboard-client');
      assert.equal(query.get('code_challenge_method'), 'S256');
      assert.equal(query.get('redirect_uri'), `${kit.httpUrl}/app/`);
      challenge = query.get('code_challenge')!;
      const back = `${query.get('redirect_uri')}?code=the-code&state=${query.get('state')}`;
      // The hosted page sends the browser back (a new navigation, so it is routed like the first).
      await route.fulfill({
        contentType: 'text/html',
        body: `<script>location.replace(${JSON.stringify(back)})</script>`,
      });
    });
    await hosted.route(`${cognito}/oauth2/token`, async (route) => {
      exchanged = new URLSearchParams(route.request().postData() ?? '');
      const verified = createHash('sha256')
        .update(exchanged.get('code_verifier') ?? '')
        .digest('base64url');
      if (exchanged.get('code') !== 'the-code' || verified !== challenge)
        return route.fulfill({ status: 400, json: { error: 'invalid_grant' } });
      // The local API accepts its token where AWS's JWT authorizer accepts Cognito's access token.
      await route.fulfill({
        json: { access_token: 'dev-token', token_type: 'Bearer', expires_in: 3600 },
        headers: { 'access-control-allow-origin': kit.httpUrl },
      });
    });
    await hosted.goto(`${kit.httpUrl}/app/#/profiles`);
    await hosted.click('#hosted-signin');
    await hosted.waitForSelector('#who', { timeout: 15_000 }).catch(async (error: Error) => {
      throw new Error(`${error.message}: at ${hosted.url()}: ${await hosted.textContent('body')} ${errors}`);
    });
    assert.equal(exchanged?.get('grant_type'), 'authorization_code');
    assert.equal(new URL(hosted.url()).search, '', 'the code is gone from the address bar');
    assert.equal(new URL(hosted.url()).hash, '#/profiles', 'back where the marketer was');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
