import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { splitBranchIndex, splitHash } from '../../../shared/journeys/nodes/split.js';
import { journeyId, journeyTestKit, uniqueId } from '../journeys/support.js';
import { settle } from './support.js';

/**
 * Journey reports on the local stack, with outcomes known in advance: customers go through a split
 * (the arm is the split's own hash of their profile id), a chosen share of each arm converts.
 * The 400-customer journey has a long id (the split hashes 56+ bytes, where the interpreter's own
 * States.Hash was wrong; infra/local/stepfunctions/intrinsics.ts hashes like AWS).
 */
type Kit = Awaited<ReturnType<typeof journeyTestKit>>;
let kit: Kit;
before(async () => {
  kit = await journeyTestKit();
});

function abJourney(id: string, branches: Record<string, unknown>[]) {
  const nodes: Record<string, unknown> = {
    ab: { type: 'split', branches },
    done: { type: 'exit' },
  };
  for (const branch of branches) nodes[branch.next as string] = { type: 'wait', for: 'P1D', next: 'done' };
  return {
    id,
    // Its own trigger: other tests share the stack and send 'Signed Up'.
    trigger: { event: `Entered ${id}` },
    goal: { event: 'Order Completed', within: 'P7D' },
    reentry: 'always',
    start: 'ab',
    nodes,
  };
}

/** Two arms, `armA` (A) and `armB` (B), half of the customers each. */
const evenArms = [
  { weight: 50, next: 'armA', name: 'A' },
  { weight: 50, next: 'armB', name: 'B' },
];

async function batch(events: Record<string, unknown>[]) {
  for (let i = 0; i < events.length; i += 100) {
    const out = await kit.api.post('/v1/batch', { batch: events.slice(i, i + 100) });
    assert.equal(out.status, 200, JSON.stringify(out.body));
  }
  await settle(kit.httpUrl);
}

/** `count` user ids: `<prefix>-0`, `<prefix>-1`, … */
function userIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

/** Tracks `Entered <journeyId>` (the journeys' trigger here) for each user, in batches. */
async function trackEntered(journeyId: string, users: string[]) {
  await batch(users.map((userId) => ({ type: 'track', userId, event: `Entered ${journeyId}` })));
}

/** Enters `count` new customers; returns their user ids grouped by the arm (branch `next`) they took. */
async function enter(journey: ReturnType<typeof abJourney>, count: number, prefix: string) {
  const users = userIds(prefix, count);
  await trackEntered(journey.id, users);
  const split = journey.nodes.ab as { type: 'split'; branches: { weight: number; next: string }[] };
  const arms: Record<string, string[]> = {};
  for (const userId of users) {
    const profileId = await kit.profileId(userId);
    const branch = split.branches[splitBranchIndex(split, splitHash(profileId, journey.id, 'ab'))]!;
    arms[branch.next] = [...(arms[branch.next] ?? []), userId];
  }
  return arms;
}

/** The first `share` of each arm converts; returns how many did per arm. */
async function convert(arms: Record<string, string[]>, shares: Record<string, number>) {
  const converted: Record<string, number> = {};
  const events: Record<string, unknown>[] = [];
  for (const [arm, users] of Object.entries(arms)) {
    converted[arm] = Math.round(users.length * (shares[arm] ?? 0));
    for (const userId of users.slice(0, converted[arm])) {
      events.push({ type: 'track', userId, event: 'Order Completed' });
    }
  }
  await batch(events);
  return converted;
}

async function report(id: string, query = '') {
  const out = await kit.api.get(`/journeys/${id}/report${query}`);
  assert.equal(out.status, 200, JSON.stringify(out.body));
  return out.body;
}

