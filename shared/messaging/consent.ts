/**
 * A customer's subscription preferences, kept as traits so segments, branches and templates can read
 * them and a product app can sync its own preference centre with `identify`:
 *
 *   unsubscribed: true                  no marketing at all, on any channel
 *   unsubscribedChannels: ["sms"]       no marketing on these channels
 *   unsubscribedTopics: ["newsletter"]  no marketing of these topics
 *   emailConsent / smsConsent / pushConsent: false, or consent: { email: false }   no consent given
 *
 * Preferences govern marketing. Transactional messages (a receipt, a password reset) go out whatever
 * they say; only suppression (a bounced address, an SMS opt-out) stops those.
 */
import type { Channel } from './policy.js';

export type ConsentSkipReason = 'unsubscribed' | 'no_consent';

function listTrait(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** Why marketing on this channel/topic must not reach the customer, or undefined when it may. */
export function consentSkipReason(
  traits: Record<string, unknown>,
  channel: Channel,
  topic: string | undefined,
): ConsentSkipReason | undefined {
  if (traits.unsubscribed === true) return 'unsubscribed';
  if (listTrait(traits.unsubscribedChannels).includes(channel)) return 'unsubscribed';
  if (topic !== undefined && listTrait(traits.unsubscribedTopics).includes(topic)) return 'unsubscribed';
  const consent = traits.consent;
  const channelConsent =
    consent !== null && typeof consent === 'object' && Object.hasOwn(consent, channel)
      ? (consent as Record<string, unknown>)[channel]
      : undefined;
  if (traits[`${channel}Consent`] === false || channelConsent === false) return 'no_consent';
  return undefined;
}

/** What an unsubscribe or a resubscribe is about: everything, one channel, or one topic. */
export type SubscriptionScope = { all: true } | { channel: Channel } | { topic: string };

/** The traits an unsubscribe writes: from everything, from a channel, or from one topic. */
export function unsubscribeTraits(
  traits: Record<string, unknown>,
  scope: SubscriptionScope,
): Record<string, unknown> {
  return subscriptionTraits(traits, scope, true);
}

/** The traits a resubscribe writes (the preference page's checkboxes, or SMS START for the channel). */
export function resubscribeTraits(
  traits: Record<string, unknown>,
  scope: SubscriptionScope,
): Record<string, unknown> {
  return subscriptionTraits(traits, scope, false);
}

/** The traits that record `scope` as unsubscribed (or not); nothing for a list that already says so. */
function subscriptionTraits(
  traits: Record<string, unknown>,
  scope: SubscriptionScope,
  unsubscribed: boolean,
): Record<string, unknown> {
  if ('all' in scope) return { unsubscribed };
  const [trait, name] =
    'channel' in scope ? ['unsubscribedChannels', scope.channel] : ['unsubscribedTopics', scope.topic];
  const current = listTrait(traits[trait]);
  if (current.includes(name) === unsubscribed) return {};
  return { [trait]: unsubscribed ? [...current, name] : current.filter((item) => item !== name) };
}
