import { contentHash, dedupeKey } from '../events/fingerprint.js';
import type { NormalizedMessage } from '../events/normalize.js';
import { type Identifier, identifierKey } from '../identity/index.js';
import type { JourneyItem, Profile, ProfileRecord } from './model.js';
import {
  type CounterIncrement,
  DuplicateMessageError,
  type ErasureCounts,
  eventSortKey,
  MessageIdReusedError,
  type ProfileCommit,
  type ProfileStore,
  ProfileWriteConflict,
  type StoredEvent,
} from './store.js';

/**
 * The profile store in memory, with the same all-or-nothing `commit` semantics as the DynamoDB
 * adapter: for unit tests of anything that ingests or reads profiles.
 */
export class MemoryProfileStore implements ProfileStore {
  readonly profiles = new Map<string, ProfileRecord>();
  readonly identities = new Map<string, string>();
  readonly events = new Map<string, StoredEvent[]>();
  /** Dedupe records: dedupe key → the profile and content hash of the first delivery. */
  readonly messages = new Map<string, { profileId: string; contentHash: string }>();
  readonly presence = new Map<string, Map<string, JourneyItem>>();
  /** Calls per method, to assert request counts in unit tests. */
  readonly calls: Record<string, number> = {};
  /** Runs before a commit is applied (tests use it to interleave a competing writer). */
  beforeCommit?: (change: ProfileCommit) => Promise<void> | void;

  async lookupIdentities(identifiers: Identifier[]): Promise<Map<string, string>> {
    this.count('lookupIdentities');
    const owners = new Map<string, string>();
    for (const identifier of identifiers) {
      const owner = this.identities.get(identifierKey(identifier));
      if (owner !== undefined) owners.set(identifierKey(identifier), owner);
    }
    return owners;
  }

  /** Counter items (`pk|sk` → attribute → value), as `counters` of commits and saves added up. */
  readonly counters = new Map<string, Record<string, number>>();

  async saveProfile(profile: ProfileRecord, expectedVersion: number, counters?: CounterIncrement[]) {
    this.count('saveProfile');
    if (!this.writable(this.profiles.get(profile.profileId), expectedVersion))
      throw new ProfileWriteConflict('profile version changed');
    this.profiles.set(profile.profileId, structuredClone(profile));
    this.addCounters(counters);
  }

  async dueProfiles(now: string, limit: number) {
    this.count('dueProfiles');
    return [...this.profiles.values()]
      .filter((p) => p.mergedInto === undefined && p.dueAt !== undefined && p.dueAt <= now)
      .map((p) => ({ profileId: p.profileId, dueAt: p.dueAt! }))
      .sort((a, b) => (a.dueAt < b.dueAt ? -1 : 1))
      .slice(0, limit);
  }

  private addCounters(counters: CounterIncrement[] = []) {
    for (const { pk, sk, add } of counters) {
      const item = this.counters.get(`${pk}|${sk}`) ?? {};
      for (const [key, by] of Object.entries(add)) item[key] = (item[key] ?? 0) + by;
      this.counters.set(`${pk}|${sk}`, item);
    }
  }

  async readProfile(profileId: string): Promise<Profile | null> {
    this.count('readProfile');
    const record = this.profiles.get(profileId);
    if (!record) return null;
    return structuredClone({ ...record, presence: [...(this.presence.get(profileId)?.values() ?? [])] });
  }

