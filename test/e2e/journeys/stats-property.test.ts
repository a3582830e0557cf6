/**
 * Property test of the journey stats on the local stack: random valid journeys (every node type,
 * goals and exit events), random customers and event sequences (entries, awaited events, goals, exit
 * events, removals, clock advances); after every step, for every node, entered = completed + waiting
 * + failed + skipped + exited, and no split or branch counts more choices than customers it had.
 * Seeded: a failure names its seed and the action list, and `CAIRN_PROPERTY_SEED=<n>` replays it.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { closedPort } from '../../support/net.js';
import { assertNodesAddUp } from '../../support/stats.js';
import { journeyId, journeyTestKit } from './support.js';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Endpoints {
  ok: string;
  error: string;
  refused: string;
}

/** A DAG along a chain (valid by construction): node i links forward only; the last node exits. */
function generate(seed: number, id: string, template: string, urls: Endpoints) {
  const next = random(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
  const n = 3 + Math.floor(next() * 6);
  const name = (i: number) => `n${i}`;
  const later = (i: number) => name(i + 1 + Math.floor(next() * (n - 1 - i)));
  const nodes: Record<string, unknown> = {};
  for (let i = 0; i < n - 1; i++) {
    const to = name(i + 1);
    const kind = pick([
      'email',
      'webhook',
      'waitFor',
      'waitUntil',
      'branch',
      'split',
      'update',
      'wait',
      'wait',
    ]);
    nodes[name(i)] = {
      email: { type: 'email', template, next: to },
      webhook: {
        type: 'webhook',
        url: pick([urls.ok, urls.ok, urls.error, urls.refused]),
        retries: 0,
        next: to,
      },
      waitFor: {
        type: 'waitFor',
        event: `Reply ${id}`,
        timeout: pick(['PT2H', 'P1D']),
        // biome-ignore lint/suspicious/noThenProperty: `then` is a waitFor field of the journey format
        then: to,
        else: later(i),
      },
      waitUntil: { type: 'wait', until: { time: '09:00', timezone: 'UTC' }, next: to },
      branch: {
        type: 'branch',
        cases: [{ when: { traits: { plan: ['pro'] } }, next: to }],
        default: later(i),
      },
      split: {
        type: 'split',
        branches: [
          { weight: 50, next: to },
          { weight: 50, next: later(i) },
        ],
      },
      update: { type: 'update', increment: { visits: 1 }, next: to },
      wait: { type: 'wait', for: pick(['PT1H', 'PT3H', 'P1D']), next: to },
    }[kind];
  }
  nodes[name(n - 1)] = { type: 'exit' };
  return {
    id,
    trigger: { event: `Start ${id}` },
    reentry: pick(['always', 'never']),
    ...(next() < 0.6 && { goal: { event: `Bought ${id}`, within: 'P7D' } }),
    ...(next() < 0.6 && { exitOn: [{ event: `Stop ${id}` }] }),
    start: name(0),
    nodes,
  };
}

describe('journey stats add up after every step (property test over random journeys)', () => {
  let hooks: Server;
  let urls: Endpoints;
  before(async () => {
    hooks = createHttpServer((request, response) => {
      request.resume();
      response.statusCode = request.url === '/error' ? 500 : 200;
      response.end('{}');
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    const { port } = hooks.address() as { port: number };
    urls = {
      ok: `http://127.0.0.1:${port}/ok`,
      error: `http://127.0.0.1:${port}/error`,
      refused: `http://127.0.0.1:${await closedPort()}/hook`,
    };
  });
  after(() => new Promise<void>((resolve) => hooks.close(() => resolve())));

  const seeds = process.env.CAIRN_PROPERTY_SEED
    ? [Number(process.env.CAIRN_PROPERTY_SEED)]
    : [11, 23, 37, 41, 53, 67, 79, 97];
  for (const seed of seeds) {
    it(`seed ${seed}`, async () => {
      const kit = await journeyTestKit();
      const id = journeyId(`prop${seed}`);
      const template = `${id}-t`;
      await kit.template(template, { subject: 'Hi', text: 'Hello' });
      const journey = generate(seed, id, template, urls);
      await kit.publish(journey);
      const next = random(seed * 7919);
      const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
      const customers = [0, 1, 2, 3].map((i) => `c${i}-${id}`);
      for (const [i, userId] of customers.entries()) {
        await kit.identify(userId, {
          ...(i % 2 === 0 && { email: `${userId}@example.com` }),
          plan: i < 2 ? 'pro' : 'free',
        });
      }
      const done: string[] = [];
      const check = async () => {
        const stats = await kit.stats(id);
        assertNodesAddUp(
          stats,
          `seed ${seed} after [${done.join(', ')}] in ${JSON.stringify(journey.nodes)}:`,
        );
        return stats;
      };
      for (let step = 0; step < 12; step++) {
        const userId = pick(customers);
        const action = pick([
          'enter',
          'enter',
          'enter',
          'reply',
          'buy',
          'stop',
          'advance',
          'advance',
          'remove',
        ]);
        done.push(`${action} ${userId.slice(0, 2)}`);
        if (action === 'enter') await kit.track(userId, `Start ${id}`);
        else if (action === 'reply') await kit.track(userId, `Reply ${id}`);
        else if (action === 'buy') await kit.track(userId, `Bought ${id}`);
        else if (action === 'stop') await kit.track(userId, `Stop ${id}`);
        else if (action === 'advance') await kit.advance(pick(['PT30M', 'PT2H', 'P1D']));
        else {
          const profileId = await kit.profileId(userId);
          const removed = await kit.api.delete(`/journeys/${id}/enrollments/${profileId}`);
          assert.ok([200, 404].includes(removed.status), JSON.stringify(removed.body));
        }
        await check();
      }
      await kit.advance('P10D');
      const stats = await check();
      for (const [nodeId, node] of Object.entries(stats.nodes) as [string, { waiting: number }][]) {
        assert.equal(node.waiting, 0, `seed ${seed}: ${nodeId} still has customers waiting after 10 days`);
      }
    });
  }
});
