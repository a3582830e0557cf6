import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Issue, ValidationError } from '../../../shared/errors.js';
import { journeyIssues, parseJourneyDocument, validateJourney } from '../../../shared/journeys/validate.js';
import { journeyDocument } from '../../support/journeys.js';

const base = journeyDocument('rules', 'Signed Up', {
  start: 'hello',
  nodes: {
    hello: { type: 'email', template: 'welcome', next: 'done' },
    done: { type: 'exit' },
  },
});

function withNodes(nodes: Record<string, unknown>, start = 'a') {
  return { ...base, start, nodes };
}

function issuesOf(input: unknown, options = {}): Issue[] {
  try {
    validateJourney(input, options);
  } catch (error) {
    assert.ok(error instanceof ValidationError);
    return error.issues;
  }
  assert.fail('expected a ValidationError');
}

function assertIssue(issues: Issue[], path: (string | number)[], message: string | RegExp) {
  const atPath = issues.filter((issue) => JSON.stringify(issue.path) === JSON.stringify(path));
  assert.ok(atPath.length > 0, `no issue at ${JSON.stringify(path)}; got ${JSON.stringify(issues)}`);
  const matches = (text: string) => (typeof message === 'string' ? text === message : message.test(text));
  assert.ok(
    atPath.some((issue) => matches(issue.message)),
    `no issue ${message} at ${JSON.stringify(path)}; got ${JSON.stringify(atPath.map((i) => i.message))}`,
  );
}

