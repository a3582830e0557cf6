/**
 * The local SES v2: `SendEmail` (`POST /v2/email/outbound-emails`, REST-JSON) with simple content,
 * captured into an outbox instead of being sent. Validation follows SES (BadRequestException for a
 * malformed request, MessageRejected for what SES would refuse to send), so code that works here
 * sends the same request to AWS. Journey ids come from the EmailTags the step sets.
 *
 * When a configuration set is named and a bus is attached, SES's event publishing is imitated too:
 * `Email Sent` and `Email Delivered` (or `Email Bounced` / `Email Complaint Received` for the SES
 * mailbox simulator addresses) arrive on the default bus with source `aws.ses`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { AwsServiceError, type EdgeRestRoute } from './edge.js';
import { jsonFile } from './json-file.js';

/** What every captured message (email, SMS, push) says of the journey step that sent it, and when. */
export interface OutboxOrigin {
  profileId: string | null;
  journeyId: string | null;
  journeyVersion: number | string | null;
  nodeId: string | null;
  sentAt: string;
}

export interface OutboxMessage extends OutboxOrigin {
  messageId: string;
  /** The recipients, comma-separated (one, for journey emails). */
  to: string;
  toAddresses: string[];
  cc: string[];
  bcc: string[];
  from: string;
  replyTo: string[];
  subject: string;
  html: string | null;
  text: string | null;
  /** Every EmailTag, by name. */
  tags: Record<string, string>;
  configurationSet: string | null;
}

/** The origin of a captured message, from the Cairn tags it was sent with (email tags, SMS context, push attributes). */
export function outboxOrigin(tags: Record<string, string | undefined>, now: number): OutboxOrigin {
  const version = tags.journeyVersion;
  return {
    profileId: tags.profileId ?? null,
    journeyId: tags.journeyId ?? null,
    journeyVersion: version === undefined ? null : /^\d+$/.test(version) ? Number(version) : version,
    nodeId: tags.nodeId ?? null,
    sentAt: new Date(now).toISOString(),
  };
}

/** What the local bus offers SES for its event publishing (see eventbridge.ts publishAsService). */
export interface SesEventPublisher {
  publishAsService(
    entry: {
      Source: string;
      DetailType: string;
      Detail: string;
      Resources?: string[];
      EventBusName?: string;
    },
    options?: { delayMs?: number },
  ): unknown;
}

export interface LocalSesOptions {
  /** Persist the outbox here (omit to keep it in memory). */
  outboxFile?: string;
  clock?: Clock;
  /** Where SES events are published when a configuration set is named. */
  events?: SesEventPublisher;
  /**
   * How long after the send its events are delivered (ms). SES reports seconds later, after the
   * sender has recorded the send; delivering them at once would reorder history. Default 200.
   */
  eventDelayMs?: number;
  /** Most messages kept (oldest dropped first). Default 10,000. */
  capacity?: number;
}

export interface LocalSes {
  routes: EdgeRestRoute[];
  sendEmail(request: unknown): Promise<{ MessageId: string }>;
  /** Newest first. */
  outbox(): OutboxMessage[];
  clear(): void;
  stop(): void;
}

const maxRecipients = 50;
const tagCharacters = /^[A-Za-z0-9_-]{1,256}$/;
// Loose on purpose: SES accepts "Display Name <addr@domain>" and plain addresses.
const addressPattern = /^(?:[^<>]*<\s*)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+\s*>?$/;

export function createLocalSes(options: LocalSesOptions = {}): LocalSes {
  const store = jsonFile<OutboxMessage[]>(options.outboxFile);
  const messages: OutboxMessage[] = store.load([]);
  const capacity = options.capacity ?? 10_000;
  const clock = options.clock ?? { now: () => Date.now() };

  async function sendEmail(request: unknown): Promise<{ MessageId: string }> {
    const message = parseSendEmail(request, clock.now());
    messages.unshift(message);
    if (messages.length > capacity) messages.length = capacity;
    store.save(() => messages);
    if (message.configurationSet && options.events)
      publishEvents(options.events, message, options.eventDelayMs ?? 200);
    return { MessageId: message.messageId };
  }

  return {
    routes: [{ method: 'POST', path: '/v2/email/outbound-emails', handle: sendEmail }],
    sendEmail,
    outbox: () => messages.map((m) => ({ ...m })),
    clear() {
      messages.length = 0;
      store.save(() => messages);
    },
    stop: () => store.flush(),
  };
}

/** The SendEmail request fields the local SES reads (as the SES v2 SDK sends them). */
interface SendEmailRequest {
  FromEmailAddress?: unknown;
  Destination?: Record<string, unknown>;
  ReplyToAddresses?: unknown;
  ConfigurationSetName?: unknown;
  EmailTags?: { Name?: unknown; Value?: unknown }[];
  Content?: {
    Raw?: unknown;
    Template?: unknown;
    Simple?: {
      Subject?: { Data?: unknown };
      Body?: { Html?: { Data?: unknown }; Text?: { Data?: unknown } };
    };
  };
}

