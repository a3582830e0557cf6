import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../../shared/clock.js';
import {
  derivedMessageId,
  fromEventBridge,
  futureTolerance,
  parseBatch,
  parseMessage,
} from '../../../shared/events/index.js';
import { parseBody } from '../../../shared/http/request.js';
import { issuesOf } from '../../support/validation.js';

const now = Date.parse('2026-03-01T12:00:00.000Z');
function deps() {
  let n = 0;
  return { clock: new ManualClock(now), ids: { next: () => `gen-${++n}` } };
}

const nested = (depth: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
};

describe('everything that can be checked is checked before the event is acknowledged', () => {
  test('ids are limited in UTF-8 bytes, not characters', () => {
    const euros = '€'.repeat(1024); // 1,024 characters, 3,072 bytes
    const issues = issuesOf(() => parseMessage({ type: 'track', userId: euros, event: 'e' }, deps()));
    assert.deepEqual(issues[0]?.path, ['userId']);
    assert.match(issues[0]!.message, /1024 bytes/);
    for (const field of ['anonymousId', 'previousId', 'groupId'] as const) {
      const input = {
        type: field === 'previousId' ? 'alias' : 'group',
        userId: 'u',
        previousId: 'p',
        groupId: 'g',
      };
      const found = issuesOf(() => parseMessage({ ...input, [field]: euros }, deps()));
      assert.ok(
        found.some((issue) => issue.path[0] === field),
        field,
      );
    }
    const messageId = issuesOf(() =>
      parseMessage({ type: 'track', userId: 'u', event: 'e', messageId: '€'.repeat(200) }, deps()),
    );
    assert.deepEqual(messageId[0]?.path, ['messageId']);
    assert.equal(
      parseMessage({ type: 'track', userId: 'é'.repeat(512), event: 'e' }, deps()).userId?.length,
      512,
    );
  });

  test('a lone UTF-16 surrogate anywhere (value or key) is rejected with its path', () => {
    const issues = issuesOf(() =>
      parseMessage(
        { type: 'track', userId: 'u', event: 'e', properties: { a: ['ok', 'bad\ud800'] } },
        deps(),
      ),
    );
    assert.deepEqual(issues[0]?.path, ['properties', 'a', 1]);
    assert.match(issues[0]!.message, /surrogate/);
    const key = issuesOf(() =>
      parseMessage({ type: 'identify', userId: 'u', traits: { '\udc00x': 1 } }, deps()),
    );
    assert.deepEqual(key[0]?.path, ['traits', '\udc00x']);
    assert.equal(parseMessage({ type: 'track', userId: '😀', event: 'e' }, deps()).userId, '😀');
  });

  test('Detail nested 10,000 deep is a validation error, not a stack overflow', () => {
    const detail = `{"userId":"u","event":"e","properties":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    const issues = issuesOf(() => fromEventBridge({ DetailType: 'track', Detail: detail }, deps()));
    assert.match(issues[0]!.message, /nests deeper than 32 levels/);
    assert.equal(issues[0]!.path[0], 'Detail');
    const batch = issuesOf(() =>
      parseBatch({ batch: [{ type: 'track', userId: 'u', event: 'e', properties: nested(50_000) }] }, deps()),
    );
    assert.match(batch[0]!.message, /nests deeper/);
    assert.deepEqual(batch[0]!.path.slice(0, 2), ['batch', 0]);
    assert.ok(parseMessage({ type: 'track', userId: 'u', event: 'e', properties: nested(20) }, deps()));
  });

  test('HTTP bodies nested tens of thousands deep, ill-formed or YAML alias bombs are 400s naming the problem', () => {
    const deep = `${'{"a":'.repeat(30_000)}1${'}'.repeat(30_000)}`;
    assert.match(issuesOf(() => parseBody(deep, 'json'))[0]!.message, /body nests deeper than 64 levels/);
    assert.match(
      issuesOf(() => parseBody(`${'['.repeat(30_000)}${']'.repeat(30_000)}`, 'yaml'))[0]!.message,
      /nests deeper/,
    );
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
      .concat(
        'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`),
      )
      .join('\n');
    assert.match(issuesOf(() => parseBody(bomb, 'yaml'))[0]!.message, /aliases expand too much/);
    assert.deepEqual(parseBody('a: &x 1\nb: *x\n', 'yaml'), { a: 1, b: 1 });
  });

  test('event times beyond the tolerance are clamped to the receive time, keeping what was sent', () => {
    const far = parseMessage({ type: 'identify', userId: 'u', timestamp: '9999-12-31T00:00:00Z' }, deps());
    assert.equal(far.timestamp, new Date(now).toISOString());
    assert.equal(far.clampedTimestamp, '9999-12-31T00:00:00.000Z');
    // originalTimestamp far ahead of sentAt computes to year 10025: clamped too.
    const skewed = parseMessage(
      {
        type: 'track',
        userId: 'u',
        event: 'e',
        originalTimestamp: '9999-01-01T00:00:00Z',
        sentAt: '0001-01-01T00:00:00Z',
      },
      deps(),
    );
    assert.equal(skewed.timestamp, new Date(now).toISOString());
    assert.ok(skewed.clampedTimestamp);
    const within = new Date(now + futureTolerance - 1000).toISOString();
    const ok = parseMessage({ type: 'track', userId: 'u', event: 'e', timestamp: within }, deps());
    assert.equal(ok.timestamp, within);
    assert.equal(ok.clampedTimestamp, undefined);
  });
});

describe('messageId when the sender gives none', () => {
  test('comes from the bus event id, so every redelivery has the same one', () => {
    const envelope = { id: 'bus-event-1', 'detail-type': 'track', detail: { userId: 'u', event: 'e' } };
    assert.equal(fromEventBridge(envelope, deps()).messageId, 'bus-event-1');
    assert.equal(fromEventBridge(envelope, deps()).messageId, 'bus-event-1');
    const given = { ...envelope, detail: { ...envelope.detail, messageId: 'm' } };
    assert.equal(fromEventBridge(given, deps()).messageId, 'm');
  });

  test('over HTTP, a message with its own time gets an id from its content (a retried request is the same message)', () => {
    const item = {
      type: 'track',
      userId: 'u',
      event: 'e',
      timestamp: '2026-03-01T11:00:00Z',
      properties: { a: 1, b: 2 },
    };
    const first = parseBatch({ batch: [item] }, deps())[0]!;
    const retry = parseBatch({ batch: [{ ...item, properties: { b: 2, a: 1 } }] }, deps())[0]!;
    assert.equal(first.messageId, retry.messageId);
    assert.equal(parseMessage(item, deps()).messageId, first.messageId);
    const other = parseBatch({ batch: [{ ...item, timestamp: '2026-03-01T11:00:01Z' }] }, deps())[0]!;
    assert.notEqual(other.messageId, first.messageId);
    // Without a time of its own a repeat cannot be told from a retry: a fresh id each time.
    assert.equal(derivedMessageId({ type: 'track', userId: 'u', event: 'e' }), undefined);
    assert.equal(parseMessage({ type: 'track', userId: 'u', event: 'e' }, deps()).messageId, 'gen-1');
  });
});
