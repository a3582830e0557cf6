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
  enter(segmentId: string, profileId: string, since: string, dueAt?: string): Promise<boolean>;
  exit(segmentId: string, profileId: string, dueAt?: string): Promise<boolean>;
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
