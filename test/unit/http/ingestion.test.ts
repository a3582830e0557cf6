import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NormalizedMessage } from '../../../shared/events/index.js';
import { hashedWriteKeyVerifier, hashWriteKey } from '../../../shared/http/auth.js';
import { type BusEntry, chunkEntries, publishMessages } from '../../../shared/http/ingestion.js';
import { putEventsEntrySize, putEventsLimits } from '../../../shared/routing.js';

const entry = (bytes: number): BusEntry => ({ Source: 's', DetailType: 'track', Detail: 'x'.repeat(bytes) });

describe('chunkEntries', () => {
  it('keeps each PutEvents call within 10 entries and 256 KB', () => {
    const chunks = chunkEntries([
      entry(100_000),
      entry(100_000),
      entry(100_000),
      ...Array.from({ length: 12 }, () => entry(10)),
    ]);
    assert.deepEqual(
      chunks.map((c) => c.length),
      [2, 10, 3],
    );
    for (const chunk of chunks) {
      assert.ok(chunk.reduce((sum, e) => sum + putEventsEntrySize(e), 0) <= putEventsLimits.bytes);
    }
  });
});

describe('publishMessages', () => {
  const message = (i: number) => ({ type: 'track', messageId: `m${i}` }) as NormalizedMessage;

  it('backs off between retries of failed entries', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    await publishMessages([message(1)], {
      source: 'cairn.http',
      sleep: async (ms) => void sleeps.push(ms),
      publisher: {
        async putEvents() {
          calls++;
          return { failed: calls < 3 ? [{ index: 0, code: 'ThrottlingException' }] : [] };
        },
      },
    });
    assert.equal(calls, 3);
    assert.deepEqual(sleeps, [50, 200]);
  });
});

describe('hashedWriteKeyVerifier', () => {
  it('looks keys up by hash and caches hits and misses for a while', async () => {
    const lookups: string[] = [];
    let now = 0;
    const verifier = hashedWriteKeyVerifier(
      {
        async findByHash(hash) {
          lookups.push(hash);
          return hash === hashWriteKey('good') ? { source: 'shop' } : undefined;
        },
      },
      { now: () => now, cacheMs: 1000 },
    );
    assert.deepEqual(await verifier.verify('good'), { source: 'shop' });
    assert.equal(await verifier.verify('bad'), undefined);
    assert.deepEqual(await verifier.verify('good'), { source: 'shop' });
    assert.equal(await verifier.verify('bad'), undefined);
    assert.equal(lookups.length, 2);
    assert.ok(
      lookups.every((hash) => /^[0-9a-f]{64}$/.test(hash)),
      'only hashes reach the store',
    );
    now = 1000;
    await verifier.verify('good');
    assert.equal(lookups.length, 3);
  });
});
