import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { forwardToOrderedQueue, type OrderedEntry, orderedEntries } from '../../../shared/events/index.js';

const body = (id: string, detail: Record<string, unknown>) =>
  JSON.stringify({ id, 'detail-type': 'track', detail });

describe('ordered (FIFO) queue entries: a message group per person', () => {
  test('events of one person share a group, other people get other groups; the bus event id dedupes', () => {
    const entries = orderedEntries([
      { id: 'r1', body: body('e1', { userId: 'ann', event: 'a' }) },
      { id: 'r2', body: body('e2', { userId: 'ann', anonymousId: 'x', event: 'b' }) },
      { id: 'r3', body: body('e3', { anonymousId: 'x', event: 'c' }) },
      { id: 'r4', body: body('e1', { userId: 'bob', event: 'a' }) },
      { id: 'r5', body: '{not json' },
    ]);
    const [a, b, c, d, e] = entries as [OrderedEntry, OrderedEntry, OrderedEntry, OrderedEntry, OrderedEntry];
    assert.equal(a.MessageGroupId, b.MessageGroupId);
    assert.notEqual(a.MessageGroupId, c.MessageGroupId);
    assert.notEqual(a.MessageGroupId, d.MessageGroupId);
    assert.equal(a.MessageDeduplicationId, d.MessageDeduplicationId, 'same bus event id');
    assert.ok(
      entries.every((entry) => entry.MessageGroupId.length <= 128 && !entry.MessageGroupId.includes('ann')),
    );
    assert.equal(e.MessageBody, '{not json');
    assert.deepEqual(
      entries.map((entry) => entry.Id),
      ['0', '1', '2', '3', '4'],
    );
  });

  test('forwarding reports the records whose send failed, or the whole chunk when the call fails', async () => {
    const records = [
      { id: 'r1', body: body('e1', { userId: 'a' }) },
      { id: 'r2', body: body('e2', { userId: 'b' }) },
    ];
    assert.deepEqual(await forwardToOrderedQueue(records, { send: async () => ['1'] }), ['r2']);
    assert.deepEqual(
      await forwardToOrderedQueue(records, {
        send: async () => {
          throw new Error('throttled');
        },
      }),
      ['r1', 'r2'],
    );
  });
});