  async commit(change: ProfileCommit): Promise<void> {
    this.count('commit');
    await this.beforeCommit?.(change);
    const { message, profile } = change;
    const seen = this.messages.get(dedupeKey(message));
    if (seen !== undefined) {
      if (seen.contentHash !== contentHash(message)) throw new MessageIdReusedError(message.messageId);
      throw new DuplicateMessageError(message.messageId, seen.profileId);
    }
    // As the DynamoDB adapter: each existing profile on the version read and not marked by an erasure.
    const current = this.profiles.get(profile.profileId);
    if (change.expectedVersion === null ? current : !this.writable(current, change.expectedVersion)) {
      throw new ProfileWriteConflict('profile version changed');
    }
    for (const { identifier, expectedOwner } of change.identities) {
      if ((this.identities.get(identifierKey(identifier)) ?? null) !== expectedOwner) {
        throw new ProfileWriteConflict('identity changed');
      }
    }
    for (const merged of change.merged) {
      if (!this.writable(this.profiles.get(merged.profile.profileId), merged.expectedVersion)) {
        throw new ProfileWriteConflict('merged profile changed');
      }
    }
    this.messages.set(dedupeKey(message), {
      profileId: profile.profileId,
      contentHash: contentHash(message),
    });
    this.addEvent(profile.profileId, message);
    this.profiles.set(profile.profileId, structuredClone(profile));
    this.addCounters(change.counters);
    for (const { identifier } of change.identities)
      this.identities.set(identifierKey(identifier), profile.profileId);
    for (const merged of change.merged)
      this.profiles.set(merged.profile.profileId, structuredClone(merged.profile));
    for (const { fromProfileId, presence } of change.movePresence) {
      this.presence.get(fromProfileId)?.delete(presence.executionName);
      this.putPresence(profile.profileId, {
        ...presence,
        profileId: profile.profileId,
        movedFrom: fromProfileId,
      });
    }
    for (const { profileId, executionName } of change.deletePresence ?? []) {
      this.presence.get(profileId)?.delete(executionName);
    }
  }

  async listEvents(profileIds: string[], page: { after?: string; limit: number }): Promise<StoredEvent[]> {
    this.count('listEvents');
    return profileIds
      .flatMap((id) => this.events.get(id) ?? [])
      .filter((event) => page.after === undefined || event.key > page.after)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, page.limit)
      .map((event) => structuredClone(event));
  }

  /** Profile ids with an erasure tombstone. */
  readonly erased = new Set<string>();

  async isErased(profileId: string): Promise<boolean> {
    this.count('isErased');
    return this.erased.has(profileId);
  }

  async markErased(profileIds: string[], live: { profileId: string; version: number }[] = []): Promise<void> {
    this.count('markErased');
    // As the DynamoDB adapter: the items marked on the version the erasure read, or none.
    for (const { profileId, version } of live) {
      if (profileIds.includes(profileId) && this.profiles.get(profileId)?.version !== version)
        throw new ProfileWriteConflict('profile changed since the erasure read it');
    }
    const erasedAt = new Date().toISOString();
    for (const profileId of profileIds) {
      this.erased.add(profileId);
      const record = this.profiles.get(profileId);
      if (!record || !live.some((p) => p.profileId === profileId)) continue;
      const { dueAt: _dueAt, ...rest } = record;
      this.profiles.set(profileId, { ...rest, version: record.version + 1, erasedAt } as ProfileRecord);
    }
  }

  /** Whether a write expecting `version` may replace the profile: that version, not marked erased. */
  private writable(current: ProfileRecord | undefined, version: number): boolean {
    return current?.version === version && (current as { erasedAt?: string }).erasedAt === undefined;
  }

  async deleteProfiles(
    profiles: ProfileRecord[],
    options: { counters?(profile: ProfileRecord): CounterIncrement[] } = {},
  ): Promise<ErasureCounts> {
    this.count('deleteProfiles');
    const counts: ErasureCounts = {
      profiles: 0,
      identities: 0,
      events: 0,
      dedupeRecords: 0,
      presence: 0,
      journeySteps: 0,
    };
    for (const profile of profiles) {
      for (const [type, values] of Object.entries(profile.identities)) {
        for (const value of values) {
          if (this.identities.delete(`${type}#${value}`)) counts.identities += 1;
        }
      }
      for (const event of this.events.get(profile.profileId) ?? []) {
        if (this.messages.delete(dedupeKey(event.message))) counts.dedupeRecords += 1;
        counts.events += 1;
      }
      this.events.delete(profile.profileId);
      counts.presence += this.presence.get(profile.profileId)?.size ?? 0;
      this.presence.delete(profile.profileId);
      if (this.profiles.delete(profile.profileId)) {
        counts.profiles += 1;
        this.addCounters(options.counters?.(profile));
      }
    }
    return counts;
  }

  /** Adds a journey-presence item, as the journeys runtime would. */
  putPresence(profileId: string, presence: JourneyItem): void {
    const items = this.presence.get(profileId) ?? new Map<string, JourneyItem>();
    items.set(presence.executionName, structuredClone(presence));
    this.presence.set(profileId, items);
  }

  private addEvent(profileId: string, message: NormalizedMessage): void {
    const list = this.events.get(profileId) ?? [];
    list.push({
      profileId,
      key: eventSortKey(message),
      message: structuredClone(message),
    });
    this.events.set(profileId, list);
  }

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }
}