describe('validateJourney', () => {
  it('returns the journey with defaults applied when it is valid', () => {
    const journey = validateJourney(base);
    assert.equal(journey.reentry, 'never');
    assert.deepEqual(journey.exitOn, []);
    assert.equal(journey.nodes.hello?.type, 'email');
  });

  it('applies node defaults (webhook method, timeout, retries; wait timezone)', () => {
    const journey = validateJourney(
      withNodes({
        a: { type: 'webhook', url: 'https://x.example.com', next: 'b' },
        b: { type: 'wait', until: { time: '09:00' }, next: 'done' },
        done: { type: 'exit' },
      }),
    );
    assert.deepEqual(journey.nodes.a, {
      type: 'webhook',
      url: 'https://x.example.com',
      method: 'POST',
      timeout: 'PT10S',
      retries: 2,
      next: 'b',
    });
    assert.deepEqual(journey.nodes.b, {
      type: 'wait',
      until: { time: '09:00', timezone: 'profile' },
      next: 'done',
    });
  });

  it('schema: a missing field is required, with its path', () => {
    const { name: _name, ...noName } = base;
    assertIssue(issuesOf(noName), ['name'], 'is required');
  });

  it('schema: a value of the wrong type says what it must be', () => {
    const issues = issuesOf({
      ...base,
      trigger: 'Signed Up',
      start: 'a',
      nodes: {
        a: { type: 'branch', cases: 'pro', default: 5 },
        s: { type: 'split', branches: [{ weight: '50', next: 'a' }] },
      },
    });
    assertIssue(issues, ['trigger'], 'must be an object');
    assertIssue(issues, ['nodes', 'a', 'cases'], 'must be an array');
    assertIssue(issues, ['nodes', 'a', 'default'], 'must be a string');
    assertIssue(issues, ['nodes', 's', 'branches', 0, 'weight'], 'must be a number');
  });

  it('schema: at most 200 nodes', () => {
    const nodes: Record<string, unknown> = { done: { type: 'exit' } };
    for (let i = 0; i < 200; i++)
      nodes[`n${i}`] = { type: 'update', set: { i }, next: i === 199 ? 'done' : `n${i + 1}` };
    assertIssue(
      issuesOf(withNodes(nodes, 'n0')),
      ['nodes'],
      'at most 200 nodes (a state machine definition is limited to 1 MB)',
    );
  });

  it('schema: an unknown node type lists the known ones', () => {
    const issues = issuesOf(withNodes({ a: { type: 'fax', next: 'done' }, done: { type: 'exit' } }));
    assertIssue(
      issues,
      ['nodes', 'a', 'type'],
      'must be one of: email, sms, push, webhook, wait, waitFor, branch, split, update, exit',
    );
  });

  it('schema: an unknown field (a typo) is reported at the field', () => {
    const issues = issuesOf(
      withNodes({ a: { type: 'email', template: 'welcome', nxt: 'done' }, done: { type: 'exit' } }),
    );
    assertIssue(issues, ['nodes', 'a', 'nxt'], "unknown field 'nxt'");
    assertIssue(issues, ['nodes', 'a', 'next'], 'is required');
  });

  it('schema: a node id that cannot be a state name', () => {
    const issues = issuesOf(
      withNodes({ a: { type: 'email', template: 'welcome', next: 'b.c' }, 'b.c': { type: 'exit' } }),
    );
    assertIssue(issues, ['nodes', 'b.c'], /^invalid id: must start with a letter/);
    assertIssue(issues, ['nodes', 'a', 'next'], /^must start with a letter/);
  });

  it('schema: reentry must be never, always or { after }', () => {
    assertIssue(
      issuesOf({ ...base, reentry: 'sometimes' }),
      ['reentry'],
      'must be never, always, or { after: <ISO-8601 duration> }',
    );
  });

  it('unknown node referenced: start, next, then/else, branch cases and default, split branches', () => {
    const issues = issuesOf({
      ...base,
      start: 'nowhere',
      nodes: {
        a: { type: 'email', template: 'welcome', next: 'ghost' },
        // biome-ignore lint/suspicious/noThenProperty: `then` is a waitFor field of the journey format
        w: { type: 'waitFor', event: 'X', timeout: 'P1D', then: 'ghost2', else: 'done' },
        b: {
          type: 'branch',
          cases: [{ when: { traits: { plan: ['pro'] } }, next: 'ghost3' }],
          default: 'ghost4',
        },
        s: {
          type: 'split',
          branches: [
            { weight: 50, next: 'done' },
            { weight: 50, next: 'ghost5' },
          ],
        },
        done: { type: 'exit' },
      },
    });
    assertIssue(issues, ['start'], "unknown node 'nowhere'");
    assertIssue(issues, ['nodes', 'a', 'next'], "unknown node 'ghost'");
    assertIssue(issues, ['nodes', 'w', 'then'], "unknown node 'ghost2'");
    assertIssue(issues, ['nodes', 'b', 'cases', 0, 'next'], "unknown node 'ghost3'");
    assertIssue(issues, ['nodes', 'b', 'default'], "unknown node 'ghost4'");
    assertIssue(issues, ['nodes', 's', 'branches', 1, 'next'], "unknown node 'ghost5'");
  });

  it('unreachable node', () => {
    const issues = issuesOf({ ...base, nodes: { ...base.nodes, orphan: { type: 'exit' } } });
    assertIssue(issues, ['nodes', 'orphan'], "is not reachable from start 'hello'");
    assert.equal(issues.length, 1);
  });

  it('node with no way out: no path from it reaches an exit', () => {
    const issues = issuesOf(
      withNodes({
        a: { type: 'email', template: 'welcome', next: 'b' },
        b: { type: 'wait', for: 'P1D', next: 'a' },
      }),
    );
    assertIssue(issues, ['nodes', 'a'], 'has no way out: no path from it leads to an exit node');
    assertIssue(issues, ['nodes', 'b'], 'has no way out: no path from it leads to an exit node');
  });

  it('a cycle with a wait on it is allowed', () => {
    validateJourney(
      withNodes({
        a: { type: 'email', template: 'welcome', next: 'b' },
        b: { type: 'wait', for: 'P7D', next: 'c' },
        c: { type: 'branch', cases: [{ when: { traits: { active: [false] } }, next: 'a' }], default: 'done' },
        done: { type: 'exit' },
      }),
    );
  });

  it('cycle without a wait', () => {
    const issues = issuesOf(
      withNodes({
        a: { type: 'email', template: 'welcome', next: 'b' },
        b: { type: 'branch', cases: [{ when: { traits: { plan: ['pro'] } }, next: 'a' }], default: 'done' },
        done: { type: 'exit' },
      }),
    );
    assertIssue(
      issues,
      ['nodes', 'a'],
      'is on a cycle without a wait (a → b → a): add a wait or waitFor to it',
    );
    assert.equal(issues.length, 1);
  });

  it('a node pointing at itself is a cycle without a wait', () => {
    const issues = issuesOf(
      withNodes({
        a: { type: 'update', set: { x: 1 }, next: 'a' },
        done: { type: 'exit' },
      }),
    );
    assertIssue(issues, ['nodes', 'a'], 'is on a cycle without a wait (a → a): add a wait or waitFor to it');
  });

  it('bad ISO-8601 durations, wherever they are', () => {
    const issues = issuesOf({
      ...base,
      reentry: { after: 'one day' },
      goal: { event: 'Bought', within: 'P1M' },
      start: 'w',
      nodes: {
        w: { type: 'wait', for: 'PT0S', next: 'f' },
        // biome-ignore lint/suspicious/noThenProperty: `then` is a waitFor field of the journey format
        f: { type: 'waitFor', event: 'X', timeout: 'P2Y', then: 'done', else: 'done' },
        done: { type: 'exit' },
      },
    });
    assertIssue(
      issues,
      ['reentry', 'after'],
      "'one day' is not an ISO-8601 duration such as PT2H, P1D or P1DT12H",
    );
    assertIssue(
      issues,
      ['goal', 'within'],
      "'P1M' uses years or months, which have no fixed length: use days or weeks (P30D, P4W)",
    );
    assertIssue(issues, ['nodes', 'w', 'for'], "'PT0S' is zero: a duration must be positive");
    assertIssue(issues, ['nodes', 'f', 'timeout'], /^'P2Y' uses years or months/);
  });

  it('a duration longer than an execution can live', () => {
    const issues = issuesOf(
      withNodes({ a: { type: 'wait', for: 'P400D', next: 'done' }, done: { type: 'exit' } }),
    );
    assertIssue(
      issues,
      ['nodes', 'a', 'for'],
      "'P400D' is longer than one year, the longest a journey can run",
    );
  });

  it('unknown template, when a template lookup is given', () => {
    const known = new Set(['welcome']);
    const input = {
      ...base,
      nodes: { ...base.nodes, hello: { type: 'email', template: 'nope', next: 'done' } },
    };
    assertIssue(
      issuesOf(input, { templateExists: (id: string) => known.has(id) }),
      ['nodes', 'hello', 'template'],
      "unknown template 'nope'",
    );
    validateJourney(input); // without a lookup, templates are not checked
  });

  it('split weights that do not add up to 100', () => {
    const issues = issuesOf(
      withNodes({
        a: {
          type: 'split',
          branches: [
            { weight: 50, next: 'done' },
            { weight: 40, next: 'done' },
          ],
        },
        done: { type: 'exit' },
      }),
    );
    assertIssue(issues, ['nodes', 'a', 'branches'], 'weights add up to 90, they must add up to 100');
  });

  it('bad time zone and bad time of day', () => {
    const issues = issuesOf(
      withNodes({
        a: { type: 'wait', until: { time: '9am', timezone: 'Mars/Olympus' }, next: 'done' },
        done: { type: 'exit' },
      }),
    );
    assertIssue(
      issues,
      ['nodes', 'a', 'until', 'timezone'],
      "'Mars/Olympus' is not an IANA time zone such as Europe/Paris",
    );
    assertIssue(issues, ['nodes', 'a', 'until', 'time'], 'must be a time of day HH:MM, 00:00 to 23:59');
  });

  it('wait needs exactly one of for and until', () => {
    const issues = issuesOf(
      withNodes({
        a: { type: 'wait', for: 'P1D', until: { time: '09:00' }, next: 'done' },
        done: { type: 'exit' },
      }),
    );
    assertIssue(issues, ['nodes', 'a'], 'needs exactly one of `for` (a duration) or `until` (a time of day)');
  });

  it('invalid EventBridge patterns in trigger, goal, exitOn, waitFor and branch, with their paths', () => {
    const issues = issuesOf({
      ...base,
      trigger: { event: 'A', where: { properties: { price: 5 } } },
      exitOn: [{ event: 'B', where: { properties: { x: [{ numeric: ['>>', 1] }] } } }],
      start: 'f',
      nodes: {
        f: {
          type: 'waitFor',
          event: 'X',
          where: { properties: { y: 'z' } },
          timeout: 'P1D',
          // biome-ignore lint/suspicious/noThenProperty: `then` is a waitFor field of the journey format
          then: 'b',
          else: 'b',
        },
        b: { type: 'branch', cases: [{ when: { traits: { plan: 'pro' } }, next: 'done' }], default: 'done' },
        done: { type: 'exit' },
      },
    });
    assertIssue(issues, ['trigger', 'where', 'properties', 'price'], /must be an object or an array/);
    assertIssue(issues, ['exitOn', 0, 'where', 'properties', 'x', 0, 'numeric', 0], /expected one of/);
    assertIssue(issues, ['nodes', 'f', 'where', 'properties', 'y'], /must be an object or an array/);
    assertIssue(
      issues,
      ['nodes', 'b', 'cases', 0, 'when', 'traits', 'plan'],
      /must be an object or an array/,
    );
  });

  it('a branch case needs a condition; a webhook timeout is capped at a minute', () => {
    const issues = issuesOf(
      withNodes({
        a: { type: 'branch', cases: [{ when: {}, next: 'w' }], default: 'w' },
        w: { type: 'webhook', url: 'https://x.example.com', timeout: 'PT2M', next: 'done' },
        done: { type: 'exit' },
      }),
    );
    assertIssue(
      issues,
      ['nodes', 'a', 'cases', 0, 'when'],
      'needs at least one of traits, properties, segment, computed, stage or score',
    );
    assertIssue(issues, ['nodes', 'w', 'timeout'], 'must be at most PT60S');
  });

  it('checks the segments named by branch.when.segment and by a segment trigger against the defined ones', () => {
    const journey = {
      ...withNodes({
        a: { type: 'branch', cases: [{ when: { segment: 'vips' }, next: 'done' }], default: 'done' },
        done: { type: 'exit' },
      }),
      trigger: { segment: 'buyers', on: 'exit' },
    };
    // Without the defined segments there is nothing to check against (as for templates).
    assert.deepEqual(journeyIssues(journey), []);
    assert.deepEqual(journeyIssues(journey, { segmentExists: (id) => id === 'vips' || id === 'buyers' }), []);
    const unknown = journeyIssues(journey, { segmentExists: () => false });
    assertIssue(unknown, ['nodes', 'a', 'cases', 0, 'when', 'segment'], "unknown segment 'vips'");
    assertIssue(unknown, ['trigger', 'segment'], "unknown segment 'buyers'");
  });

  it('a segment trigger: every problem of the form the author chose, with its path', () => {
    const issues = issuesOf({
      ...withNodes({ done: { type: 'exit' } }, 'done'),
      trigger: { segment: 'Bad Id', on: 'later', where: {} },
    });
    assertIssue(
      issues,
      ['trigger', 'segment'],
      'must be lowercase letters, digits and - (at most 64 characters)',
    );
    assertIssue(issues, ['trigger', 'on'], 'must be one of: entry, exit');
    assertIssue(issues, ['trigger', 'where'], "unknown field 'where'");
    assert.equal(issues.length, 3, JSON.stringify(issues));
    const event = issuesOf({
      ...withNodes({ done: { type: 'exit' } }, 'done'),
      trigger: { event: '', on: 'exit' },
    });
    assertIssue(event, ['trigger', 'event'], 'must name an event');
    assertIssue(event, ['trigger', 'on'], "unknown field 'on'");
    assert.equal(
      (
        validateJourney({ ...withNodes({ done: { type: 'exit' } }, 'done'), trigger: { segment: 'vips' } })
          .trigger as { on: string }
      ).on,
      'entry',
    );
  });

  it('reports every problem at once, in one ValidationError', () => {
    const issues = journeyIssues({
      ...base,
      start: 'a',
      nodes: {
        a: { type: 'email', template: 'welcome', next: 'ghost' },
        s: { type: 'split', branches: [{ weight: 10, next: 'done' }] },
        w: { type: 'wait', for: 'soon', next: 'done' },
        done: { type: 'exit' },
      },
    });
    const paths = issues.map((issue) => issue.path.join('.'));
    for (const path of ['nodes.a.next', 'nodes.s.branches', 'nodes.w.for', 'nodes.s', 'nodes.w', 'nodes.a']) {
      assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
    }
    const error = (() => {
      try {
        validateJourney({ ...base, start: 'a', nodes: { a: { type: 'exit', x: 1 } }, name: '' });
      } catch (e) {
        return e as ValidationError;
      }
    })();
    assert.ok(error instanceof ValidationError);
    assert.equal(error.status, 400);
    assert.match(error.message, /name: .*; nodes\.a\.x: unknown field 'x'/);
  });
});

