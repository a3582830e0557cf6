import {
  type DeviceRecord,
  deviceFromContext,
  mergeDevices,
  rememberDevice,
} from '../channels/push/devices.js';
import { hasOwn, ownValue, setOwn } from '../dictionary.js';
import type { NormalizedMessage } from '../events/normalize.js';
import {
  applyTraits,
  emptyIdentities,
  type Identities,
  mergeTraitStates,
  unionIdentities,
} from '../identity/index.js';
import type { SegmentType } from '../routing.js';

/** Per-profile counters, updated with every event (merged profiles add up). */
export interface ProfileCounters {
  /** Every ingested message of the profile. */
  events: number;
  /** Per Segment type. */
  types: Partial<Record<SegmentType, number>>;
  /** Per track event name, for the first `maxTrackedEventNames` names (a profile item must stay small). */
  tracked: Record<string, number>;
}

export const maxTrackedEventNames = 200;

/** The profile item, as stored. */
export interface ProfileRecord {
  profileId: string;
  identities: Identities;
  traits: Record<string, unknown>;
  /** Per trait, the event time (epoch ms) of the value kept: last-write-wins by event time. */
  traitTimes: Record<string, number>;
  firstSeen: string;
  lastSeen: string;
  counters: ProfileCounters;
  /** Optimistic concurrency: every write expects the version it read and writes version + 1. */
  version: number;
  /** Set on a profile merged into another; reads follow it. */
  mergedInto?: string;
  /** Every profile merged into this one (transitively), so their histories stay reachable. */
  mergedFrom: string[];
  createdAt: string;
  updatedAt: string;
  /** Computed traits by id, as of the last write (shared/derived). */
  computed?: Record<string, unknown>;
  /** Push devices from `context.device` (shared/channels/push/devices.ts), newest first. */
  devices?: DeviceRecord[];
  /** Lifecycle stage and since when (shared/derived/lifecycle.ts). */
  stage?: string;
  stageSince?: string;
  /** Lead scores by score id (`{ fit, engagement, total }`) and `churnRisk` (0..1 or null). */
  scores?: Record<string, unknown>;
  /** State the derived values are kept current from (shared/derived/derive.ts), not shown. */
  derived?: Record<string, unknown>;
  /** When a derived value changes with no event (a window passing, a stage boundary): ISO time. */
  dueAt?: string;
}

/**
 * An item the journeys runtime keeps under the profile (`P#<profileId>` / `S#<name>`), as stored: a
 * presence (shared/runtime PresenceRecord, `S#<executionName>`) or an entry record (EntryRecord,
 * `S#entry#<journeyId>`); `executionName` is the sort key without `S#`. Profiles only read them with
 * the profile (one Query), move them to the surviving profile on a merge and delete them on an
 * erasure; what the other attributes mean is the runtime's (its splitJourneyState reads them).
 */
export interface JourneyItem {
  executionName: string;
  [attribute: string]: unknown;
}

/** A profile with its journey items, as one Query returns them. */
export interface Profile extends ProfileRecord {
  /** The journeys runtime's items: its presence and entry records, unparsed. */
  presence: JourneyItem[];
  /** Segments the profile is a member of, read with it (one Query; shared/segments writes them). */
  memberOf?: string[];
  /**
   * Set by an erasure under way (ProfileStore.markErased) until it deletes the item: nothing is
   * written under the profile any more (ingest drops the person's events, timers skip it).
   */
  erasedAt?: string;
}

/** The public JSON shape (README.md, HTTP API): what the API returns for a profile. */
export interface ProfileJson {
  profileId: string;
  identities: Identities;
  traits: Record<string, unknown>;
  firstSeen: string;
  lastSeen: string;
  counters: ProfileCounters;
  mergedFrom: string[];
  /** Computed traits by id (`{ ordersLast90d: 2, totalSpend: 120.5, ... }`); `{}` when none are defined. */
  devices: DeviceRecord[];
  computed: Record<string, unknown>;
  /** Lifecycle stage (`new`, `active`, `dormant`, `churned` by default) and since when. */
  stage: string | null;
  stageSince: string | null;
  /** `{ <scoreId>: { fit, engagement, total }, churnRisk: number | null }`. */
  scores: Record<string, unknown>;
}

