import { ManualClock } from '../../../shared/clock.js';
import { parseMessage } from '../../../shared/events/index.js';
import { memoryLogger } from '../../../shared/log.js';
import { type IngestDeps, ingestMessage, MemoryProfileStore } from '../../../shared/profiles/index.js';

/**
 * Profile ingest on the in-memory store: a manual clock at 2026-05-01, ids `id-1`, `id-2`, …, no
 * retry delay; `message` parses a raw Segment-style message, `ingest` parses and ingests it.
 */
export function memoryIngest() {
  let n = 0;
  const clock = new ManualClock(Date.parse('2026-05-01T00:00:00.000Z'));
  const ids = { next: () => `id-${++n}` };
  const store = new MemoryProfileStore();
  const log = memoryLogger();
  const deps: IngestDeps = { store, clock, ids, log, retry: { baseDelayMs: 0, maxDelayMs: 0 } };
  const message = (input: Record<string, unknown>) => parseMessage(input, { clock, ids });
  const ingest = (input: Record<string, unknown>) => ingestMessage(message(input), deps);
  return { clock, store, log, deps, message, ingest };
}
