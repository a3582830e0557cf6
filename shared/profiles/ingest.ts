import type { Clock } from '../clock.js';
import { ConflictError, ValidationError } from '../errors.js';
import { withOwnMessageId } from '../events/fingerprint.js';
import type { NormalizedMessage } from '../events/normalize.js';
import { maxIdBytes } from '../events/schema.js';
import {
  defaultIdentityRules,
  type Identifier,
  type IdentityRules,
  identifierKey,
  identifiersOf,
  type Refusal,
  resolveIdentity,
  unionIdentities,
} from '../identity/index.js';
import type { IdGenerator } from '../ids.js';
import { illFormedMessage, isWellFormedText } from '../json-shape.js';
import type { Logger } from '../log.js';
import { exponentialBackoff, retrying } from '../retry.js';
import type { ProfileDeriver } from './derive.js';
import {
  applyEvent,
  type JourneyItem,
  mergeProfileRecords,
  newProfileRecord,
  type Profile,
  type ProfileRecord,
} from './model.js';
import {
  DuplicateMessageError,
  MessageIdReusedError,
  type ProfileCommit,
  ProfileErasedError,
  type ProfileStore,
  ProfileWriteConflict,
} from './store.js';

export interface IngestDeps {
  store: ProfileStore;
  clock: Clock;
  /** New profile ids. */
  ids: IdGenerator;
  log?: Logger;
  rules?: IdentityRules;
  retry?: IngestRetryOptions;
  /** Keeps computed traits, stage and scores current in the same write (shared/derived). */
  deriver?: ProfileDeriver;
}

export interface IngestRetryOptions {
  /** Attempts before giving up with a ConflictError (a transient error: the queue redelivers). Default 25. */
  maxAttempts?: number;
  /** Full-jitter exponential backoff: a random delay in [0, min(maxDelayMs, baseDelayMs * 2^attempt)]. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

interface IngestOutcome {
  profileId: string;
  /** Profiles merged into `profileId` by this event. */
  merged: string[];
  /** Identifiers not attached / profiles not merged because of a limit (already logged). */
  refused: Refusal[];
  event: NormalizedMessage;
  /** Read-modify-write attempts it took (1 without contention). */
  attempts: number;
}

/**
 * The result of ingesting one message. `profile` is the profile after the event, with its
 * journey-presence items, which is what the journeys runtime reacts to. A duplicate (a redelivered
 * messageId) changes nothing and returns the profile as it is now (null if it no longer exists).
 */
export type IngestResult =
  | (IngestOutcome & { duplicate: false; profile: Profile })
  | (IngestOutcome & { duplicate: true; profile: Profile | null });

/**
 * Ingests one message: resolves the identity, merges profiles when the event links them, updates the
 * profile and appends the event, all in one transaction guarded by a dedupe record and the versions
 * read. On a conflict (another writer got there first) it reads again and retries with jittered
 * backoff. An event of a person being erased (the profile read carries the erasure's mark, or a
 * retry finds it gone) is refused with ProfileErasedError, not retried (refuseErased). Known user in steady state: 3 requests (identity lookup, profile Query, TransactWriteItems).
 */
export async function ingestMessage(message: NormalizedMessage, deps: IngestDeps): Promise<IngestResult> {
  const maxAttempts = deps.retry?.maxAttempts ?? 25;
  const backoff = exponentialBackoff({
    baseMs: deps.retry?.baseDelayMs ?? 5,
    maxMs: deps.retry?.maxDelayMs ?? 200,
    jitter: 'full',
  });
  // The existing profiles the attempts so far were to write under (survivor and merged).
  const wrote = new Set<string>();
  try {
    return await retrying((attempt) => attemptIngest(message, deps, attempt, wrote), {
      attempts: maxAttempts,
      retryable: (error) => error instanceof ProfileWriteConflict,
      backoff,
    });
  } catch (error) {
    if (!(error instanceof ProfileWriteConflict)) throw error;
    throw new ConflictError(`profile kept changing while ingesting message ${message.messageId}`, {
      attempts: maxAttempts,
    });
  }
}

