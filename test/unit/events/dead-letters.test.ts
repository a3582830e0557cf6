import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../shared/errors.js';
import { type DeadLetter, listDeadLetters } from '../../../shared/events/dead-letters.js';
import { MemoryDeadLetterStore } from '../../../shared/events/memory.js';

const letter = (id: string, receivedAt: string): DeadLetter => ({
  id,
  receivedAt,
  code: 'validation_failed',
  reason: 'userId: required',
  issues: [{ path: ['userId'], message: 'required' }],
  source: `sqs:${id}`,
  body: '{}',
  bodyBytes: 2,
});

describe('dead letters (in-memory store)', () => {
  it('lists one day oldest first, in pages, and refuses a date that is not YYYY-MM-DD', async () => {
    const store = new MemoryDeadLetterStore();
    await store.put(letter('b', '2026-03-01T10:00:00.000Z'));
    await store.put(letter('a', '2026-03-01T09:00:00.000Z'));
    await store.put(letter('c', '2026-03-02T09:00:00.000Z'));

    const first = await listDeadLetters(store, { date: '2026-03-01', limit: 1 });
    assert.deepEqual(
      first.items.map((l) => l.id),
      ['a'],
    );
    const second = await listDeadLetters(store, { date: '2026-03-01', limit: 1, cursor: first.nextCursor });
    assert.deepEqual(
      second.items.map((l) => l.id),
      ['b'],
    );
    assert.equal(second.nextCursor, undefined);
    await assert.rejects(listDeadLetters(store, { date: 'yesterday' }), ValidationError);
  });
});