function parseSendEmail(request: unknown, now: number): OutboxMessage {
  const input = (request ?? {}) as SendEmailRequest;
  const content = input.Content;
  if (!content || typeof content !== 'object') badRequest('Content is required');
  if (content.Raw || content.Template) {
    badRequest('The local SES supports Content.Simple only (Raw and Template are not captured)');
  }
  const simple = content.Simple;
  if (!simple) badRequest('Content must contain Simple, Raw or Template');
  const subject = simple.Subject?.Data;
  if (typeof subject !== 'string') badRequest('Content.Simple.Subject.Data is required');
  const html = simple.Body?.Html?.Data;
  const text = simple.Body?.Text?.Data;
  if (typeof html !== 'string' && typeof text !== 'string')
    badRequest('Content.Simple.Body needs Html or Text');

  const from = input.FromEmailAddress;
  if (typeof from !== 'string' || from === '') badRequest('FromEmailAddress is required for simple content');
  if (!addressPattern.test(from)) badRequest(`Illegal address: FromEmailAddress`);

  const destination = (input.Destination ?? {}) as Record<string, unknown>;
  const list = (name: string): string[] => {
    const value = destination[name];
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
      badRequest(`Destination.${name} must be a list of strings`);
    return value as string[];
  };
  const to = list('ToAddresses');
  const cc = list('CcAddresses');
  const bcc = list('BccAddresses');
  const all = [...to, ...cc, ...bcc];
  if (all.length === 0) badRequest('Destination must contain at least one recipient');
  if (all.length > maxRecipients) rejected(`Recipient count exceeds ${maxRecipients}`);
  if (all.some((address) => !addressPattern.test(address))) badRequest('Illegal address in Destination');

  const tags: Record<string, string> = {};
  for (const [i, tag] of (Array.isArray(input.EmailTags) ? input.EmailTags : []).entries()) {
    if (typeof tag?.Name !== 'string' || typeof tag.Value !== 'string')
      badRequest(`EmailTags[${i}] needs Name and Value`);
    // SES refuses tag names and values outside this character set; journey and node ids must fit it.
    if (!tagCharacters.test(tag.Name) || !tagCharacters.test(tag.Value)) {
      badRequest(
        `EmailTags[${i}]: names and values may only contain ASCII letters, digits, _ and - (1-256 characters)`,
      );
    }
    tags[tag.Name] = tag.Value;
  }

  return {
    messageId: sesMessageId(now),
    to: to.join(', '),
    toAddresses: to,
    cc,
    bcc,
    from,
    replyTo: Array.isArray(input.ReplyToAddresses) ? (input.ReplyToAddresses as string[]) : [],
    subject,
    html: typeof html === 'string' ? html : null,
    text: typeof text === 'string' ? text : null,
    ...outboxOrigin(tags, now),
    tags,
    configurationSet: typeof input.ConfigurationSetName === 'string' ? input.ConfigurationSetName : null,
  };
}

/** SES message ids look like `010001…-uuid-000000`. */
function sesMessageId(now: number): string {
  return `0100${now.toString(16).padStart(12, '0')}-${randomUUID()}-${randomBytes(3).toString('hex')}`;
}

function badRequest(message: string): never {
  throw new AwsServiceError('BadRequestException', message, 400);
}

function rejected(message: string): never {
  throw new AwsServiceError('MessageRejected', message, 400);
}

/**
 * The SES mailbox simulator's outcome for an address: `bounce@simulator.amazonses.com` bounces
 * (permanent), `complaint@…` complains, each also with a label (`bounce+anything@…`) as on AWS.
 */
function simulated(address: string): 'bounce' | 'complaint' | undefined {
  const match = /(?:^|<)\s*(bounce|complaint)(?:\+[^@\s]*)?@simulator\.amazonses\.com\s*>?$/i.exec(
    address.trim(),
  );
  return match ? (match[1]!.toLowerCase() as 'bounce' | 'complaint') : undefined;
}

/** SES event publishing to EventBridge: the event shapes SES documents, with the simulator's outcomes. */
function publishEvents(events: SesEventPublisher, message: OutboxMessage, delayMs: number): void {
  const timestamp = message.sentAt;
  const mail = {
    timestamp,
    source: message.from,
    sendingAccountId: '000000000000',
    messageId: message.messageId,
    destination: [...message.toAddresses, ...message.cc, ...message.bcc],
    headersTruncated: false,
    commonHeaders: {
      from: [message.from],
      to: message.toAddresses,
      messageId: message.messageId,
      subject: message.subject,
    },
    tags: Object.fromEntries([
      ['ses:configuration-set', [message.configurationSet]],
      ['ses:from-domain', [message.from.replace(/.*@/, '').replace(/>$/, '')]],
      ...Object.entries(message.tags).map(([name, value]) => [name, [value]]),
    ]),
  };
  const recipients = mail.destination;
  const publish = (detailType: string, detail: Record<string, unknown>) =>
    events.publishAsService(
      {
        Source: 'aws.ses',
        DetailType: detailType,
        Detail: JSON.stringify({ eventType: detail.eventType, mail, ...detail }),
        Resources: [`arn:aws:ses:us-east-1:000000000000:configuration-set/${message.configurationSet}`],
        EventBusName: 'default',
      },
      { delayMs },
    );
  publish('Email Sent', { eventType: 'Send', send: {} });
  if (recipients.some((r) => simulated(r) === 'bounce')) {
    publish('Email Bounced', {
      eventType: 'Bounce',
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: recipients.map((emailAddress) => ({
          emailAddress,
          action: 'failed',
          status: '5.1.1',
        })),
        timestamp,
        feedbackId: randomUUID(),
      },
    });
  } else if (recipients.some((r) => simulated(r) === 'complaint')) {
    publish('Email Complaint Received', {
      eventType: 'Complaint',
      complaint: {
        complainedRecipients: recipients.map((emailAddress) => ({ emailAddress })),
        timestamp,
        feedbackId: randomUUID(),
      },
    });
  } else {
    publish('Email Delivered', {
      eventType: 'Delivery',
      delivery: {
        timestamp,
        recipients,
        processingTimeMillis: 0,
        smtpResponse: '250 2.0.0 OK (local outbox)',
        reportingMTA: 'local',
      },
    });
  }
}
