import type { Journey } from '../journeys/schema.js';
import type { CatalogStore, JourneyRecord, JourneyStatus } from './types.js';

/**
 * The runtime's read model of the catalog: what a published journey says about entry and exit, at
 * its current version. Ingest checks every event against these (cached for a few seconds), the
 * enrollment API and the stats read one.
 */

/**
 * What a journey says about entry and exit: the slice of a published version the reactor uses (its
 * trigger, reentry, goal and exitOn are the definition's own fields, `Journey`).
 */
export interface JourneyEntryRules
  extends Pick<Journey, 'id' | 'reentry'>,
    Partial<Pick<Journey, 'trigger' | 'goal' | 'exitOn'>> {
  version: number;
  status: Exclude<JourneyStatus, 'draft'>;
  /** ARN of the state machine version (or alias) executions start on. */
  stateMachineArn: string;
  /** The whole published definition: the start counts the nodes entered before the first step. */
  definition?: Journey;
}

/** A published journey as the catalog gives it to the runtime: the entry rules and the whole definition. */
export interface ActiveJourney extends JourneyEntryRules {
  definition: Journey;
  publishedAt: string;
}

/** The head's published version as the runtime sees it; undefined when not published or archived. */
export function activeJourneyOf(head: JourneyRecord): ActiveJourney | undefined {
  const published = head.published;
  if (!published || head.status === 'archived' || head.status === 'draft') return undefined;
  const definition = published.definition;
  return {
    id: head.id,
    version: published.version,
    status: head.status,
    stateMachineArn: published.versionArn,
    trigger: definition.trigger,
    reentry: definition.reentry ?? 'never',
    goal: definition.goal,
    exitOn: definition.exitOn,
    definition,
    publishedAt: published.publishedAt,
  };
}

/**
 * Published journeys that are active or paused, at their latest version, with definitions: what
 * ingest checks every event against (paused ones too: their goals and exits still apply; only
 * `status: 'active'` journeys accept new entries). One Query; callers cache it for a few seconds.
 */
export async function listActiveJourneys(
  store: Pick<CatalogStore, 'listJourneys'>,
): Promise<ActiveJourney[]> {
  return (await store.listJourneys()).flatMap((head) => activeJourneyOf(head) ?? []);
}

/** One journey's current published version as the runtime sees it, or undefined. */
export async function getActiveJourney(
  store: Pick<CatalogStore, 'getJourney'>,
  id: string,
): Promise<ActiveJourney | undefined> {
  const head = await store.getJourney(id);
  return head ? activeJourneyOf(head) : undefined;
}
