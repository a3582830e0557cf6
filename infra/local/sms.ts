/**
 * The local AWS End User Messaging SMS (`PinpointSMSVoiceV2`, JSON 1.0): `SendTextMessage` captured
 * into the outbox instead of reaching a carrier. It validates as the service does (E.164
 * destination, body length, Context limits) and refuses a number on its opt-out list with
 * `ConflictException` / `DESTINATION_PHONE_NUMBER_OPTED_OUT`, so code that works here sends the same
 * request to AWS. With a configuration set named and a bus attached, delivery receipts arrive on the
 * default bus as `Text Message Delivery Status Updated` (source `aws.sms-voice`), as on AWS.
 *
 * Simulated outcomes, like SES's mailbox simulator (`simulatedReceipts`): a destination ending in
 * `0000` does not exist (`TEXT_INVALID`, a permanent failure: Cairn suppresses the number), `0001`
 * is blocked by the carrier (`TEXT_CARRIER_BLOCKED`), `0002` is unreachable (`TEXT_UNREACHABLE`,
 * the handset is off: a failure, not a suppression); every other number is delivered.
 */
import { randomUUID } from 'node:crypto';
import { isE164 } from '../../shared/channels/sms/address.js';
import { smsParts } from '../../shared/channels/sms/encoding.js';
import type { Clock } from '../../shared/clock.js';
import { AwsServiceError, type EdgeService } from './edge.js';
import { jsonFile } from './json-file.js';
import { type OutboxOrigin, outboxOrigin, type SesEventPublisher } from './ses.js';

export interface SmsOutboxMessage extends OutboxOrigin {
  channel: 'sms';
  messageId: string;
  to: string;
  from: string | null;
  text: string;
  messageType: string | null;
  encoding: 'GSM-7' | 'UCS-2';
  parts: number;
  context: Record<string, string>;
  configurationSet: string | null;
}

export interface LocalSmsOptions {
  outboxFile?: string;
  clock?: Clock;
  events?: SesEventPublisher;
  eventDelayMs?: number;
  capacity?: number;
}

export interface LocalSms {
  service: EdgeService;
  /** Newest first. */
  outbox(): SmsOutboxMessage[];
  /** Puts a number on (or takes it off) the account's opt-out list, as the service's keyword handling does. */
  setOptedOut(phoneNumber: string, optedOut: boolean): void;
  clear(): void;
  stop(): void;
}

const maxBodyCharacters = 1600;

