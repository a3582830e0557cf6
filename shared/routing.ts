/**
 * The event bus and the rules on it, defined once: the local EventBridge applies exactly these
 * patterns (with shared/patterns) and the CDK construct creates exactly these rules.
 */
export const busName = 'cairn';

/** The Segment message types Cairn ingests, which are also the EventBridge DetailType values. */
export const segmentTypes = ['track', 'identify', 'alias', 'page', 'screen', 'group'] as const;
export type SegmentType = (typeof segmentTypes)[number];

export interface BusRule {
  /** Rule name on the bus. */
  name: string;
  /** EventBridge event pattern (the same JSON on AWS and locally). */
  eventPattern: Record<string, unknown>;
  /** Which function receives matching events, through an SQS queue with a DLQ. */
  target: 'ingest' | 'feedback';
  /** SQS batch size delivered to the function. */
  batchSize: number;
  /** Deliveries of one message before it moves to the DLQ. */
  maxReceiveCount: number;
}

export const ingestRule: BusRule = {
  name: 'cairn-ingest',
  eventPattern: { 'detail-type': [...segmentTypes] },
  target: 'ingest',
  batchSize: 10,
  maxReceiveCount: 3,
};

/** SES v2 event destinations publish to the default bus with this source. */
export const feedbackRule: BusRule = {
  name: 'cairn-email-feedback',
  eventPattern: { source: ['aws.ses'] },
  target: 'feedback',
  batchSize: 10,
  maxReceiveCount: 3,
};

export const busRules: readonly BusRule[] = [ingestRule, feedbackRule];
