/**
 * The event bus and the rules on it, defined once: the local EventBridge applies exactly these
 * patterns (with shared/patterns) and the CDK construct creates exactly these rules.
 */
export const busName = 'cairn';

/**
 * What one PutEvents call may carry (EventBridge quotas): at most 10 entries, and 256 KB for all of
 * them together as `putEventsEntrySize` counts. Cairn's publisher chunks by them, the local bus
 * refuses a call past them, and one Segment message may be at most one call's bytes.
 */
export const putEventsLimits = { entries: 10, bytes: 256 * 1024 } as const;

/** The parts of a PutEvents entry that count toward its size. */
export interface SizedBusEntry {
  Time?: unknown;
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  Resources?: readonly unknown[];
}

/** An entry's size as EventBridge computes it: Time 14 bytes; Source, DetailType, Detail, Resources in UTF-8. */
export function putEventsEntrySize(entry: SizedBusEntry): number {
  let size = entry.Time !== undefined ? 14 : 0;
  for (const text of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])]) {
    if (typeof text === 'string') size += Buffer.byteLength(text, 'utf8');
  }
  return size;
}

/** The Segment message types Cairn ingests, which are also the EventBridge DetailType values. */
export const segmentTypes = ['track', 'identify', 'alias', 'page', 'screen', 'group'] as const;
export type SegmentType = (typeof segmentTypes)[number];

export interface BusRule {
  /** Rule name on the bus. */
  name: string;
  /**
   * The bus the rule is on: `default` (where AWS services publish), or the Cairn bus when absent.
   * An event is matched only against the rules of the bus it was put on, as on AWS.
   */
  bus?: 'default';
  /** EventBridge event pattern (the same JSON on AWS and locally). */
  eventPattern: Record<string, unknown>;
  /** Which function receives matching events, through an SQS queue with a DLQ. */
  target: 'ingest' | 'feedback' | 'segments';
  /** SQS batch size delivered to the function. */
  batchSize: number;
  /** Deliveries of one message before it moves to the DLQ. */
  maxReceiveCount: number;
  /**
   * `person`: the queue is FIFO with one message group per person (`messageGroupOf`): one person's
   * events are delivered in order and never two batches at once, while other people's events go
   * past them, so one busy customer cannot hold everyone else up (no head-of-line blocking).
   */
  groupBy?: 'person';
}

/**
 * The message group of a Segment message (the EventBridge `detail`): the sender's userId, else
 * anonymousId (else an alias's previousId). Ingest orders and serialises a person's events by it.
 */
export function messageGroupOf(detail: unknown): string {
  const record = (typeof detail === 'object' && detail !== null ? detail : {}) as Record<string, unknown>;
  for (const field of ['userId', 'anonymousId', 'previousId'] as const) {
    const value = record[field];
    if ((typeof value === 'string' && value !== '') || typeof value === 'number') return `${field}:${value}`;
  }
  return 'none';
}

export const ingestRule: BusRule = {
  name: 'cairn-ingest',
  eventPattern: { 'detail-type': [...segmentTypes] },
  target: 'ingest',
  batchSize: 10,
  maxReceiveCount: 3,
  groupBy: 'person',
};

/**
 * Everything on the Cairn bus the ingest rule does not take (`DetailType: "Track"`, a typo, another
 * app's events): without a rule EventBridge drops it silently. This one sends it to ingest too, which
 * keeps it in the dead letters with the reason (the DetailType it had and the ones Cairn knows).
 */
export const unroutedRule: BusRule = {
  name: 'cairn-unrouted',
  // Segment backfill pages have their own rule (segmentsRule).
  eventPattern: { 'detail-type': [{ 'anything-but': [...segmentTypes, 'Segment Backfill Page'] }] },
  target: 'ingest',
  batchSize: 10,
  maxReceiveCount: 3,
};

/** The configuration set (SES and SMS) the local stack sends through: `CAIRN_SES_CONFIGURATION_SET` by default. */
export const localConfigurationSet = 'cairn';

/**
 * What providers report about sent messages, on the default bus where AWS services publish: SES
 * events (the configuration set's EventBridge destination) and End User Messaging SMS delivery
 * receipts (sent to EventBridge by the service itself). Read by shared/runtime/feedback.ts.
 *
 * SES events are taken only from Cairn's own configuration set (`mail.tags["ses:configuration-set"]`,
 * which SES puts on every event of a set): every sender of the account publishes to the same default
 * bus, and another application's bounces and complaints must neither suppress addresses in Cairn nor
 * cost it a Lambda invocation. SMS receipts carry no configuration set: Cairn finds its messages by the
 * context it sent (other senders' receipts match none), and a number a receipt says does not exist or
 * is barred (TEXT_INVALID, TEXT_BLOCKED) is dead whoever sent to it.
 */
export function feedbackRuleFor(configurationSets: { email: string }): BusRule {
  return {
    name: 'cairn-email-feedback',
    bus: 'default',
    eventPattern: {
      $or: [
        {
          source: ['aws.ses'],
          detail: { mail: { tags: { 'ses:configuration-set': [configurationSets.email] } } },
        },
        { source: ['aws.sms-voice'], 'detail-type': ['Text Message Delivery Status Updated'] },
      ],
    },
    target: 'feedback',
    batchSize: 10,
    maxReceiveCount: 3,
  };
}

/** The feedback rule of the local stack's configuration set (the CDK construct builds its own). */
export const feedbackRule: BusRule = feedbackRuleFor({ email: localConfigurationSet });

/** Segment backfill pages (shared/segments/wiring.ts): one page per delivery, the next sent by it. */
export const segmentsRule: BusRule = {
  name: 'cairn-segments',
  eventPattern: { source: ['cairn.segments'] },
  target: 'segments',
  batchSize: 1,
  maxReceiveCount: 5,
};

/** The rules that each own a queue and a function, one per target. */
export const busRules: readonly BusRule[] = [ingestRule, feedbackRule, segmentsRule];

/** Every rule on the buses; `unroutedRule` shares the ingest rule's queue on AWS. */
export const allBusRules: readonly BusRule[] = [ingestRule, unroutedRule, feedbackRule, segmentsRule];
