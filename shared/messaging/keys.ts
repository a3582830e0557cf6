/**
 * Item keys of the messaging data, in one place.
 *
 * Profiles table:
 *   send log      `P#<profileId>` / `SENDLOG`          recent marketing send instants per channel + version
 *                 (sorts after PROFILE: a profile Query `sk >= 'PROFILE'` returns it with the profile)
 *   suppression   `SUP#<channel>#<sha256(address)>` / `SUPPRESSION`   reason, at; the address is
 *                 kept hashed so an erasure leaves no personal data, while the suppression stays
 *                 honoured (an opted-out number must not be texted again after the profile is erased).
 * Journeys table:
 *   policy        `POLICY` / `messaging`              the messaging policy
 */
import { createHash } from 'node:crypto';
import { profilePk } from '../store/keys.js';
import type { Channel } from './policy.js';

export const sendLogSortKey = 'SENDLOG';

export function sendLogKey(profileId: string) {
  return { pk: profilePk(profileId), sk: sendLogSortKey };
}

/** Addresses compare case-insensitively for email; phone numbers and tokens as given. */
export function addressHash(channel: Channel, address: string): string {
  const normalised = channel === 'email' ? address.trim().toLowerCase() : address.trim();
  return createHash('sha256').update(normalised).digest('hex').slice(0, 40);
}

export function suppressionKey(channel: Channel, address: string) {
  return { pk: `SUP#${channel}#${addressHash(channel, address)}`, sk: 'SUPPRESSION' };
}

export const policyKey = { pk: 'POLICY', sk: 'messaging' };
