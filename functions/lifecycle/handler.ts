import { type DerivedTimerDeps, refreshDueProfiles } from '../../shared/derived/index.js';
import { createLifecycleDeps } from './deps.js';

let deps: DerivedTimerDeps | undefined;

/**
 * Scheduled once a minute (EventBridge rule): refreshes the profiles whose derived values are due
 * (a stage boundary passed, a window moved) and publishes their stage changes. Idle cost: one Query
 * per index shard per minute.
 */
export async function handler(): Promise<{ refreshed: number }> {
  deps ??= createLifecycleDeps();
  return { refreshed: await refreshDueProfiles(deps) };
}
