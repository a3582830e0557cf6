import type { NormalizedMessage } from '../events/normalize.js';
import type { ProfileRecord } from './model.js';
import type { CounterIncrement } from './store.js';

/**
 * The port through which values derived from events (computed traits, lifecycle stage, scores) are
 * kept on the profile. Ingest calls it inside its read-modify-write, after the event is applied, so
 * derived values are written in the same transaction as the event (no request of its own per event;
 * an implementation may read its definitions from a cache). shared/derived implements it.
 */
export interface ProfileDeriver {
  /**
   * The profile with its derived fields brought up to date: `message` already applied, `merged` the
   * profiles this write folds into it (as they were read), `before` the profile as read (null when
   * new), `now` epoch ms. `counters` are written in the same transaction.
   */
  derive(input: {
    profile: ProfileRecord;
    before: ProfileRecord | null;
    merged: ProfileRecord[];
    message?: NormalizedMessage;
    now: number;
  }): Promise<{ profile: ProfileRecord; counters: CounterIncrement[] }>;
}
