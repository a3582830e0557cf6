/**
 * The table keys more than one module builds, each built here once (the layouts: docs/data-model.md).
 * No AWS SDK here: pure modules (analytics, messaging keys, the timeline page) import it too.
 */

/** A profile's partition (Profiles table): its profile item, events, presence, timeline, send log, tombstone. */
export const profilePk = (profileId: string) => `P#${profileId}`;
/** The sort key of the profile item itself. */
export const profileSortKey = 'PROFILE';

/** Sort key prefix of a profile's events: `E#<timestamp>#<messageId>`. */
export const eventPrefix = 'E#';

/** Sort key prefix of a profile's journey timeline entries: `JT#<at>#<execution>#<node>#<outcome>`. */
export const timelinePrefix = 'JT#';
export function timelineSortKey(entry: {
  at: string;
  executionName: string;
  nodeId: string;
  outcome: string;
}): string {
  return `${timelinePrefix}${entry.at}#${entry.executionName}#${entry.nodeId}#${entry.outcome}`;
}

/** An execution's partition (Journeys table): its message records, entry data and refusal marker. */
export const executionPk = (executionName: string) => `MSG#${executionName}`;
