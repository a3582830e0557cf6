/**
 * Journeys generated from a seeded random source: every valid one compiles to a definition
 * asl-validator accepts, within 2 transitions per node, and the validator's graph rules agree with
 * an independent check of the generated graph.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commonPathTransitions, compileJourney } from '../../../shared/journeys/compile.js';
import { journeyIssues, validateJourney } from '../../../shared/journeys/validate.js';
import { aslProblems } from '../../../statemachines/asl-check.js';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A DAG of n nodes (links only go forward) along a chain, so it is valid by construction; the last node exits. */
function generate(seed: number) {
  const next = random(seed);
  const n = 2 + Math.floor(next() * 12);
  const id = (i: number) => `n${i}`;
  const later = (i: number) => id(i + 1 + Math.floor(next() * (n - 1 - i)));
  const nodes: Record<string, unknown> = {};
  for (let i = 0; i < n - 1; i++) {
    const kinds = ['email', 'webhook', 'waitFor', 'waitUntil', 'branch', 'split', 'update', 'wait'];
    const kind = kinds[Math.floor(next() * kinds.length)]!;
    const to = id(i + 1); // the chain keeps every node reachable; other links jump forward at random
    nodes[id(i)] = {
      email: { type: 'email', template: 't', next: to },
      webhook: { type: 'webhook', url: 'https://h.example.com', next: to },
      // biome-ignore lint/suspicious/noThenProperty: `then` is a waitFor field of the journey format
      waitFor: { type: 'waitFor', event: 'E', timeout: 'PT1H', then: to, else: later(i) },
      waitUntil: { type: 'wait', until: { time: '09:00', weekdays: ['mon', 'fri'] }, next: to },
      branch: { type: 'branch', cases: [{ when: { traits: { a: [1] } }, next: to }], default: later(i) },
      split: {
        type: 'split',
        branches: [
          { weight: 25, next: to },
          { weight: 75, next: later(i), holdout: true },
        ],
      },
      update: { type: 'update', increment: { n: 1 }, next: to },
      wait: { type: 'wait', for: 'P1D', next: to },
    }[kind];
  }
  nodes[id(n - 1)] = { type: 'exit' };
  return { id: `gen-${seed}`, name: `Generated ${seed}`, trigger: { event: 'E' }, start: id(0), nodes };
}

describe('generated journeys', () => {
  it('compile to valid ASL within 2 transitions per node', () => {
    let checked = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const document = generate(seed);
      assert.deepEqual(journeyIssues(document), [], `seed ${seed}`);
      const asl = compileJourney(validateJourney(document));
      // asl-validator builds its JSON Schema validator on every call (~0.5 s): check a sample.
      if (seed % 30 === 0) assert.deepEqual(aslProblems(asl), [], `seed ${seed}`);
      for (const [node, count] of Object.entries(commonPathTransitions(asl))) {
        assert.ok(count <= 2, `seed ${seed}: ${node} = ${count}`);
      }
      checked++;
    }
    assert.equal(checked, 150);
  });

  it('adding a back link without a wait is always caught as a cycle', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const document = generate(seed);
      const first = document.nodes.n0 as { type: string; next?: string };
      if (first.type !== 'update' && first.type !== 'email') continue;
      const loop = { ...document, nodes: { ...document.nodes, n0: { ...first, next: 'n0' } } };
      assert.ok(
        journeyIssues(loop).some((issue) => /cycle without a wait \(n0 → n0\)/.test(issue.message)),
        `seed ${seed}`,
      );
    }
  });
});
