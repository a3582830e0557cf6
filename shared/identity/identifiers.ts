/**
 * The identifiers that tie events to a person, and how they are read from a message. Email and phone
 * come from traits and are normalised so that `Ann@Example.com ` and `ann@example.com` are one person.
 */
export const identifierTypes = ['userId', 'anonymousId', 'email', 'phone'] as const;
export type IdentifierType = (typeof identifierTypes)[number];

export interface Identifier {
  type: IdentifierType;
  value: string;
}

/** Every identifier of a profile, per type, in the order they were attached. */
export type Identities = Record<IdentifierType, string[]>;

export function emptyIdentities(): Identities {
  return { userId: [], anonymousId: [], email: [], phone: [] };
}

export function identifierKey(identifier: Identifier): string {
  return `${identifier.type}#${identifier.value}`;
}

/**
 * One mailbox, `local@domain`, as a person types it (RFC 5321 dot-atom, Unicode letters allowed):
 * no lists (`a@x.com,b@y.com`), display names, quotes, comments, brackets or spaces, which a mail
 * system would read as several recipients or as something else entirely.
 */
const atom = "[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-]+";
const label = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}])?';
const mailbox = new RegExp(`^${atom}(?:\\.${atom})*@${label}(?:\\.${label})*\\.\\p{L}{2,63}$`, 'u');

export function isMailbox(text: string): boolean {
  const at = text.lastIndexOf('@');
  return text.length <= 254 && at > 0 && at <= 64 && mailbox.test(text);
}

/** Lower-cased and trimmed; undefined unless it is exactly one mailbox (`isMailbox`). */
export function normalizeEmail(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const email = raw.trim().toLowerCase();
  return isMailbox(email) ? email : undefined;
}

/**
 * E.164-ish: `+` and digits only (`00` becomes `+`); 7 to 15 digits, else undefined. Numbers without
 * a country code stay digits-only, as Cairn cannot know the country.
 */
export function normalizePhone(raw: unknown): string | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  let text = String(raw).trim();
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  const international = text.startsWith('+');
  const digits = text.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return undefined;
  return international ? `+${digits}` : digits;
}

/** The parts of a normalised message identity resolution reads. */
export interface IdentifiedMessage {
  type: string;
  userId?: string;
  anonymousId?: string;
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
}

/**
 * Identifiers carried by a message: userId, anonymousId, and email / phone from `traits` (identify)
 * or `context.traits` (any type, as Segment's libraries attach the known traits there). Group traits
 * describe the account, not the person, so they are not read. alias `previousId` is handled by the
 * caller, as its type (userId or anonymousId) is only known after looking it up.
 */
export function identifiersOf(message: IdentifiedMessage): Identifier[] {
  const out: Identifier[] = [];
  const add = (type: IdentifierType, value: string | undefined) => {
    if (value === undefined) return;
    if (!out.some((i) => i.type === type && i.value === value)) out.push({ type, value });
  };
  add('userId', message.userId);
  add('anonymousId', message.anonymousId);
  const contextTraits = asRecord(message.context.traits);
  const traitSources = message.type === 'identify' ? [message.traits, contextTraits] : [contextTraits];
  for (const traits of traitSources) {
    add('email', normalizeEmail(traits.email));
    add('phone', normalizePhone(traits.phone));
  }
  return out;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