async function attemptIngest(
  message: NormalizedMessage,
  deps: IngestDeps,
  attempt: number,
  wrote: Set<string>,
): Promise<IngestResult> {
  const { store, clock } = deps;
  const rules = deps.rules ?? defaultIdentityRules;
  // Identities: the first attempt reads eventually consistent (half the cost; a stale owner fails a
  // write condition and the retry reads what won). The profile Query is always strongly consistent:
  // its presence items are not guarded by the profile version, and the reactor must see a waitFor
  // registered just before this event.
  const read = { consistent: attempt > 1 };
  const identifiers = identifiersOf(message);
  const lookups = [...identifiers];
  const previous = aliasCandidates(message);
  for (const candidate of previous) if (!has(lookups, candidate)) lookups.push(candidate);

  const rawOwners = await store.lookupIdentities(lookups, read);
  if (previous.length > 0) {
    // alias previousId: a known userId if it is one, else an anonymousId.
    const [asUser, asAnonymous] = previous as [Identifier, Identifier];
    const chosen = rawOwners.has(identifierKey(asUser)) ? asUser : asAnonymous;
    if (!has(identifiers, chosen)) identifiers.push(chosen);
  }

  // Read every owning profile (following merges), once each.
  const profiles = new Map<string, Profile>();
  const liveOf = new Map<string, Profile | null>();
  await Promise.all(
    [
      ...new Set(identifiers.map((i) => rawOwners.get(identifierKey(i))).filter((id) => id !== undefined)),
    ].map(async (id) => {
      const live = await readLive(store, id, true);
      liveOf.set(id, live);
      if (live) profiles.set(live.profileId, live);
    }),
  );
  const owners = new Map<string, string>();
  for (const identifier of identifiers) {
    const raw = rawOwners.get(identifierKey(identifier));
    const live = raw === undefined ? null : liveOf.get(raw);
    if (live) owners.set(identifierKey(identifier), live.profileId);
  }
  const resolution = resolveIdentity(
    {
      identifiers,
      owners,
      profiles: new Map([...profiles].map(([id, p]) => [id, p.identities])),
    },
    rules,
  );

  const existing = resolution.profileId === null ? null : profiles.get(resolution.profileId)!;
  const mergedProfiles = resolution.merge.map((id) => profiles.get(id)!);
  await refuseErased(store, [existing, ...mergedProfiles], profiles, wrote);

  const now = new Date(clock.now()).toISOString();
  let next: ProfileRecord = existing ? recordOf(existing) : newProfileRecord(deps.ids.next(), now);
  for (const merged of mergedProfiles) next = mergeProfileRecords(next, recordOf(merged));
  next = applyEvent(
    { ...next, identities: unionIdentities(next.identities, resolution.identities) },
    message,
    now,
  );
  next.version = (existing?.version ?? 0) + 1;
  let counters: ProfileCommit['counters'];
  if (deps.deriver) {
    const merged = mergedProfiles.map(recordOf);
    const before = existing ? recordOf(existing) : null;
    const derived = await deps.deriver.derive({ profile: next, before, merged, message, now: clock.now() });
    next = derived.profile;
    counters = derived.counters;
  }

  const change: ProfileCommit = {
    message,
    profile: next,
    expectedVersion: existing ? existing.version : null,
    identities: [
      // A dangling identity (its profile was erased mid-way) is taken over, guarded by its old owner.
      ...resolution.attach.map((identifier) => ({
        identifier,
        expectedOwner: rawOwners.get(identifierKey(identifier)) ?? null,
      })),
      ...mergedProfiles.flatMap((merged) =>
        identitiesList(merged).map((identifier) => ({ identifier, expectedOwner: merged.profileId })),
      ),
    ],
    merged: mergedProfiles.map((merged) => ({
      profile: {
        ...recordOf(merged),
        mergedInto: next.profileId,
        version: merged.version + 1,
        updatedAt: now,
      },
      expectedVersion: merged.version,
    })),
    ...presenceChanges(existing?.presence ?? [], mergedProfiles),
    ...(counters?.length ? { counters } : {}),
  };

  const outcome = {
    merged: resolution.merge,
    refused: resolution.refused,
    event: message,
    attempts: attempt,
  };
  try {
    await commitOnce(store, change, deps);
  } catch (error) {
    if (!(error instanceof DuplicateMessageError)) throw error;
    const profileId = error.profileId ?? existing?.profileId ?? next.profileId;
    const profile = profileId === existing?.profileId ? existing : await getProfile(store, profileId);
    deps.log?.info('duplicate message skipped', { messageId: message.messageId, profileId });
    return { ...outcome, merged: [], refused: [], duplicate: true, profileId, profile };
  }

  for (const refusal of resolution.refused) {
    // Identifier types and ids Cairn made only: never the identifier values (PII).
    deps.log?.warn('identity not linked: limit reached', {
      messageId: message.messageId,
      profileId: next.profileId,
      identifierType: refusal.identifierType,
      limitType: refusal.limitType,
      limit: refusal.limit,
      ...(refusal.profileId ? { keptSeparate: refusal.profileId } : {}),
    });
  }
  if (resolution.merge.length > 0) {
    deps.log?.info('profiles merged', {
      messageId: message.messageId,
      profileId: next.profileId,
      merged: resolution.merge,
    });
  }
  const moved = new Set(change.movePresence.map((move) => move.presence.executionName));
  const presence = [
    ...(existing?.presence ?? []).filter((p) => !moved.has(p.executionName)),
    ...change.movePresence.map(({ fromProfileId, presence }) => ({
      ...presence,
      profileId: next.profileId,
      movedFrom: fromProfileId,
    })),
  ];
  return {
    ...outcome,
    // The message as stored: under a messageId of its own if the sender's was reused.
    event: change.message,
    duplicate: false,
    profileId: next.profileId,
    profile: { ...next, presence },
  };
}

