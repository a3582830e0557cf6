import type { NormalizedMessage } from '../events/normalize.js';
import type { IngestResult } from './ingest.js';
import type { Profile } from './model.js';

/**
 * What happens after an event is stored: the journeys runtime starts, resumes and stops executions
 * here. It is called for redeliveries too (`result.duplicate`), because a previous delivery may have
 * stored the event and then failed before reacting; reactions must therefore be idempotent
 * (deterministic execution names, conditional writes). A throw makes the event be retried.
 */
export interface EventReactor {
  onEvent(input: { profile: Profile; event: NormalizedMessage; result: IngestResult }): Promise<void>;
}
