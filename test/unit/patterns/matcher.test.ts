/**
 * Behaviour the AWS-verified testdata does not pin down: error reporting (every issue with its
 * path), array consistency, number handling, IP literals, wildcard escapes, $or rules and limits.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../../../shared/errors.js';
import {
  compilePattern,
  InvalidPatternError,
  MAX_PATTERN_LENGTH,
  matchesPattern,
  validatePattern,
} from '../../../shared/patterns/index.js';

function messagesAt(pattern: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of validatePattern(pattern)) out[issue.path.join('/')] = issue.message;
  return out;
}

describe('invalid patterns', () => {
  test('reports every problem at once, each with its path inside the pattern', () => {
    const issues = validatePattern({
      detail: {
        state: 'running',
        price: [{ numeric: ['>', 0, '>', 5] }],
        tags: [],
        name: [{ Prefix: 'a' }],
      },
      source: [{ prefix: 'a', suffix: 'b' }],
    });
    assert.deepEqual(
      issues.map((issue) => issue.path),
      [
        ['detail', 'state'],
        ['detail', 'price', 0, 'numeric', 2],
        ['detail', 'tags'],
        ['detail', 'name', 0],
        ['source', 0],
      ],
    );
    assert.match(issues[0]!.message, /must be an object or an array.*\["running"\]/);
    assert.match(issues[3]!.message, /unknown operator "Prefix".*case-sensitive/);
    assert.match(issues[4]!.message, /exactly one operator/);
  });

  test('throws InvalidPatternError, a ValidationError carrying the issues and a readable message', () => {
    const pattern = { detail: { count: [{ numeric: ['>', 'five'] }] } };
    assert.throws(
      () => matchesPattern(pattern, {}),
      (error: unknown) => {
        assert.ok(error instanceof InvalidPatternError);
        assert.ok(error instanceof ValidationError);
        assert.equal(error.code, 'validation_failed');
        assert.equal(error.status, 400);
        assert.equal(error.name, 'InvalidPatternError');
        assert.deepEqual(error.issues[0]?.path, ['detail', 'count', 0, 'numeric', 1]);
        assert.match(
          error.message,
          /^invalid event pattern: detail\.count\[0\]\.numeric\[1\]: .*must be a number/,
        );
        return true;
      },
    );
    assert.throws(() => compilePattern(pattern), InvalidPatternError);
  });

  test('rejects a pattern that is not an object, or an empty one', () => {
    for (const pattern of [null, [], ['a'], 42, undefined]) {
      assert.deepEqual(validatePattern(pattern), [
        { path: [], message: 'an event pattern must be a JSON object' },
      ]);
    }
    assert.deepEqual(messagesAt({}), { '': 'empty objects are not allowed' });
    assert.deepEqual(messagesAt({ detail: {} }), { detail: 'empty objects are not allowed' });
  });

  test('accepts JSON text and reports unparsable text at the root', () => {
    assert.equal(matchesPattern('{"source":["shop"]}', { source: 'shop' }), true);
    const [issue] = validatePattern('{"source": [');
    assert.deepEqual(issue?.path, []);
    assert.match(issue!.message, /not valid JSON/);
  });

  test('a key written twice in JSON text keeps its last value, as on AWS', () => {
    const text = '{"detail":{"city":["Paris"],"city":["Lyon"]}}';
    assert.equal(matchesPattern(text, { detail: { city: 'Lyon' } }), true);
    assert.equal(matchesPattern(text, { detail: { city: 'Paris' } }), false);
  });

  test('enforces the EventBridge pattern length, adjustable by option', () => {
    const long = { detail: { id: ['x'.repeat(MAX_PATTERN_LENGTH)] } };
    assert.match(messagesAt(long)['']!, /at most 2048/);
    assert.deepEqual(validatePattern(long, { maxLength: 4096 }), []);
  });

  test('numbers in numeric and anything-but must fit EventBridge range and precision', () => {
    assert.match(messagesAt({ n: [{ numeric: ['>', 6e9] }] })['n/0/numeric/1']!, /between -5e9 and 5e9/);
    assert.match(messagesAt({ n: [{ numeric: ['<', 0.0000001] }] })['n/0/numeric/1']!, /6 decimal places/);
    assert.match(messagesAt({ n: [{ 'anything-but': [1, 1.1234567] }] })['n/0/anything-but/1']!, /6 decimal/);
    assert.deepEqual(validatePattern({ n: [{ numeric: ['>=', -5e9, '<=', 5e9] }] }), []);
    // Exact numbers are not limited: an account id is a fine exact value.
    assert.deepEqual(validatePattern({ account: [123456789012] }), []);
  });

  test('numeric ranges need a lower bound below an upper bound', () => {
    assert.match(
      messagesAt({ n: [{ numeric: ['>', 5, '<', 5] }] })['n/0/numeric']!,
      /lower bound .* less than/,
    );
    assert.match(messagesAt({ n: [{ numeric: ['<', 5, '>', 1] }] })['n/0/numeric']!, /too many elements/);
    assert.match(messagesAt({ n: [{ numeric: ['=', 5, '<', 9] }] })['n/0/numeric']!, /too many elements/);
    assert.match(messagesAt({ n: [{ numeric: ['!=', 5] }] })['n/0/numeric/0']!, /expected one of/);
    assert.match(messagesAt({ n: [{ numeric: [] }] })['n/0/numeric/0']!, /expected one of/);
  });

  test('anything-but lists hold strings only or numbers only', () => {
    assert.match(
      messagesAt({ s: [{ 'anything-but': ['a', 1] }] })['s/0/anything-but']!,
      /strings only or of numbers only/,
    );
    assert.match(messagesAt({ s: [{ 'anything-but': [] }] })['s/0/anything-but']!, /at least one/);
    assert.match(
      messagesAt({ s: [{ 'anything-but': true }] })['s/0/anything-but']!,
      /takes a string, a number/,
    );
    assert.match(
      messagesAt({ s: [{ 'anything-but': { numeric: ['>', 1] } }] })['s/0/anything-but']!,
      /exactly one of "prefix", "suffix", "wildcard", "equals-ignore-case"/,
    );
  });

  test('wildcards reject consecutive stars and unknown escapes', () => {
    assert.match(
      messagesAt({ f: [{ wildcard: 'a**b' }] })['f/0/wildcard']!,
      /consecutive wildcard characters at position 1/,
    );
    assert.match(messagesAt({ f: [{ wildcard: 'a\\b' }] })['f/0/wildcard']!, /invalid escape/);
    assert.match(
      messagesAt({ f: [{ 'anything-but': { wildcard: ['ok*', 'bad**'] } }] })['f/0/anything-but/wildcard']!,
      /invalid wildcard "bad\*\*"/,
    );
  });

  test('wildcards AWS finds too complex are refused: many stars with repeating literals, per field', () => {
    const tooComplex = /Rule is too complex - try using fewer wildcard characters/;
    // The example AWS's guide gives, and the simpler form it suggests instead.
    assert.match(messagesAt({ r: [{ wildcard: '*:*:*:*:*:event-bus/*' }] }).r!, tooComplex);
    assert.deepEqual(validatePattern({ r: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] }), []);
    assert.match(messagesAt({ f: [{ wildcard: '*ab*ab*ab*ab*ab*' }] }).f!, tooComplex);
    // A field's wildcards count together, anything-but wildcards included; other fields do not add up.
    assert.match(
      messagesAt({ f: [{ wildcard: '*:*:*:*' }, { 'anything-but': { wildcard: ['*:*:*'] } }] }).f!,
      tooComplex,
    );
    assert.deepEqual(validatePattern({ f: [{ wildcard: '*:*:*:*' }], g: [{ wildcard: '*:*:*:*' }] }), []);
    // What AWS accepts stays accepted: distinct literals between stars, a literal repeated after one.
    for (const wildcard of ['a*b*c*d*e*f', '/Users/*/dir/dir/dir/dir/dir/doc.txt', '*/lib/*', '*.png'])
      assert.deepEqual(validatePattern({ f: [{ wildcard }] }), [], wildcard);
    assert.throws(() => compilePattern({ r: [{ wildcard: '*:*:*:*:*:event-bus/*' }] }), InvalidPatternError);
  });

  test('cidr needs a valid address and a mask shorter than the address', () => {
    assert.match(messagesAt({ ip: [{ cidr: '10.0.0.0' }] })['ip/0/cidr']!, /exactly one "\/"/);
    assert.match(
      messagesAt({ ip: [{ cidr: '10.0.0.0/32' }] })['ip/0/cidr']!,
      /IPv4 mask bits must be at most 31/,
    );
    assert.match(
      messagesAt({ ip: [{ cidr: '::1/128' }] })['ip/0/cidr']!,
      /IPv6 mask bits must be at most 127/,
    );
    assert.match(messagesAt({ ip: [{ cidr: '300.0.0.0/8' }] })['ip/0/cidr']!, /not an IPv4 or IPv6 address/);
    assert.match(messagesAt({ ip: [{ cidr: '10.0.0.0/x' }] })['ip/0/cidr']!, /mask bits must be an integer/);
  });

  test('$or needs at least two objects and no operator names as fields', () => {
    assert.match(messagesAt({ $or: [{ a: ['1'] }] }).$or!, /at least 2/);
    assert.match(messagesAt({ $or: { a: ['1'] } }).$or!, /must be an array/);
    assert.match(messagesAt({ $or: [{ a: ['1'] }, 'b'] })['$or/1']!, /must be an object/);
    assert.match(messagesAt({ $or: [{ a: ['1'] }, { prefix: ['b'] }] })['$or/1/prefix']!, /reserved name/);
    // Outside $or the same name is an ordinary field.
    assert.equal(matchesPattern({ prefix: ['b'] }, { prefix: 'b' }), true);
  });

  test('refuses $or nesting that explodes into too many alternatives', () => {
    const pair = (i: number) => ({ $or: [{ [`a${i}`]: ['x'] }, { [`b${i}`]: ['y'] }] });
    const pattern = {
      l1: pair(1),
      l2: pair(2),
      l3: pair(3),
      l4: pair(4),
      l5: pair(5),
      l6: pair(6),
      l7: pair(7),
    };
    const nested = { ...pattern, l8: pair(8), l9: pair(9), l10: pair(10) };
    assert.deepEqual(validatePattern(pattern, { maxLength: 10_000 }), []);
    assert.ok(
      validatePattern(nested, { maxLength: 10_000 }).some((issue) => /more than 1000/.test(issue.message)),
    );
  });
});

describe('matching', () => {
  test('fields inside an array of objects must match within the same element', () => {
    const pattern = { properties: { products: { sku: ['A'], quantity: [{ numeric: ['>', 5] }] } } };
    const sameElement = {
      properties: {
        products: [
          { sku: 'B', quantity: 1 },
          { sku: 'A', quantity: 9 },
        ],
      },
    };
    const splitAcross = {
      properties: {
        products: [
          { sku: 'A', quantity: 1 },
          { sku: 'B', quantity: 9 },
        ],
      },
    };
    assert.equal(matchesPattern(pattern, sameElement), true);
    assert.equal(matchesPattern(pattern, splitAcross), false);
  });

  test('array consistency still lets fields outside the array match freely', () => {
    const pattern = {
      event: ['Order Completed'],
      properties: { products: { sku: ['A'] }, total: [{ numeric: ['>', 10] }] },
    };
    const event = {
      event: 'Order Completed',
      properties: { total: 20, products: [{ sku: 'B' }, { sku: 'A' }] },
    };
    assert.equal(matchesPattern(pattern, event), true);
  });

  test('numbers match by value, never as strings', () => {
    assert.equal(matchesPattern({ n: [300] }, JSON.parse('{"n": 3.0e2}')), true);
    assert.equal(matchesPattern({ n: [300] }, { n: 300.0 }), true);
    assert.equal(matchesPattern({ n: [300] }, { n: '300' }), false);
    assert.equal(matchesPattern({ n: ['300'] }, { n: 300 }), false);
    assert.equal(matchesPattern({ n: [{ 'anything-but': 300 }] }, { n: '300' }), true);
    assert.equal(matchesPattern({ n: [{ numeric: ['=', 300] }] }, { n: 300 }), true);
  });

  test('numeric comparisons cover every operator at their boundaries', () => {
    const at = (numeric: unknown[], n: number) => matchesPattern({ n: [{ numeric }] }, { n });
    assert.deepEqual(
      [at(['<', 5], 5), at(['<=', 5], 5), at(['>', 5], 5), at(['>=', 5], 5), at(['=', 5], 5)],
      [false, true, false, true, true],
    );
    assert.deepEqual(
      [at(['>', 0, '<', 5], 0), at(['>=', 0, '<', 5], 0), at(['>', 0, '<', 5], 5), at(['>', 0, '<=', 5], 5)],
      [false, true, false, true],
    );
    // Event values outside EventBridge's numeric range never match a numeric condition.
    assert.equal(at(['>', 0], 6e9), false);
    assert.equal(at(['>', 0], -1), false);
  });

  test('null matches only a null value; exists separates missing from null', () => {
    assert.equal(matchesPattern({ v: [null] }, { v: null }), true);
    assert.equal(matchesPattern({ v: [null] }, {}), false);
    assert.equal(matchesPattern({ v: [{ exists: true }] }, { v: null }), true);
    assert.equal(matchesPattern({ v: [{ exists: false }] }, { v: null }), false);
    assert.equal(matchesPattern({ v: [{ exists: false }] }, { w: 1 }), true);
    assert.equal(matchesPattern({ v: [''] }, { v: '' }), true);
    assert.equal(matchesPattern({ v: [''] }, { v: null }), false);
  });

  test('booleans match booleans only', () => {
    assert.equal(matchesPattern({ b: [true] }, { b: true }), true);
    assert.equal(matchesPattern({ b: [true] }, { b: 'true' }), false);
  });

  test('wildcards honour escapes and several stars', () => {
    const wild = (wildcard: string, value: string) => matchesPattern({ f: [{ wildcard }] }, { f: value });
    assert.equal(wild('a\\*b', 'a*b'), true);
    assert.equal(wild('a\\*b', 'axxb'), false);
    assert.equal(wild('a\\\\b', 'a\\b'), true);
    assert.equal(wild('*.png', '.png'), true);
    assert.equal(wild('a*b*c', 'abc'), true);
    assert.equal(wild('a*b*c', 'aXbYbZc'), true);
    assert.equal(wild('a*b*c', 'acb'), false);
    assert.equal(wild('ab*ba', 'aba'), false);
    assert.equal(wild('', ''), true);
    assert.equal(matchesPattern({ f: [{ wildcard: '1*' }] }, { f: 12 }), false);
    assert.equal(wild('a*a*a*a*a*b', 'a'.repeat(5000)), false);
  });

  test('cidr matches addresses in range of the same family, in any IPv6 notation', () => {
    const inBlock = (cidr: string, ip: unknown) => matchesPattern({ ip: [{ cidr }] }, { ip });
    assert.equal(inBlock('10.0.0.0/24', '10.0.0.0'), true);
    assert.equal(inBlock('10.0.0.0/24', '10.0.1.0'), false);
    assert.equal(inBlock('10.0.0.0/8', '10.255.255.255'), true);
    assert.equal(inBlock('2001:db8::/32', '2001:0db8:ffff::1'), true);
    assert.equal(inBlock('2001:db8::/32', '2001:db9::1'), false);
    assert.equal(inBlock('0.0.0.0/0', '::1'), false);
    assert.equal(inBlock('10.0.0.0/24', 'not-an-ip'), false);
    assert.equal(inBlock('10.0.0.0/24', ['192.168.0.1', '10.0.0.7']), true);
  });

  test('an exact IP address in a pattern matches the same address written differently', () => {
    assert.equal(
      matchesPattern({ ip: ['2001:db8::1'] }, { ip: '2001:0db8:0000:0000:0000:0000:0000:0001' }),
      true,
    );
    assert.equal(matchesPattern({ ip: ['2001:db8::1'] }, { ip: '2001:db8::2' }), false);
  });

  test('equals-ignore-case and its prefix/suffix forms ignore case only for strings', () => {
    assert.equal(matchesPattern({ s: [{ 'equals-ignore-case': 'ÉTÉ' }] }, { s: 'été' }), true);
    assert.equal(matchesPattern({ s: [{ prefix: { 'equals-ignore-case': 'ABC' } }] }, { s: 'abcdef' }), true);
    assert.equal(matchesPattern({ s: [{ suffix: { 'equals-ignore-case': '.PNG' } }] }, { s: 'x.png' }), true);
    assert.equal(matchesPattern({ s: [{ 'equals-ignore-case': '1' }] }, { s: 1 }), false);
  });

  test('anything-but matches other types and never a missing field', () => {
    assert.equal(matchesPattern({ s: [{ 'anything-but': ['a', 'b'] }] }, { s: 1 }), true);
    assert.equal(matchesPattern({ s: [{ 'anything-but': ['a', 'b'] }] }, { s: 'b' }), false);
    assert.equal(matchesPattern({ s: [{ 'anything-but': ['a', 'b'] }] }, {}), false);
    assert.equal(
      matchesPattern({ s: [{ 'anything-but': { 'equals-ignore-case': ['A'] } }] }, { s: 'a' }),
      false,
    );
    assert.equal(matchesPattern({ s: [{ 'anything-but': { wildcard: 'a*' } }] }, { s: 'ba' }), true);
    assert.equal(matchesPattern({ s: [{ 'anything-but': { wildcard: 'a*' } }] }, { s: 'ab' }), false);
  });

  test('$or alternatives combine with the fields around them', () => {
    const pattern = {
      event: ['Order Completed'],
      properties: { $or: [{ total: [{ numeric: ['>', 100] }] }, { coupon: [{ exists: true }] }] },
    };
    assert.equal(matchesPattern(pattern, { event: 'Order Completed', properties: { total: 150 } }), true);
    assert.equal(
      matchesPattern(pattern, { event: 'Order Completed', properties: { total: 5, coupon: 'X' } }),
      true,
    );
    assert.equal(matchesPattern(pattern, { event: 'Order Completed', properties: { total: 5 } }), false);
    assert.equal(matchesPattern(pattern, { event: 'Page Viewed', properties: { total: 150 } }), false);
  });

  test('nested $or inside an $or alternative', () => {
    const pattern = { $or: [{ a: ['1'] }, { $or: [{ b: ['2'] }, { c: ['3'] }] }] };
    assert.deepEqual(
      [{ a: '1' }, { b: '2' }, { c: '3' }, { d: '4' }].map((event) => matchesPattern(pattern, event)),
      [true, true, true, false],
    );
  });

  test('only own fields of the event count, not inherited object properties', () => {
    assert.equal(matchesPattern({ constructor: [{ exists: true }] }, {}), false);
    assert.equal(matchesPattern({ toString: [{ exists: false }] }, {}), true);
  });

  test('an event that is not an object has no fields', () => {
    assert.equal(matchesPattern({ a: [{ exists: true }] }, 'a'), false);
    assert.equal(matchesPattern({ a: [{ exists: false }] }, null), true);
  });

  test('a compiled matcher is reusable across events', () => {
    const matcher = compilePattern({ type: ['track'], event: [{ prefix: 'Order ' }] });
    assert.equal(matcher({ type: 'track', event: 'Order Completed' }), true);
    assert.equal(matcher({ type: 'track', event: 'Product Added' }), false);
    assert.equal(matcher({ type: 'identify', event: 'Order Completed' }), false);
  });
});

describe('matchesPattern cache', () => {
  test('a pattern changed in place is matched as it is now, not as first compiled', () => {
    const pattern: { properties: { plan: string[] } } = { properties: { plan: ['pro'] } };
    const event = { properties: { plan: 'free' } };
    assert.equal(matchesPattern(pattern, event), false);
    pattern.properties.plan = ['free'];
    assert.equal(matchesPattern(pattern, event), true);
  });

  test('an invalid pattern throws every time (it is not cached as a matcher)', () => {
    const invalid = { properties: { price: [{ numeric: ['>'] }] } };
    assert.throws(() => matchesPattern(invalid, {}), InvalidPatternError);
    assert.throws(() => matchesPattern(invalid, {}), InvalidPatternError);
  });
});
