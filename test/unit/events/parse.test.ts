import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../../shared/clock.js';
import { PayloadTooLargeError, ValidationError } from '../../../shared/errors.js';
import {
  fromEventBridge,
  maxEventBytes,
  parseBatch,
  parseMessage,
  segmentMessageSchema,
} from '../../../shared/events/index.js';
import { issuesOf } from '../../support/validation.js';

function deps() {
  let n = 0;
  return {
    clock: new ManualClock(Date.parse('2026-03-01T12:00:00.000Z')),
    ids: { next: () => `gen-${++n}` },
  };
}

describe('parseMessage', () => {
  test('fills messageId from the id generator and receivedAt / timestamp from the clock', () => {
    const message = parseMessage({ type: 'track', userId: 'u1', event: 'Signed Up' }, deps());
    assert.deepEqual(message, {
      type: 'track',
      messageId: 'gen-1',
      userId: 'u1',
      event: 'Signed Up',
      properties: {},
      traits: {},
      context: {},
      timestamp: '2026-03-01T12:00:00.000Z',
      receivedAt: '2026-03-01T12:00:00.000Z',
    });
  });

  test('keeps a given messageId and normalises timestamps with offsets to UTC', () => {
    const message = parseMessage(
      {
        type: 'identify',
        anonymousId: 'a1',
        messageId: 'm-1',
        timestamp: '2026-02-28T10:00:00+02:00',
        traits: { plan: 'pro' },
      },
      deps(),
    );
    assert.equal(message.messageId, 'm-1');
    assert.equal(message.timestamp, '2026-02-28T08:00:00.000Z');
    assert.deepEqual(message.traits, { plan: 'pro' });
  });

  test('corrects originalTimestamp for device clock skew with sentAt (Segment rule)', () => {
    const message = parseMessage(
      {
        type: 'track',
        userId: 'u',
        event: 'e',
        originalTimestamp: '2026-03-01T11:00:00.000Z',
        sentAt: '2026-03-01T11:00:10.000Z',
      },
      deps(),
    );
    // Received at 12:00:00; sent 10 s after it happened → it happened at 11:59:50 server time.
    assert.equal(message.timestamp, '2026-03-01T11:59:50.000Z');
  });

  test('a numeric userId becomes its string', () => {
    assert.equal(parseMessage({ type: 'page', userId: 42 }, deps()).userId, '42');
  });

  test('requires userId or anonymousId, reported at userId', () => {
    assert.deepEqual(
      issuesOf(() => parseMessage({ type: 'track', event: 'x' }, deps())),
      [{ path: ['userId'], message: 'userId or anonymousId is required' }],
    );
  });

  test('rejects empty and wrongly typed ids with their paths', () => {
    assert.deepEqual(
      issuesOf(() => parseMessage({ type: 'track', userId: '  ', anonymousId: 7, event: 'x' }, deps())),
      [
        { path: ['userId'], message: 'userId must not be empty' },
        { path: ['anonymousId'], message: 'anonymousId must be a string' },
      ],
    );
    assert.deepEqual(
      issuesOf(() => parseMessage({ type: 'track', userId: { id: 1 }, event: 'x' }, deps())),
      [{ path: ['userId'], message: 'userId must be a non-empty string or a number' }],
    );
  });

  test('track requires event, alias requires previousId, group requires groupId', () => {
    assert.deepEqual(
      issuesOf(() => parseMessage({ type: 'track', userId: 'u' }, deps())),
      [{ path: ['event'], message: 'event is required' }],
    );
    assert.deepEqual(
      issuesOf(() => parseMessage({ type: 'alias', userId: 'u' }, deps())),
      [{ path: ['previousId'], message: 'previousId is required' }],
    );
    assert.deepEqual(
      issuesOf(() => parseMessage({ type: 'group', userId: 'u' }, deps())),
      [{ path: ['groupId'], message: 'groupId is required' }],
    );
    const alias = parseMessage({ type: 'alias', userId: 'u', previousId: 'anon-1' }, deps());
    assert.equal(alias.previousId, 'anon-1');
  });

  test('rejects an unknown or missing type', () => {
    assert.deepEqual(
      issuesOf(() => parseMessage({ type: 'purchase', userId: 'u' }, deps())),
      [{ path: ['type'], message: 'type must be one of track, identify, alias, page, screen, group' }],
    );
    assert.deepEqual(
      issuesOf(() => parseMessage({ userId: 'u' }, deps())),
      [{ path: ['type'], message: 'type is required' }],
    );
  });

  test('the route type fills a missing type and must match a given one', () => {
    assert.equal(parseMessage({ userId: 'u', event: 'e' }, deps(), { type: 'track' }).type, 'track');
    assert.deepEqual(
      issuesOf(() => parseMessage({ type: 'page', userId: 'u' }, deps(), { type: 'track' })),
      [{ path: ['type'], message: 'type must be track here, got page' }],
    );
  });

  test('rejects bad timestamps and non-object properties, all at once', () => {
    assert.deepEqual(
      issuesOf(() =>
        parseMessage(
          { type: 'track', userId: 'u', event: 'e', timestamp: 'yesterday', properties: [1] },
          deps(),
        ),
      ),
      [
        {
          path: ['timestamp'],
          message: 'timestamp must be an ISO-8601 date-time, e.g. 2026-01-31T09:30:00Z',
        },
        { path: ['properties'], message: 'properties must be an object' },
      ],
    );
  });

  test('rejects a message that is not an object', () => {
    assert.deepEqual(
      issuesOf(() => parseMessage('track', deps())),
      [{ path: [], message: 'message must be a JSON object' }],
    );
  });

  test('throws PayloadTooLargeError above 256 KB', () => {
    const big = { type: 'track', userId: 'u', event: 'e', properties: { blob: 'x'.repeat(maxEventBytes) } };
    assert.throws(
      () => parseMessage(big, deps()),
      (error: unknown) =>
        error instanceof PayloadTooLargeError && /limit is 262144 bytes/.test(error.message),
    );
    const fits = {
      type: 'track',
      userId: 'u',
      event: 'e',
      properties: { blob: 'x'.repeat(maxEventBytes - 200) },
    };
    assert.equal(parseMessage(fits, deps()).event, 'e');
  });

  test('drops unknown top-level keys', () => {
    const message = parseMessage({ type: 'track', userId: 'u', event: 'e', _metadata: { x: 1 } }, deps());
    assert.equal('_metadata' in message, false);
  });

  test('the exported schema is the one used (API and docs share it)', () => {
    assert.equal(segmentMessageSchema.safeParse({ type: 'screen', anonymousId: 'a' }).success, true);
    assert.equal(segmentMessageSchema.safeParse({ type: 'screen' }).success, false);
  });
});