describe('journey report on the local stack', { timeout: 1_200_000 }, () => {
  it('400 customers, 50/50 split, 30% vs 10%: significant, the right winner, every count exact', async () => {
    const id = journeyId('report-ab-long-journey');
    const journey = abJourney(id, evenArms);
    await kit.publish(journey);
    const arms = await enter(journey, 400, uniqueId('ab'));
    const converted = await convert(arms, { armA: 0.3, armB: 0.1 });

    const body = await report(id);
    assert.equal(body.entered, 400);
    assert.equal(body.goal.conversions, converted.armA! + converted.armB!);
    const [experiment] = body.experiments;
    assert.equal(experiment.node, 'ab');
    const byNext = Object.fromEntries(experiment.arms.map((a: { next: string }) => [a.next, a]));
    assert.equal(byNext.armA.entered, arms.armA!.length);
    assert.equal(byNext.armB.entered, arms.armB!.length);
    assert.equal(byNext.armA.conversions, converted.armA);
    assert.equal(byNext.armB.conversions, converted.armB);
    assert.ok(byNext.armA.ci95[0] < byNext.armA.rate && byNext.armA.rate < byNext.armA.ci95[1]);
    assert.equal(experiment.significant, true);
    assert.equal(experiment.winner, 'armA');
    assert.ok(experiment.pValue < 0.001);
    assert.match(experiment.test, /z-test/);
    assert.ok(body.suggestions.some((s: string) => s.includes('Branch A wins')));
    // Converted customers' paths: the split, their arm's wait (where the goal found them).
    const pathA = body.paths.find((p: { nodes: string[] }) => p.nodes.join() === 'ab,armA');
    assert.deepEqual(pathA, { nodes: ['ab', 'armA'], count: converted.armA, conversions: converted.armA });
    assert.equal(body.nodes.ab.entered, 400);
    assert.equal(body.nodes.armA.entered, arms.armA!.length);

    const csv = await kit.api.get(`/journeys/${id}/report?format=csv&table=experiments`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    assert.match(String(csv.body), new RegExp(`ab,armA,A,false,${arms.armA!.length},${converted.armA},`));
  });

  it('40 customers, 12% vs 10%: no winner, and the note says why', async () => {
    const id = journeyId('rs');
    const journey = abJourney(id, evenArms);
    await kit.publish(journey);
    const arms = await enter(journey, 40, uniqueId('small'));
    await convert(arms, { armA: 0.12, armB: 0.1 });
    const [experiment] = (await report(id)).experiments;
    assert.equal(experiment.significant, false);
    assert.equal(experiment.winner, null);
    assert.match(experiment.note, /too few/);
  });

  it('a holdout arm gives the uplift of the journey over doing nothing', async () => {
    const id = journeyId('rh');
    const journey = abJourney(id, [
      { weight: 70, next: 'treated', name: 'journey' },
      { weight: 30, next: 'holdout', name: 'control', holdout: true },
    ]);
    await kit.publish(journey);
    const arms = await enter(journey, 100, uniqueId('hold'));
    const converted = await convert(arms, { treated: 0.4, holdout: 0.1 });
    const body = await report(id);
    const [experiment] = body.experiments;
    assert.deepEqual(
      experiment.arms.map((a: { next: string; entered: number; conversions: number }) => [
        a.next,
        a.entered,
        a.conversions,
      ]),
      [
        ['treated', arms.treated!.length, converted.treated],
        ['holdout', arms.holdout!.length, converted.holdout],
      ],
      JSON.stringify(body.paths),
    );
    const treatedRate = converted.treated! / arms.treated!.length;
    const holdoutRate = converted.holdout! / arms.holdout!.length;
    assert.ok(Math.abs(experiment.uplift.absolute - (treatedRate - holdoutRate)) < 1e-9);
    assert.ok(experiment.uplift.ci95[0] > 0);
    assert.equal(experiment.arms.find((a: { holdout: boolean }) => a.holdout).next, 'holdout');
  });

  it('paths span journey versions, and date ranges count only their days', async () => {
    const id = journeyId('rv');
    const v1 = {
      id,
      trigger: { event: `Entered ${id}` },
      reentry: 'always',
      start: 'pause',
      nodes: { pause: { type: 'wait', for: 'PT1H', next: 'done' }, done: { type: 'exit' } },
    };
    await kit.publish(v1);
    const day1 = new Date(await kit.clockNow()).toISOString().slice(0, 10);
    await trackEntered(id, userIds(uniqueId('v1'), 3));
    await kit.advance('PT2H');
    await kit.advance('P2D');

    await kit.publish({
      ...v1,
      start: 'tag',
      nodes: { tag: { type: 'update', set: { tagged: true }, next: 'pause' }, ...v1.nodes },
    });
    const day3 = new Date(await kit.clockNow()).toISOString().slice(0, 10);
    await trackEntered(id, userIds(uniqueId('v2'), 2));
    await kit.advance('PT2H');

    const paths = await kit.api.get(`/journeys/${id}/paths`);
    assert.equal(paths.status, 200);
    const links = Object.fromEntries(
      paths.body.links.map((l: { from: string; to: string; count: number }) => [
        `${l.from}>${l.to}`,
        l.count,
      ]),
    );
    assert.deepEqual(links, { 'pause>done': 5, 'tag>pause': 2 });
    const all = await report(id);
    assert.deepEqual(
      all.paths.map((p: { nodes: string[]; count: number }) => [p.nodes.join('>'), p.count]),
      [
        ['pause>done', 3],
        ['tag>pause>done', 2],
      ],
    );
    assert.equal(all.entered, 5);
    // Every execution waited the hour in `pause` (plus the stack's own milliseconds): the median is the
    // recorded durations', not a bucket's guess (a bucket there is 160 s wide).
    const median = all.nodes.pause.medianSecondsToNext;
    assert.ok(Math.abs(median - 3600) < 1, `median ${median}`);
    assert.equal((await report(id, `?from=${day1}&to=${day1}`)).entered, 3);
    assert.equal((await report(id, `?from=${day3}`)).entered, 2);
    assert.equal((await kit.api.get(`/journeys/${id}/report?from=yesterday`)).status, 400);
  });

  it('an unsubscribe through a message counts for its node once, from the message history; CSV of messages', async () => {
    const id = journeyId('ru');
    const template = `${id}-news`;
    const mail = { type: 'email', template, next: 'done' };
    await kit.template(template, { subject: 'News', text: 'Bye: {{ unsubscribe_url }}' });
    await kit.publish({
      id,
      trigger: { event: `Entered ${id}` },
      start: 'mail',
      nodes: { mail, done: { type: 'exit' } },
    });
    const users = userIds(uniqueId('unsub'), 3);
    for (const userId of users) await kit.identify(userId, { email: `${userId}@example.com` });
    await trackEntered(id, users);
    const leaver = await kit.profileId(users[0]!);
    const sent = (await kit.outbox(id)).find((m) => m.profileId === leaver)!;
    const link = new URL(/Bye: (\S+)/.exec(sent.text!)![1]!);
    assert.equal(link.searchParams.get('n'), 'mail');
    for (let i = 0; i < 2; i++) {
      const posted = await fetch(`${kit.httpUrl}/unsubscribe${link.search}`, {
        method: 'POST',
        body: 'List-Unsubscribe=One-Click',
      });
      assert.equal(posted.status, 200);
    }
    await settle(kit.httpUrl);

    const body = await report(id);
    assert.equal(body.messages.mail.sent, 3);
    assert.equal(body.messages.mail.unsubscribed, 1);
    const messages = await kit.api.get(`/messages?profileId=${leaver}&journeyId=${id}`);
    const [record] = messages.body.messages;
    assert.deepEqual(
      record.history.map((h: { status: string }) => h.status).filter((s: string) => s === 'unsubscribed'),
      ['unsubscribed'],
    );
    const csv = await kit.api.get(`/journeys/${id}/report?format=csv&table=messages`);
    assert.equal(csv.status, 200);
    const [header, row] = String(csv.body).trim().split(/\r?\n/);
    const columns = header!.split(',');
    const values = row!.split(',');
    assert.equal(values[columns.indexOf('node')], 'mail');
    assert.equal(values[columns.indexOf('sent')], '3');
    assert.equal(values[columns.indexOf('unsubscribed')], '1');
  });
});
