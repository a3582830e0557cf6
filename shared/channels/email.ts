import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { isMailbox } from '../identity/identifiers.js';
import { type ChannelAdapter, ChannelSendError } from '../messaging/channel.js';
import type { RenderedEmail } from '../templates/render.js';

/** A rendered email as the gateway sends it, with the one-click unsubscribe (RFC 8058) header target. */
export type EmailContent = RenderedEmail & { unsubscribeUrl?: string };

/** One email to send: its content, its address and the tags SES echoes back in delivery/open/click events. */
export interface OutgoingEmail extends EmailContent {
  to: string;
  /** journeyId, journeyVersion, nodeId, profileId, execution: sanitised to what SES accepts. */
  tags: Record<string, string>;
}

export interface EmailSender {
  /** Sends one email; resolves with the provider's message id. Throws EmailSendError. */
  send(email: OutgoingEmail): Promise<{ providerMessageId: string }>;
}

/**
 * A send SES refused: the channels' ChannelSendError (`retryable`: throttling, service errors; not:
 * rejected address, unverified sender, bad content), built from SES's error name.
 */
export class EmailSendError extends ChannelSendError {
  constructor(reason: string, retryable: boolean, message = reason) {
    super(reason, { retryable, message });
  }
}

export const defaultFromAddress = 'Cairn <no-reply@example.com>';

export interface SesEmailSenderOptions {
  /** `CAIRN_EMAIL_FROM`, default `Cairn <no-reply@example.com>`. */
  from?: string;
  /** `CAIRN_SES_CONFIGURATION_SET`: routes delivery/bounce/complaint/open/click events to the bus. */
  configurationSetName?: string;
}

const permanentErrors = new Set([
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'NotFoundException',
  'BadRequestException',
  'AccountSuspendedException',
  'SendingPausedException',
]);

/** SES tag names and values allow ASCII letters, digits, `_` and `-` only, up to 256 characters. */
export function sesTagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256) || '_';
}

/** SES v2 `SendEmail` (locally the edge's SES endpoint, captured in the outbox). */
export function sesEmailSender(client: SESv2Client, options: SesEmailSenderOptions = {}): EmailSender {
  const from = options.from ?? defaultFromAddress;
  return {
    async send(email) {
      const body = {
        ...(email.html !== undefined && { Html: { Data: email.html, Charset: 'UTF-8' } }),
        ...(email.text !== undefined && { Text: { Data: email.text, Charset: 'UTF-8' } }),
      };
      const headers = email.unsubscribeUrl
        ? [
            { Name: 'List-Unsubscribe', Value: `<${email.unsubscribeUrl}>` },
            { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
          ]
        : undefined;
      try {
        const out = await client.send(
          new SendEmailCommand({
            FromEmailAddress: from,
            Destination: { ToAddresses: [email.to] },
            Content: {
              Simple: { Subject: { Data: email.subject, Charset: 'UTF-8' }, Body: body, Headers: headers },
            },
            EmailTags: Object.entries(email.tags).map(([Name, Value]) => ({
              Name,
              Value: sesTagValue(Value),
            })),
            ConfigurationSetName: options.configurationSetName || undefined,
          }),
        );
        return { providerMessageId: out.MessageId ?? '' };
      } catch (error) {
        const name = (error as { name?: string }).name ?? 'Error';
        throw new EmailSendError(name, !permanentErrors.has(name), (error as Error).message);
      }
    },
  };
}

/**
 * The email channel behind the gateway's port: to the `email` trait when it is one mailbox
 * (`a@example.com,b@evil.example` would mail two people), through an EmailSender (SES v2).
 */
export function emailChannel(sender: EmailSender): ChannelAdapter<EmailContent> {
  return {
    channel: 'email',
    addresses(recipient) {
      const email = recipient.traits.email;
      if (email === undefined || email === null || email === '')
        return { addresses: [], problem: 'no email address' };
      if (typeof email !== 'string' || !isMailbox(email))
        return { addresses: [], problem: 'the email trait is not one mailbox' };
      return { addresses: [email] };
    },
    async send(message) {
      const { subject, html, text, unsubscribeUrl } = message.content;
      // An EmailSendError is the ChannelSendError the gateway handles.
      return sender.send({
        to: message.to,
        subject,
        ...(html !== undefined && { html }),
        ...(text !== undefined && { text }),
        tags: message.tags,
        ...(unsubscribeUrl && { unsubscribeUrl }),
      });
    },
  };
}
