import type { EventReactor } from '../../shared/profiles/index.js';
import { membershipTrigger, segmentsReactor } from '../../shared/segments/wiring.js';
import { createRuntime } from '../runtime/runtime.js';
import { createSegments } from '../segments/deps.js';

/**
 * The hooks of ingest: what runs after each stored event. The journeys runtime starts, resumes and
 * stops executions (shared/runtime/reactor.ts); then segments re-evaluate what the event can change
 * (shared/segments), and each entry or exit is handed to the journeys runtime as a `Segment Entered`
 * / `Segment Exited` event, which starts the journeys triggered by it. Each makes its own clients, so
 * their AWS calls are counted apart from ingest's (`runtimeCalls.reactor`, `runtimeCalls.segments`).
 */
export function createReactor(): EventReactor {
  const { reactor } = createRuntime({ role: 'reactor' });
  const segments = createSegments({ role: 'segments' });
  return {
    async onEvent(input) {
      await reactor.onEvent(input);
      // The profile as ingest read it carries its journey items: a change that starts nothing costs no read.
      await segmentsReactor(segments.engine(membershipTrigger(reactor, input.profile))).onEvent(input);
    },
  };
}