/**
 * Throws ProfileErasedError when the event is of a person being erased, with no request in the
 * common case: a profile it would write under carries an erasure's mark (`erasedAt`, read with it),
 * or a profile an earlier attempt was to write under is no longer found (its identities or item
 * deleted by the erasure since: the attempt failed on its version) and has a tombstone (one GetItem,
 * only then; a profile merged elsewhere meanwhile has none). Its commit would otherwise write the
 * event under the erased profile, or start a new profile with it.
 */
async function refuseErased(
  store: ProfileStore,
  writing: (Profile | null)[],
  read: Map<string, Profile>,
  wrote: Set<string>,
): Promise<void> {
  for (const profile of writing) if (profile?.erasedAt) throw new ProfileErasedError(profile.profileId);
  for (const id of wrote) {
    if (!read.has(id) && (await store.isErased(id))) throw new ProfileErasedError(id);
  }
  for (const profile of writing) if (profile) wrote.add(profile.profileId);
}

/**
 * Commits; when the sender's messageId already names a message with other content, commits again
 * under a messageId of its own (one more request, only then), and says so in the log.
 */
async function commitOnce(store: ProfileStore, change: ProfileCommit, deps: IngestDeps): Promise<void> {
  try {
    await store.commit(change);
  } catch (error) {
    if (!(error instanceof MessageIdReusedError) || change.message.messageIdReused) throw error;
    deps.log?.warn('messageId reused with other content; processed as a message of its own', {
      messageId: change.message.messageId,
      profileId: change.profile.profileId,
    });
    change.message = withOwnMessageId(change.message);
    await store.commit(change);
  }
}

/**
 * The profile with this id, following `mergedInto` to the profile it now lives in. Throws a
 * ValidationError for an id that cannot be a key (too long, not valid Unicode).
 */
export async function getProfile(
  store: ProfileStore,
  profileId: string,
  consistent = true,
): Promise<Profile | null> {
  checkLookupValue('profileId', profileId);
  return readLive(store, profileId, consistent);
}

async function readLive(
  store: ProfileStore,
  profileId: string,
  consistent: boolean,
): Promise<Profile | null> {
  let profile = await store.readProfile(profileId, { consistent });
  for (let hops = 0; profile?.mergedInto !== undefined && hops < 10; hops++) {
    profile = await store.readProfile(profile.mergedInto, { consistent });
  }
  return profile?.mergedInto === undefined ? profile : null;
}

/**
 * Presence items of the merged profiles, to move under the survivor. When both hold an item of the
 * same name (a journey's entry record on both sides), the one entered most recently wins, so
 * re-entry rules see the latest entry; the other is deleted.
 */
function presenceChanges(
  survivor: JourneyItem[],
  mergedProfiles: Profile[],
): Pick<ProfileCommit, 'movePresence' | 'deletePresence'> {
  const enteredAt = (p: JourneyItem | undefined) => Number(p?.lastEnteredAt ?? p?.enteredAt ?? 0);
  const kept = new Map(survivor.map((p) => [p.executionName, p]));
  const moves = new Map<string, { fromProfileId: string; presence: JourneyItem }>();
  const deletePresence: { profileId: string; executionName: string }[] = [];
  for (const merged of mergedProfiles) {
    for (const presence of merged.presence) {
      const { executionName } = presence;
      const moving = moves.get(executionName);
      const current = moving?.presence ?? kept.get(executionName);
      if (current && enteredAt(current) >= enteredAt(presence)) {
        deletePresence.push({ profileId: merged.profileId, executionName });
        continue;
      }
      if (moving) deletePresence.push({ profileId: moving.fromProfileId, executionName });
      moves.set(executionName, { fromProfileId: merged.profileId, presence });
    }
  }
  return { movePresence: [...moves.values()], deletePresence };
}

function aliasCandidates(message: NormalizedMessage): Identifier[] {
  if (message.type !== 'alias' || message.previousId === undefined) return [];
  return [
    { type: 'userId', value: message.previousId },
    { type: 'anonymousId', value: message.previousId },
  ];
}

function has(list: Identifier[], identifier: Identifier): boolean {
  return list.some((i) => i.type === identifier.type && i.value === identifier.value);
}

function recordOf(profile: Profile): ProfileRecord {
  const { presence: _presence, ...record } = profile;
  return record;
}

function identitiesList(profile: ProfileRecord): Identifier[] {
  return Object.entries(profile.identities).flatMap(([type, values]) =>
    values.map((value) => ({ type: type as Identifier['type'], value })),
  );
}

/** A value looked up by key (a profile id, a userId): 400 when it could never be a key. */
export function checkLookupValue(field: string, value: string): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxIdBytes) {
    throw new ValidationError([
      { path: [field], message: `${field} is ${bytes} bytes in UTF-8; at most ${maxIdBytes} are allowed` },
    ]);
  }
  if (!isWellFormedText(value))
    throw new ValidationError([{ path: [field], message: `${field} ${illFormedMessage}` }]);
}