describe('parseBatch', () => {
  test('reports every invalid message with its index in the path', () => {
    assert.deepEqual(
      issuesOf(() =>
        parseBatch(
          {
            batch: [
              { type: 'track', userId: 'u', event: 'e' },
              { type: 'track', event: 'e' },
              { type: 'identify', userId: 'u', traits: 'x' },
              5,
            ],
          },
          deps(),
        ),
      ),
      [
        { path: ['batch', 1, 'userId'], message: 'userId or anonymousId is required' },
        { path: ['batch', 2, 'traits'], message: 'traits must be an object' },
        { path: ['batch', 3], message: 'message must be a JSON object' },
      ],
    );
  });

  test('formats issue paths the way users write them', () => {
    try {
      parseBatch(
        {
          batch: [
            { type: 'track', userId: 'u', event: 'e' },
            { type: 'track', event: 'e' },
          ],
        },
        deps(),
      );
      assert.fail('expected a ValidationError');
    } catch (error) {
      assert.ok(error instanceof ValidationError);
      assert.equal(error.message, 'batch[1].userId: userId or anonymousId is required');
    }
  });

  test('an oversized message in a batch is an issue at its index', () => {
    const big = { type: 'track', userId: 'u', event: 'e', properties: { blob: 'x'.repeat(maxEventBytes) } };
    const issues = issuesOf(() => parseBatch({ batch: [big] }, deps()));
    assert.deepEqual(issues[0]?.path, ['batch', 0]);
    assert.match(issues[0]?.message ?? '', /the limit is 262144 bytes/);
  });

  test('rejects a missing or empty batch', () => {
    assert.deepEqual(
      issuesOf(() => parseBatch({}, deps())),
      [{ path: ['batch'], message: 'batch must be an array of messages' }],
    );
    assert.deepEqual(
      issuesOf(() => parseBatch({ batch: [] }, deps())),
      [{ path: ['batch'], message: 'batch must contain at least one message' }],
    );
  });

  test('applies batch-level context and gives each message its own id', () => {
    const messages = parseBatch(
      {
        batch: [
          { type: 'page', anonymousId: 'a' },
          { type: 'page', anonymousId: 'a', context: { ip: '1' } },
        ],
        context: { app: 'x' },
      },
      deps(),
    );
    assert.deepEqual(
      messages.map((m) => [m.messageId, m.context]),
      [
        ['gen-1', { app: 'x' }],
        ['gen-2', { ip: '1' }],
      ],
    );
  });
});

describe('fromEventBridge', () => {
  test('reads a delivered event: detail-type is the type, detail the message', () => {
    const message = fromEventBridge(
      { 'detail-type': 'track', source: 'shop', detail: { userId: 'u', event: 'e' } },
      deps(),
    );
    assert.equal(message.type, 'track');
    assert.equal(message.event, 'e');
  });

  test('reads a PutEvents entry with a JSON Detail string', () => {
    const message = fromEventBridge(
      { DetailType: 'identify', Detail: '{"userId":"u","traits":{"a":1}}' },
      deps(),
    );
    assert.deepEqual([message.type, message.traits], ['identify', { a: 1 }]);
  });

  test('reports problems under detail / DetailType', () => {
    assert.deepEqual(
      issuesOf(() => fromEventBridge({ 'detail-type': 'track', detail: { event: 'e' } }, deps())),
      [{ path: ['detail', 'userId'], message: 'userId or anonymousId is required' }],
    );
    assert.deepEqual(
      issuesOf(() => fromEventBridge({ DetailType: 'buy', Detail: '{}' }, deps())),
      [
        {
          path: ['DetailType'],
          message:
            'DetailType must be one of track, identify, alias, page, screen, group (got "buy"); no ingest rule takes it',
        },
      ],
    );
    assert.deepEqual(
      issuesOf(() => fromEventBridge({ DetailType: 'track', Detail: '{' }, deps())),
      [{ path: ['Detail'], message: 'Detail must be a JSON object' }],
    );
    assert.deepEqual(
      issuesOf(() =>
        fromEventBridge({ 'detail-type': 'identify', detail: { type: 'track', userId: 'u' } }, deps()),
      ),
      [{ path: ['detail', 'type'], message: 'type must be identify here, got track' }],
    );
  });
});
