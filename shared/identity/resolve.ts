import {
  emptyIdentities,
  type Identifier,
  type IdentifierType,
  type Identities,
  identifierKey,
  identifierTypes,
} from './identifiers.js';

/**
 * Segment-Unify-style rules. `limits`: how many distinct values of each identifier type one profile
 * may hold. `priority`: the order identifiers are trusted in; when attaching an identifier or merging
 * the profile it points to would break a limit, the lower-priority identifier gives way (it is not
 * attached and its profile is not merged), so a shared device never fuses two known users.
 */
export interface IdentityRules {
  readonly limits: Readonly<Record<IdentifierType, number>>;
  readonly priority: readonly IdentifierType[];
}

export const defaultIdentityRules: IdentityRules = Object.freeze({
  limits: Object.freeze({ userId: 1, email: 5, phone: 5, anonymousId: 5 }),
  priority: Object.freeze(['userId', 'email', 'phone', 'anonymousId'] as const),
});

export interface IdentityRulesOptions {
  limits?: Partial<Record<IdentifierType, number>>;
  priority?: IdentifierType[];
}

/** The default rules with overrides; throws on a limit below 1 or a priority list that is not a permutation. */
export function identityRules(options: IdentityRulesOptions = {}): IdentityRules {
  const limits = { ...defaultIdentityRules.limits, ...options.limits };
  for (const type of identifierTypes) {
    const limit = limits[type];
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`identity limit for ${type} must be an integer >= 1`);
  }
  const priority = options.priority ?? [...defaultIdentityRules.priority];
  if (
    priority.length !== identifierTypes.length ||
    identifierTypes.some((type) => !priority.includes(type))
  ) {
    throw new RangeError(`identity priority must list each of ${identifierTypes.join(', ')} exactly once`);
  }
  return { limits, priority };
}

/** What resolution knows about the world: which profile owns each identifier of the event, and their identities. */
export interface ResolutionInput {
  /** Identifiers carried by the event. */
  identifiers: Identifier[];
  /** identifierKey → profileId, for identifiers that already belong to a (live) profile. */
  owners: ReadonlyMap<string, string>;
  /** Identities of every profile that appears in `owners`. */
  profiles: ReadonlyMap<string, Identities>;
}

/** An identifier that was not attached, or whose profile was not merged, because of a limit. */
export interface Refusal {
  identifierType: IdentifierType;
  /** The limit that would have been broken. */
  limitType: IdentifierType;
  limit: number;
  /** The profile that stays separate (when the identifier already belonged to one). */
  profileId?: string;
}

export interface Resolution {
  /** The profile the event belongs to; null when a new profile must be created. */
  profileId: string | null;
  /** Profiles merged into `profileId` (or into the new profile), highest priority first. */
  merge: string[];
  /** Event identifiers that belong to no profile yet and are attached now. */
  attach: Identifier[];
  /** The surviving profile's identities after attaching and merging. */
  identities: Identities;
  refused: Refusal[];
}

/**
 * Decides which profile an event belongs to. Identifiers are taken in priority order; the first one
 * that belongs to a profile picks the surviving profile; each further one either is already there,
 * is attached, or brings its profile to be merged, unless that would exceed a limit, in which case
 * it is refused (and the refusal reported so the caller can log it).
 */
export function resolveIdentity(
  input: ResolutionInput,
  rules: IdentityRules = defaultIdentityRules,
): Resolution {
  const rank = (type: IdentifierType) => rules.priority.indexOf(type);
  const ordered = input.identifiers
    .map((identifier, index) => ({ identifier, index }))
    .sort((a, b) => rank(a.identifier.type) - rank(b.identifier.type) || a.index - b.index)
    .map(({ identifier }) => identifier);

  let survivor: string | null = null;
  const merge: string[] = [];
  const attach: Identifier[] = [];
  const refused: Refusal[] = [];
  let identities = emptyIdentities();

  for (const identifier of ordered) {
    const owner = input.owners.get(identifierKey(identifier));
    if (owner !== undefined && (owner === survivor || merge.includes(owner))) continue;
    if (owner === undefined && identities[identifier.type].includes(identifier.value)) continue;
    const incoming =
      owner === undefined ? single(identifier) : (input.profiles.get(owner) ?? single(identifier));
    const combined = unionIdentities(identities, incoming);
    const broken = firstBrokenLimit(combined, rules, [identities, incoming]);
    if (broken) {
      refused.push({
        identifierType: identifier.type,
        limitType: broken,
        limit: rules.limits[broken],
        ...(owner === undefined ? {} : { profileId: owner }),
      });
      continue;
    }
    identities = combined;
    if (owner === undefined) attach.push(identifier);
    // The first existing profile reached survives (it keeps its id and history), even when identifiers
    // of higher priority were new: they are attached to it.
    else if (survivor === null) survivor = owner;
    else merge.push(owner);
  }
  return { profileId: survivor, merge, attach, identities, refused };
}

function single(identifier: Identifier): Identities {
  const identities = emptyIdentities();
  identities[identifier.type].push(identifier.value);
  return identities;
}

export function unionIdentities(a: Identities, b: Identities): Identities {
  const out = emptyIdentities();
  for (const type of identifierTypes) {
    out[type] = [...a[type]];
    for (const value of b[type]) if (!out[type].includes(value)) out[type].push(value);
  }
  return out;
}

/**
 * The highest-priority identifier type whose limit `combined` exceeds, if any. With `parts`, only a
 * type that grew beyond every part counts, so a profile already over a (since lowered) limit still resolves.
 */
export function firstBrokenLimit(
  combined: Identities,
  rules: IdentityRules,
  parts: Identities[] = [],
): IdentifierType | undefined {
  return rules.priority.find(
    (type) =>
      combined[type].length > rules.limits[type] &&
      parts.every((part) => combined[type].length > part[type].length),
  );
}