export function createLocalSms(options: LocalSmsOptions = {}): LocalSms {
  const store = jsonFile<{ messages: SmsOutboxMessage[]; optedOut: string[] }>(options.outboxFile);
  const state = store.load({ messages: [], optedOut: [] });
  const optedOut = new Set(state.optedOut);
  const capacity = options.capacity ?? 10_000;
  const clock = options.clock ?? { now: () => Date.now() };
  const save = () => store.save(() => ({ messages: state.messages, optedOut: [...optedOut] }));

  function sendTextMessage(input: Record<string, unknown>): { MessageId: string } {
    const to = input.DestinationPhoneNumber;
    if (typeof to !== 'string' || !isE164(to))
      validation('DestinationPhoneNumber must be an E.164 phone number', 'INVALID_PARAMETER');
    const body = input.MessageBody;
    if (typeof body !== 'string' || body.length === 0)
      validation('MessageBody is required', 'MISSING_PARAMETER');
    if (body.length > maxBodyCharacters)
      validation(`MessageBody must be at most ${maxBodyCharacters} characters`, 'INVALID_PARAMETER');
    const context = readContext(input.Context);
    if (optedOut.has(to))
      throw new AwsServiceError(
        'ConflictException',
        'The destination phone number is opted out (DESTINATION_PHONE_NUMBER_OPTED_OUT)',
        400,
      );
    const now = clock.now();
    const parts = smsParts(body);
    const message: SmsOutboxMessage = {
      channel: 'sms',
      messageId: randomUUID(),
      to,
      from: typeof input.OriginationIdentity === 'string' ? input.OriginationIdentity : null,
      text: body,
      messageType: typeof input.MessageType === 'string' ? input.MessageType : null,
      encoding: parts.encoding,
      parts: parts.parts,
      ...outboxOrigin(context, now),
      context,
      configurationSet: typeof input.ConfigurationSetName === 'string' ? input.ConfigurationSetName : null,
    };
    state.messages.unshift(message);
    if (state.messages.length > capacity) state.messages.length = capacity;
    save();
    if (message.configurationSet && options.events)
      publishReceipt(options.events, message, options.eventDelayMs ?? 200);
    return { MessageId: message.messageId };
  }

  return {
    service: {
      targetPrefix: 'PinpointSMSVoiceV2',
      async handle(action, body) {
        const input = (body ?? {}) as Record<string, unknown>;
        if (action === 'SendTextMessage') return sendTextMessage(input);
        if (action === 'PutOptedOutNumber' || action === 'DeleteOptedOutNumber') {
          const number = input.OptedOutNumber;
          if (typeof number !== 'string' || !isE164(number))
            validation('OptedOutNumber must be an E.164 phone number', 'INVALID_PARAMETER');
          const optOut = action === 'PutOptedOutNumber';
          if (optOut) optedOut.add(number);
          else optedOut.delete(number);
          save();
          return {
            OptOutListName: typeof input.OptOutListName === 'string' ? input.OptOutListName : 'Default',
            OptedOutNumber: number,
            OptedOutTimestamp: Math.floor(clock.now() / 1000),
            EndUserOptedOut: optOut,
          };
        }
        throw new AwsServiceError(
          'UnknownOperationException',
          `The local End User Messaging SMS supports SendTextMessage, PutOptedOutNumber and DeleteOptedOutNumber, not ${action}`,
          400,
        );
      },
    },
    outbox: () => state.messages.map((m) => ({ ...m })),
    setOptedOut(phoneNumber, value) {
      if (value) optedOut.add(phoneNumber);
      else optedOut.delete(phoneNumber);
      save();
    },
    clear() {
      state.messages.length = 0;
      save();
    },
    stop: () => store.flush(),
  };
}

function validation(message: string, reason: string): never {
  throw new AwsServiceError('ValidationException', `${message} (${reason})`, 400);
}

/** `Context`: at most 5 string entries (what comes back in delivery receipts). */
function readContext(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    validation('Context must be a map of strings', 'INVALID_PARAMETER');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 5) validation('Context takes at most 5 entries', 'INVALID_PARAMETER');
  const context: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (typeof item !== 'string') validation(`Context.${key} must be a string`, 'INVALID_PARAMETER');
    Object.defineProperty(context, key, {
      value: item,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return context;
}

/** The receipt a destination's last four digits produce (else `TEXT_DELIVERED`). */
export const simulatedReceipts: Readonly<Record<string, string>> = {
  '0000': 'TEXT_INVALID',
  '0001': 'TEXT_CARRIER_BLOCKED',
  '0002': 'TEXT_UNREACHABLE',
};

function publishReceipt(events: SesEventPublisher, message: SmsOutboxMessage, delayMs: number): void {
  const eventType = simulatedReceipts[message.to.slice(-4)] ?? 'TEXT_DELIVERED';
  const at = Date.parse(message.sentAt);
  events.publishAsService(
    {
      Source: 'aws.sms-voice',
      DetailType: 'Text Message Delivery Status Updated',
      Detail: JSON.stringify({
        eventType,
        eventVersion: '1.0',
        eventTimestamp: at,
        isFinal: true,
        originationPhoneNumber: message.from ?? '+10000000000',
        destinationPhoneNumber: message.to,
        messageId: message.messageId,
        messageRequestTimestamp: at,
        messageEncoding: message.encoding === 'GSM-7' ? 'GSM' : 'UCS2',
        messageType: message.messageType ?? 'PROMOTIONAL',
        messageStatus: eventType === 'TEXT_DELIVERED' ? 'DELIVERED' : eventType.replace('TEXT_', ''),
        totalMessageParts: message.parts,
        configurationSetName: message.configurationSet,
        context: message.context,
      }),
      EventBusName: 'default',
    },
    { delayMs },
  );
}
