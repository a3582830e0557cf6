/**
 * AWS-verified EventBridge pattern cases (see fixtures/README.md): each pattern, an event, and what
 * EventBridge answered (`match`, `no-match`, `invalid`). The project's own copy always runs; a
 * `../shared/testdata/eventbridge-patterns` folder beside the repository, when present, adds any
 * case it has that the copy lacks.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import JSON5 from 'json5';
import {
  compilePattern,
  InvalidPatternError,
  matchesPattern,
  validatePattern,
} from '../../../shared/patterns/index.js';

type Verdict = 'match' | 'no-match' | 'invalid';

interface Case {
  name: string;
  verdict: Verdict;
  pattern: unknown;
  event: unknown;
}

const here = dirname(fileURLToPath(import.meta.url));
const ownCases = JSON.parse(readFileSync(join(here, 'fixtures', 'eventbridge-cases.json'), 'utf8')) as Case[];
const extraDir = resolve(here, '..', '..', '..', '..', 'shared', 'testdata', 'eventbridge-patterns');

/** Cases of the folder beside the repository that the project's copy does not have (name = file name). */
function extraCases(known: Set<string>): Case[] {
  if (!existsSync(extraDir)) return [];
  return readdirSync(extraDir)
    .filter((file) => file.endsWith('.json5') && !known.has(file.replace(/\.json5$/, '')))
    .sort()
    .map((file) => {
      const { Event, EventPattern } = JSON5.parse(readFileSync(join(extraDir, file), 'utf8')) as {
        Event: unknown;
        EventPattern: unknown;
      };
      const verdict: Verdict = /_EXC\.json5$/.test(file)
        ? 'invalid'
        : /_NEG\.json5$/.test(file)
          ? 'no-match'
          : 'match';
      return { name: file, verdict, pattern: EventPattern, event: Event };
    });
}

function check({ verdict, pattern, event }: Case): void {
  if (verdict === 'invalid') {
    assert.throws(() => matchesPattern(pattern, event), InvalidPatternError);
    assert.notDeepEqual(validatePattern(pattern), []);
    return;
  }
  assert.deepEqual(validatePattern(pattern), []);
  assert.equal(matchesPattern(pattern, event), verdict === 'match');
  assert.equal(compilePattern(pattern)(event), verdict === 'match');
}

describe('EventBridge pattern cases with AWS verdicts', () => {
  test('the project holds its own cases, of all three verdicts', () => {
    assert.ok(ownCases.length >= 100, `${ownCases.length} cases`);
    for (const verdict of ['match', 'no-match', 'invalid'] as const)
      assert.ok(
        ownCases.some((c) => c.verdict === verdict),
        verdict,
      );
  });
  for (const testCase of ownCases) test(testCase.name, () => check(testCase));
  for (const testCase of extraCases(new Set(ownCases.map((c) => c.name))))
    test(`${testCase.name} (from ../shared)`, () => check(testCase));
});
