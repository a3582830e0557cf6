import type { NormalizedMessage } from '../events/normalize.js';
import type { ProfileRecord } from '../profiles/model.js';
import type { MembersPage, SegmentMembership, SegmentStatus } from './port.js';
import type { Segment } from './schema.js';

/** A stored segment: its definition and where its backfill is. */
export interface SegmentRecord {
  id: string;
  definition: Segment;
  status: SegmentStatus;
  /** Bumped by every save: a backfill of an older revision stops. */
  revision: number;
  createdAt: string;
  updatedAt: string;
  progress?: { evaluated: number; cursor?: string };
}

/** The (profile, segment) item: membership and the window timer. */
export interface MembershipState {
  segmentId: string;
  member: boolean;
  since?: string;
  /** ISO time at which a window may change the outcome: the timer re-evaluates then. */
  dueAt?: string;
  /**
   * Changes written but whose listeners (journeys) have not been told yet, by kind: the change's
   * time. Written with the membership change, cleared once told (`settle`); any later evaluation
   * of the profile, the redelivered event's or the timer's, tells them again.
   */
  pending?: { entered?: string; exited?: string };
}

/** A change to record as pending in the membership write, and when the timer retries telling it. */
export interface PendingChange {
  retryAt: string;
}

/** What one Query of a profile's partition gives the evaluator. */
export interface ProfileSegmentsRead {
  profile: ProfileRecord | null;
  /** Events at or after the requested time, oldest first. */
  events: NormalizedMessage[];
  states: Map<string, MembershipState>;
}

/** Everything segments store; `DynamoSegmentStore` implements it. */
export interface SegmentStore extends SegmentMembership {
  listSegments(): Promise<SegmentRecord[]>;
  getSegment(segmentId: string): Promise<SegmentRecord | undefined>;
  saveSegment(record: SegmentRecord): Promise<void>;
  /** Records backfill progress unless the segment was saved again since (`revision`). */
  setProgress(
    segmentId: string,
    revision: number,
    progress: { status: SegmentStatus; evaluated: number; cursor?: string },
  ): Promise<boolean>;
  deleteSegment(segmentId: string): Promise<void>;
  countOf(segmentId: string): Promise<number>;
  /** One request: the profile, its events since `historySince` (ISO; null = none) and its segment items. */
  readProfile(profileId: string, historySince?: string | null): Promise<ProfileSegmentsRead>;
  /** With `pending`, the entry (at `since`) is recorded as not yet told, and the timer set by `retryAt`. */
  enter(
    segmentId: string,
    profileId: string,
    since: string,
    dueAt?: string,
    pending?: PendingChange,
  ): Promise<boolean>;
  /** With `pending`, the exit (at `pending.at`) is recorded as not yet told: the item stays until then. */
  exit(
    segmentId: string,
    profileId: string,
    dueAt?: string,
    pending?: PendingChange & { at: string },
  ): Promise<boolean>;
  /**
   * The change `kind` at `at` was told: clears its pending mark (unless a newer change replaced it),
   * setting the window timer to `dueAt` (null: none; undefined: left as it is) in the same write.
   */
  settle(
    segmentId: string,
    profileId: string,
    told: { kind: 'entered' | 'exited'; at: string; member: boolean; dueAt?: string | null },
  ): Promise<void>;
  /** Sets or clears a window timer; false when the profile was erased (nothing written). */
  setDue(segmentId: string, profileId: string, dueAt: string | undefined, member: boolean): Promise<boolean>;
  dueTimers(now: string, limit: number): Promise<{ segmentId: string; profileId: string; dueAt: string }[]>;
  earliestDue(): Promise<string | undefined>;
  scanProfiles(page: {
    cursor?: string;
    limit: number;
    segment?: number;
    segments?: number;
  }): Promise<{ profiles: ProfileRecord[]; next: string | null }>;
  removeMembers(segmentId: string, limit?: number): Promise<number>;
}

export type { MembersPage };
