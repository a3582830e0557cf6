import { pushAddress } from '../channels/push/sender.js';
import { handleInboundSms, type InboundSms, type InboundSmsDeps } from '../channels/sms/inbound.js';
import type { Clock } from '../clock.js';
import type { Profile } from '../profiles/model.js';
import type { RenderedSms } from '../templates/render.js';
import type { ChannelAdapter } from './channel.js';
import type { DynamoMessagingStore } from './dynamodb.js';
import type { Channel, MessagingPolicy } from './policy.js';

/**
 * The marketer-facing side of the gateway (the API adapts it): the policy, a profile's
 * suppressions, and inbound SMS. The policy is cached per container for `policyCacheMs` (1 s by
 * default, like templates), so a send reads it at most once a second.
 */
export interface MessagingServiceDeps {
  store: Pick<DynamoMessagingStore, 'getPolicy' | 'putPolicy' | 'suppressions' | 'suppress' | 'unsuppress'>;
  clock: Clock;
  getProfile(profileId: string): Promise<Profile | null>;
  findByPhone(phone: string): Promise<Profile | null>;
  publish: InboundSmsDeps['publish'];
  /** Sends keyword confirmations (locally, where no provider answers them). */
  sms?: ChannelAdapter<RenderedSms>;
  policyCacheMs?: number;
}

/**
 * The policy read at most once per `ttlMs` per container (every marketing message needs it);
 * `forget()` makes the next call read it again.
 */
export function cachedPolicy(
  read: () => Promise<MessagingPolicy>,
  ttlMs: number,
): (() => Promise<MessagingPolicy>) & { forget(): void } {
  let cached: { at: number; policy: Promise<MessagingPolicy> } | undefined;
  const get = () => {
    const now = Date.now();
    if (!cached || now - cached.at >= ttlMs) {
      const policy = read();
      cached = { at: now, policy };
      policy.catch(() => {
        cached = undefined;
      });
    }
    return cached.policy;
  };
  return Object.assign(get, {
    forget() {
      cached = undefined;
    },
  });
}

export function messagingService(deps: MessagingServiceDeps) {
  const policy = cachedPolicy(() => deps.store.getPolicy(), deps.policyCacheMs ?? 1000);
  return {
    policy: () => policy(),
    getPolicy: () => deps.store.getPolicy(),
    async putPolicy(next: MessagingPolicy) {
      await deps.store.putPolicy(next, new Date(deps.clock.now()).toISOString());
      policy.forget();
    },
    /** Every address the profile has (email and phone identities, push devices) that is suppressed. */
    async suppressionsOf(profileId: string) {
      const profile = await deps.getProfile(profileId);
      if (!profile) return [];
      const entries: { channel: Channel; address: string }[] = [
        ...profile.identities.email.map((address) => ({ channel: 'email' as const, address })),
        ...profile.identities.phone.map((address) => ({ channel: 'sms' as const, address })),
        ...(profile.devices ?? []).map((device) => ({
          channel: 'push' as const,
          address: pushAddress(device.platform, device.token),
        })),
      ];
      return deps.store.suppressions(entries);
    },
    unsuppress: (channel: Channel, address: string) => deps.store.unsuppress(channel, address),
    inboundSms: (sms: InboundSms) =>
      handleInboundSms(sms, {
        suppressions: deps.store,
        async findByPhone(phone) {
          const profile = await deps.findByPhone(phone);
          if (!profile) return undefined;
          const userId = profile.identities.userId[0];
          const anonymousId = profile.identities.anonymousId[0];
          return { ...(userId && { userId }), ...(anonymousId && { anonymousId }) };
        },
        publish: deps.publish,
        ...(deps.sms && {
          reply: async (to: string, text: string) => {
            await deps.sms!.send({ to, content: { text }, category: 'transactional', tags: {} });
          },
        }),
        now: () => deps.clock.now(),
      }),
  };
}
