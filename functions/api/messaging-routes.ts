import { isE164 } from '../../shared/channels/sms/address.js';
import { parseDefinition } from '../../shared/derived/catalog.js';
import { NotImplementedError, ValidationError } from '../../shared/errors.js';
import type { Router } from '../../shared/http/router.js';
import {
  type Channel,
  channels,
  type MessagingPolicy,
  messagingPolicySchema,
} from '../../shared/messaging/policy.js';

/** The send gateway's settings and state (shared/messaging). */
export interface MessagingApi {
  getPolicy(): Promise<MessagingPolicy>;
  putPolicy(policy: MessagingPolicy): Promise<void>;
  /** The suppressions of a profile's addresses (email, phone, push devices). */
  suppressionsOf(profileId: string): Promise<unknown[]>;
  unsuppress(channel: Channel, address: string): Promise<void>;
  /** Locally: an inbound SMS (STOP / START / HELP), as the two-way SMS destination delivers it on AWS. */
  inboundSms?(sms: { from: string; body: string }): Promise<unknown>;
}

export function messagingRoutes(router: Router, api: MessagingApi | undefined): void {
  const need = (): MessagingApi => {
    if (!api) throw new NotImplementedError('messaging is not available in this deployment');
    return api;
  };

  router.on('GET', '/messaging/policy', 'marketer', async () => ({ body: await need().getPolicy() }));
  router.on('PUT', '/messaging/policy', 'marketer', async (request) => {
    const policy = parseDefinition(messagingPolicySchema, request.body());
    await need().putPolicy(policy);
    return { body: policy };
  });

  router.on('GET', '/profiles/{id}/suppressions', 'marketer', async (request) => ({
    body: { suppressions: await need().suppressionsOf(request.params.id!) },
  }));
  router.on('DELETE', '/messaging/suppressions/{channel}/{address}', 'marketer', async (request) => {
    const channel = request.params.channel as Channel;
    if (!channels.includes(channel))
      throw new ValidationError([{ path: ['channel'], message: `must be one of: ${channels.join(', ')}` }]);
    const address = decodeURIComponent(request.params.address!);
    await need().unsuppress(channel, address);
    return { body: { channel, address, suppressed: false } };
  });

  // Local only (like /local/clock, no sign-in): the reply of a customer to an SMS.
  if (api?.inboundSms) {
    const inbound = api.inboundSms;
    router.on('POST', '/local/sms/inbound', 'none', async (request) => {
      const body = request.body() as { from?: unknown; body?: unknown; messageId?: unknown } | undefined;
      const issues = [];
      if (typeof body?.from !== 'string' || !isE164(body.from))
        issues.push({ path: ['from'], message: 'must be an E.164 phone number such as +33612345678' });
      if (typeof body?.body !== 'string')
        issues.push({ path: ['body'], message: 'must be the text of the SMS' });
      const messageId = body?.messageId;
      if (
        messageId !== undefined &&
        (typeof messageId !== 'string' || messageId.length < 1 || messageId.length > 100)
      )
        issues.push({
          path: ['messageId'],
          message: 'must be a string of 1 to 100 characters (the inbound message id)',
        });
      if (issues.length > 0) throw new ValidationError(issues);
      return {
        body: await inbound({
          from: body!.from as string,
          body: body!.body as string,
          ...(typeof messageId === 'string' && { messageId }),
        }),
      };
    });
  }
}
