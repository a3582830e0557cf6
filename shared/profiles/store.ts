import { ConflictError } from '../errors.js';
import type { NormalizedMessage } from '../events/normalize.js';
import type { Identifier } from '../identity/index.js';
import { eventPrefix } from '../store/keys.js';
import type { JourneyItem, Profile, ProfileRecord } from './model.js';

/**
 * What profiles need from storage. The DynamoDB adapter (dynamodb.ts) implements it with one request
 * per method call in the common case; `commit` is all-or-nothing (one TransactWriteItems).
 */
export interface ProfileStore {
  /** identifierKey (`type#value`) → profileId for the identifiers that have an owner. */
  lookupIdentities(identifiers: Identifier[], options?: ReadOptions): Promise<Map<string, string>>;
  /** The profile item and its journey-presence items, exactly as stored (does not follow mergedInto). */
  readProfile(profileId: string, options?: ReadOptions): Promise<Profile | null>;
  /**
   * Writes one ingested event atomically: the dedupe record, the event, the profile, new or re-pointed
   * identities, merged profiles and moved presence items. Throws DuplicateMessageError when the
   * same message (same sender, messageId and content) was committed before, MessageIdReusedError
   * when the sender's messageId was committed with other content, ProfileWriteConflict when anything
   * it read has changed since, an erasure's mark included (markErased: the retry reads it).
   */
  commit(change: ProfileCommit): Promise<void>;
  /** Events of the given profiles, in time order, after the cursor (an event sort key). */
  listEvents(profileIds: string[], page: { after?: string; limit: number }): Promise<StoredEvent[]>;
  /**
   * Writes the profile item alone (derived values refreshed by a timer, shared/derived), guarded by
   * the version read (and no erasure's mark), with `counters` in the same transaction. Throws
   * ProfileWriteConflict (also when an erasure marked the profile since it was read).
   */
  saveProfile(profile: ProfileRecord, expectedVersion: number, counters?: CounterIncrement[]): Promise<void>;
  /** Ids of live profiles whose `dueAt` is at or before `now` (ISO), at most `limit`, earliest first. */
  dueProfiles(now: string, limit: number): Promise<{ profileId: string; dueAt: string }[]>;
  /**
   * Writes an erasure tombstone for each profile id, before anything is deleted: writes that would
   * put items back under an erased profile (a journey step finishing late, an entry) check it in
   * their transaction and are refused. Kept `erasedRetentionDays` (30), then expires. In the same
   * transaction it marks the profile item of each of `live` (the profiles as the erasure read them):
   * version + 1 and `erasedAt`, conditioned on the version read. The profile store's own writes
   * (ingest's commit, a merge, a timer's save) are conditioned on the version they read and on no
   * `erasedAt`, so none writes under the profile again, and a read shows `erasedAt` (Profile).
   * Throws ProfileWriteConflict when a profile changed since the erasure read it (read again).
   */
  markErased(profileIds: string[], live: { profileId: string; version: number }[]): Promise<void>;
  /** Whether the profile has an erasure tombstone (one strongly consistent GetItem). */
  isErased(profileId: string): Promise<boolean>;
  /**
   * Deletes every item of the profiles (events, journey presence and timeline, entry records, the
   * profile), their identities and their events' dedupe records; the tombstones stay. `counters`
   * (of a profile) are added in the transaction that deletes its profile item: once, even when the
   * erasure is retried.
   */
  deleteProfiles(
    profiles: ProfileRecord[],
    options?: { counters?(profile: ProfileRecord): CounterIncrement[] },
  ): Promise<ErasureCounts>;
}

export interface ReadOptions {
  /** Strongly consistent read (retries after a conflict use it; the first attempt does not). */
  consistent?: boolean;
}

export interface ProfileCommit {
  message: NormalizedMessage;
  /** The surviving profile as it will be stored (version already incremented). */
  profile: ProfileRecord;
  /** The version read, or null when the profile is new (it must not exist). */
  expectedVersion: number | null;
  /** Identity items to point at `profile.profileId`; `expectedOwner` null = must not exist yet. */
  identities: { identifier: Identifier; expectedOwner: string | null }[];
  /** Profiles merged into `profile`: stored with `mergedInto`, guarded by the version read. */
  merged: { profile: ProfileRecord; expectedVersion: number }[];
  /** Presence items of merged profiles, moved under the surviving profile (overwriting one of the same name). */
  movePresence: { fromProfileId: string; presence: JourneyItem }[];
  /** Presence items of merged profiles that lost to one of the same name: deleted. */
  deletePresence?: { profileId: string; executionName: string }[];
  /** Counters added to in the same transaction (lifecycle counts: exact, never double-counted). */
  counters?: CounterIncrement[];
}

/** `add` added to the numeric attributes of the item (`pk`, `sk`) of the profiles table, created if missing. */
export interface CounterIncrement {
  pk: string;
  sk: string;
  add: Record<string, number>;
}

/** An event's sort key, which orders the timeline. */
export function eventSortKey(message: NormalizedMessage): string {
  return `${eventPrefix}${message.timestamp}#${message.messageId}`;
}

export interface StoredEvent {
  profileId: string;
  /** Sort key (`eventSortKey`); also the timeline cursor. */
  key: string;
  message: NormalizedMessage;
}

export interface ErasureCounts {
  profiles: number;
  identities: number;
  events: number;
  dedupeRecords: number;
  /** Journey presence and entry records. */
  presence: number;
  /** Journey steps and messages on the profile's timeline. */
  journeySteps: number;
}

/** The messageId was ingested before: the event is a redelivery. */
export class DuplicateMessageError extends ConflictError {
  constructor(
    readonly messageId: string,
    /** The profile the first delivery went to, when the store can tell. */
    readonly profileId?: string,
  ) {
    super(`message ${messageId} was already ingested`);
  }
}

/**
 * The profile a write would put items under was erased (its tombstone `P#<id>` / `ERASED` exists,
 * shared/profiles/erasure.ts): the write is refused as a whole, so nothing of the person comes back.
 * Not worth retrying: the tombstone stays 30 days.
 */
export class ProfileErasedError extends ConflictError {
  constructor(readonly profileId: string) {
    super(`profile ${profileId} was erased`);
  }
}

/** Something read before the write changed (another writer won): read again and retry. */
export class ProfileWriteConflict extends ConflictError {}

/**
 * The sender's messageId is already taken by a message with other content: not a redelivery. Ingest
 * commits it again as a message of its own (`messageIdReused`).
 */
export class MessageIdReusedError extends ConflictError {
  constructor(readonly messageId: string) {
    super(`message ${messageId} was already used for a message with other content`);
  }
}
