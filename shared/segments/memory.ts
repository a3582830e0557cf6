import {
  defaultMembersLimit,
  type MembersPage,
  maxMembersLimit,
  type SegmentMembership,
  type SegmentState,
} from './port.js';

/**
 * An in-memory SegmentMembership with the DynamoDB adapter's semantics (members ordered by profile
 * id, opaque cursors, undefined status for an unknown segment): for unit tests of what reads segments.
 */
export class MemorySegmentMembership implements SegmentMembership {
  private readonly segments = new Map<
    string,
    { status: SegmentState['status']; members: Map<string, string> }
  >();

  /** Defines (or resets) a segment with these members (`profileId → since`). */
  define(
    segmentId: string,
    members: Record<string, string> = {},
    status: SegmentState['status'] = 'ready',
  ): void {
    this.segments.set(segmentId, { status, members: new Map(Object.entries(members)) });
  }

  enter(segmentId: string, profileId: string, since: string): void {
    this.segments.get(segmentId)?.members.set(profileId, since);
  }

  exit(segmentId: string, profileId: string): void {
    this.segments.get(segmentId)?.members.delete(profileId);
  }

  async listMembers(segmentId: string, page: { limit?: number; cursor?: string } = {}): Promise<MembersPage> {
    const limit = Math.min(Math.max(1, Math.floor(page.limit ?? defaultMembersLimit)), maxMembersLimit);
    const after = page.cursor ? Buffer.from(page.cursor, 'base64url').toString('utf8') : undefined;
    const all = [...(this.segments.get(segmentId)?.members ?? [])]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .filter(([id]) => after === undefined || id > after);
    const members = all.slice(0, limit).map(([profileId, since]) => ({ profileId, since }));
    const last = members.at(-1);
    return {
      members,
      next: all.length > limit && last ? Buffer.from(last.profileId).toString('base64url') : null,
    };
  }

  async isMember(segmentId: string, profileId: string): Promise<boolean> {
    return this.segments.get(segmentId)?.members.has(profileId) ?? false;
  }

  async status(segmentId: string): Promise<SegmentState | undefined> {
    const segment = this.segments.get(segmentId);
    return segment && { status: segment.status, count: segment.members.size };
  }
}
