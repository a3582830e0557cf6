import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listActiveJourneys } from '../../../shared/catalog/active.js';
import { memoryCatalogStore } from '../../../shared/catalog/memory.js';
import type { JourneyRecord } from '../../../shared/catalog/types.js';
import { journeySchema } from '../../../shared/journeys/schema.js';
import { cachedActiveJourneys } from '../../../shared/runtime/active-journeys.js';

const definition = journeySchema.parse({
  id: 'welcome',
  name: 'Welcome',
  trigger: { event: 'Signed Up' },
  start: 'done',
  nodes: { done: { type: 'exit' } },
});

function head(status: JourneyRecord['status'], revision: number): JourneyRecord {
  return {
    id: 'welcome',
    status,
    revision,
    draft: definition,
    draftUpdatedAt: '2026-01-01T00:00:00.000Z',
    latestVersion: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    published: {
      version: 1,
      definition,
      versionArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:cairn-welcome:1',
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:cairn-welcome',
      publishedAt: '2026-01-01T00:00:00.000Z',
      aslSha256: 'x',
    },
  };
}

/** The catalog as the runtime of one process reads it, counting the list Queries. */
function processView(store: ReturnType<typeof memoryCatalogStore>) {
  const reads = { list: 0, stamp: 0 };
  const active = cachedActiveJourneys({
    listActiveJourneys: () => {
      reads.list++;
      return listActiveJourneys(store);
    },
    catalogStamp: () => {
      reads.stamp++;
      return store.catalogStamp();
    },
  });
  return { active, reads };
}

describe('active journeys cache', () => {
  it('sees a pause written by another process at its next event, and reads the list only when the stamp moved', async () => {
    const store = memoryCatalogStore();
    await store.saveJourney(head('active', 1), undefined);
    const ingest = processView(store);

    assert.equal((await ingest.active())[0]?.status, 'active');
    await ingest.active();
    assert.deepEqual(ingest.reads, { list: 1, stamp: 2 });

    // The api (another process: it shares only the store) pauses the journey.
    await store.saveJourney(head('paused', 2), 1, { statusChanged: true });
    assert.equal((await ingest.active())[0]?.status, 'paused');
    assert.deepEqual(ingest.reads, { list: 2, stamp: 3 });
  });

  it('concurrent events share one stamp read and one list read', async () => {
    const store = memoryCatalogStore();
    await store.saveJourney(head('active', 1), undefined);
    const ingest = processView(store);
    await Promise.all([ingest.active(), ingest.active(), ingest.active()]);
    assert.deepEqual(ingest.reads, { list: 1, stamp: 1 });
  });
});
