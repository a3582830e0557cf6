import type { EventReactor } from '../../shared/profiles/index.js';
import { createRuntime } from '../runtime/runtime.js';

/**
 * The journeys hook of ingest: what runs after each stored event (start / resume / stop executions).
 * This is the one place the journeys runtime is wired in (shared/runtime/reactor.ts). The runtime
 * makes its own clients so its AWS calls are counted apart from ingest's (`runtimeCalls.reactor`).
 */
export function createReactor(): EventReactor {
  const { reactor } = createRuntime({ role: 'reactor' });
  // Ingest needs no result; the runtime's reactor reports what it did (for its own tests).
  return {
    async onEvent(input) {
      await reactor.onEvent(input);
    },
  };
}