describe('parseJourneyDocument', () => {
  it('parses YAML, and JSON by content type or by shape', () => {
    assert.deepEqual(parseJourneyDocument('id: a\nnodes: { x: { type: exit } }\n'), {
      id: 'a',
      nodes: { x: { type: 'exit' } },
    });
    assert.deepEqual(parseJourneyDocument('{"id":"a"}', 'application/json'), { id: 'a' });
    assert.deepEqual(parseJourneyDocument('  {"id":"a"}'), { id: 'a' });
  });

  it('reports YAML syntax errors with line and column', () => {
    assert.throws(
      () => parseJourneyDocument('id: a\nnodes:\n  x: { type: exit\n'),
      (error: unknown) =>
        error instanceof ValidationError &&
        /^invalid YAML at line \d+, column \d+/.test(error.issues[0]!.message),
    );
  });

  it('rejects duplicate keys, which would silently drop a node', () => {
    assert.throws(
      () => parseJourneyDocument('nodes:\n  a: { type: exit }\n  a: { type: exit }\n'),
      (error: unknown) => error instanceof ValidationError && /invalid YAML/.test(error.issues[0]!.message),
    );
  });

  it('reports invalid JSON', () => {
    assert.throws(
      () => parseJourneyDocument('{"id": ', 'application/json'),
      (error: unknown) => error instanceof ValidationError && /^invalid JSON/.test(error.issues[0]!.message),
    );
  });
});
