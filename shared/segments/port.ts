/**
 * The membership port: what other parts of Cairn (broadcasts, journey branches, the profile API)
 * read about segments, whatever stores them. `DynamoSegmentStore` (dynamodb.ts) is the real adapter,
 * `MemorySegmentMembership` (memory.ts) the in-memory one for unit tests.
 *
 *   const page = await membership.listMembers('repeat-buyers-fr', { limit: 500 });
 *   for (const { profileId } of page.members) …;     // then again with { cursor: page.next } until next is null
 *   await membership.isMember('repeat-buyers-fr', profileId);
 *   await membership.status('repeat-buyers-fr');    // { status: 'ready', count } | undefined (unknown segment)
 */

/** One member: the profile and when it (last) entered the segment (ISO-8601). */
export interface SegmentMember {
  profileId: string;
  since: string;
}

export interface MembersPage {
  members: SegmentMember[];
  /** Opaque cursor for the next page; null on the last page. */
  next: string | null;
}

/** `building`: the backfill over existing profiles is running (membership is partial); `ready`: exact. */
export type SegmentStatus = 'building' | 'ready';

export interface SegmentState {
  status: SegmentStatus;
  /** Members now (exact: counted in the same transaction as each entry and exit). */
  count: number;
  /** While building: profiles evaluated so far. */
  progress?: { evaluated: number };
}

export interface SegmentMembership {
  /** Members in a stable order (by profile id), `limit` (default 100, at most 1000) at a time. */
  listMembers(segmentId: string, page?: { limit?: number; cursor?: string }): Promise<MembersPage>;
  /** Whether the profile is a member now. */
  isMember(segmentId: string, profileId: string): Promise<boolean>;
  /** The segment's status and count; undefined when no such segment is defined. */
  status(segmentId: string): Promise<SegmentState | undefined>;
}

export const defaultMembersLimit = 100;
export const maxMembersLimit = 1000;
