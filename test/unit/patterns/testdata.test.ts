/**
 * Every AWS-verified case in ../shared/testdata/eventbridge-patterns (see its README): no suffix =
 * matches, `_NEG` = valid but does not match, `_EXC` = invalid pattern, rejected.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import JSON5 from 'json5';
import {
  compilePattern,
  InvalidPatternError,
  matchesPattern,
  validatePattern,
} from '../../../shared/patterns/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const casesDir = resolve(repoRoot, '..', 'shared', 'testdata', 'eventbridge-patterns');

type Expected = 'match' | 'no-match' | 'invalid';

interface Case {
  name: string;
  expected: Expected;
  pattern: unknown;
  event: unknown;
}

function expectedFor(name: string): Expected {
  if (/_EXC\.json5?$/.test(name)) return 'invalid';
  if (/_NEG\.json5?$/.test(name)) return 'no-match';
  return 'match';
}

function loadCases(): Case[] {
  const cases: Case[] = [];
  for (const name of readdirSync(casesDir).sort()) {
    if (!name.endsWith('.json5')) continue;
    const { Event, EventPattern } = JSON5.parse(readFileSync(join(casesDir, name), 'utf8')) as {
      Event: unknown;
      EventPattern: unknown;
    };
    cases.push({ name, expected: expectedFor(name), pattern: EventPattern, event: Event });
  }
  // One case kept as raw JSON text because its pattern repeats a key (see the README).
  const multiKeyEvent = join(casesDir, 'complex_multi_key_event.json');
  const multiKeyPattern = join(casesDir, 'complex_multi_key_event_pattern.json');
  if (existsSync(multiKeyEvent) && existsSync(multiKeyPattern)) {
    cases.push({
      name: 'complex_multi_key_event.json + complex_multi_key_event_pattern.json',
      expected: 'match',
      pattern: readFileSync(multiKeyPattern, 'utf8'),
      event: JSON.parse(readFileSync(multiKeyEvent, 'utf8')),
    });
  }
  return cases;
}

if (!existsSync(casesDir)) {
  test('EventBridge pattern testdata is present', () => {
    assert.fail(`the AWS-verified pattern cases are missing: expected them in ${casesDir}`);
  });
} else {
  const cases = loadCases();

  test('the testdata folder holds cases', () => {
    assert.ok(cases.length > 100, `only ${cases.length} cases found in ${casesDir}`);
  });

  for (const { name, expected, pattern, event } of cases) {
    test(name, () => {
      if (expected === 'invalid') {
        assert.throws(() => matchesPattern(pattern, event), InvalidPatternError);
        assert.notDeepEqual(validatePattern(pattern), []);
        return;
      }
      assert.deepEqual(validatePattern(pattern), []);
      assert.equal(matchesPattern(pattern, event), expected === 'match');
      assert.equal(compilePattern(pattern)(event), expected === 'match');
    });
  }
}