export function toProfileJson(profile: ProfileRecord): ProfileJson {
  return {
    profileId: profile.profileId,
    identities: profile.identities,
    traits: profile.traits,
    firstSeen: profile.firstSeen,
    lastSeen: profile.lastSeen,
    counters: profile.counters,
    mergedFrom: profile.mergedFrom,
    devices: profile.devices ?? [],
    computed: profile.computed ?? {},
    stage: profile.stage ?? null,
    stageSince: profile.stageSince ?? null,
    scores: profile.scores ?? {},
  };
}

export function newProfileRecord(profileId: string, at: string): ProfileRecord {
  return {
    profileId,
    identities: emptyIdentities(),
    traits: {},
    traitTimes: {},
    firstSeen: at,
    lastSeen: at,
    counters: { events: 0, types: {}, tracked: {} },
    version: 0,
    mergedFrom: [],
    createdAt: at,
    updatedAt: at,
  };
}

/** `merged` folded into `survivor`: identities, newest traits, seen range, counters, merge lineage. */
export function mergeProfileRecords(survivor: ProfileRecord, merged: ProfileRecord): ProfileRecord {
  const traits = mergeTraitStates(survivor, merged);
  const tracked = { ...survivor.counters.tracked };
  for (const [name, count] of Object.entries(merged.counters.tracked)) countEvent(tracked, name, count);
  const types = { ...survivor.counters.types };
  for (const [type, count] of Object.entries(merged.counters.types) as [SegmentType, number][]) {
    types[type] = (types[type] ?? 0) + count;
  }
  const mergedFrom = [...survivor.mergedFrom];
  for (const id of [merged.profileId, ...merged.mergedFrom])
    if (!mergedFrom.includes(id)) mergedFrom.push(id);
  return {
    ...survivor,
    identities: unionIdentities(survivor.identities, merged.identities),
    traits: traits.traits,
    traitTimes: traits.traitTimes,
    firstSeen: earliest(survivor.firstSeen, merged.firstSeen),
    lastSeen: latest(survivor.lastSeen, merged.lastSeen),
    counters: { events: survivor.counters.events + merged.counters.events, types, tracked },
    mergedFrom,
    ...((survivor.devices?.length || merged.devices?.length) && {
      devices: mergeDevices(survivor.devices ?? [], merged.devices ?? []),
    }),
  };
}

/** The profile after one event: traits (identify), seen range and counters. */
export function applyEvent(profile: ProfileRecord, message: NormalizedMessage, now: string): ProfileRecord {
  const at = Date.parse(message.timestamp);
  const traits = message.type === 'identify' ? applyTraits(profile, message.traits, at) : profile;
  const tracked = { ...profile.counters.tracked };
  if (message.type === 'track' && message.event !== undefined) countEvent(tracked, message.event, 1);
  const types = {
    ...profile.counters.types,
    [message.type]: (profile.counters.types[message.type] ?? 0) + 1,
  };
  const device = deviceFromContext(message.context, message.timestamp);
  return {
    ...profile,
    ...(device && { devices: rememberDevice(profile.devices ?? [], device) }),
    traits: traits.traits,
    traitTimes: traits.traitTimes,
    // A new profile's seen range starts at its first event, not at its creation time.
    firstSeen:
      profile.counters.events === 0 ? message.timestamp : earliest(profile.firstSeen, message.timestamp),
    lastSeen: profile.counters.events === 0 ? message.timestamp : latest(profile.lastSeen, message.timestamp),
    counters: { events: profile.counters.events + 1, types, tracked },
    updatedAt: now,
  };
}

/** Adds to an event name's count (any name: `constructor` and `__proto__` are names like others). */
function countEvent(tracked: Record<string, number>, name: string, by: number): void {
  if (!hasOwn(tracked, name) && Object.keys(tracked).length >= maxTrackedEventNames) return;
  setOwn(tracked, name, (ownValue(tracked, name) ?? 0) + by);
}

/** ISO-8601 UTC timestamps of the same form compare as strings. */
function earliest(a: string, b: string): string {
  return a <= b ? a : b;
}

function latest(a: string, b: string): string {
  return a >= b ? a : b;
}
