import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { BusRule } from '../../../shared/routing.js';
import { pascal } from './functions.js';

/** An SQS buffer between an EventBridge rule and its Lambda. */
export interface RuleBuffer {
  readonly rule: events.Rule;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

/** SQS encryption with Cairn's key when there is one, SSE-SQS otherwise. */
export function queueEncryption(
  key: kms.IKey | undefined,
): Pick<sqs.QueueProps, 'encryption' | 'encryptionMasterKey'> {
  return key
    ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key }
    : { encryption: sqs.QueueEncryption.SQS_MANAGED };
}

/**
 * A bus rule from shared/routing.ts → an SQS queue (+ DLQ) → its Lambda, polled in batches with
 * partial-batch failures and at most `maxConcurrency` pollers. Construct ids `<Target>Queue|DeadLetterQueue|Rule`.
 */
export function ruleBuffer(
  scope: Construct,
  rule: BusRule,
  bus: events.IEventBus,
  target: NodejsFunction,
  options: { maxConcurrency: number; encryptionKey?: kms.IKey },
): RuleBuffer {
  const name = pascal(rule.target);
  const encryption = queueEncryption(options.encryptionKey);
  const deadLetterQueue = new sqs.Queue(scope, `${name}DeadLetterQueue`, {
    ...encryption,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const queue = new sqs.Queue(scope, `${name}Queue`, {
    ...encryption,
    enforceSSL: true,
    // AWS guidance: at least six times the function timeout, so retries by the poller do not overlap.
    visibilityTimeout: Duration.seconds(target.timeout!.toSeconds() * 6),
    retentionPeriod: Duration.days(4),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: rule.maxReceiveCount },
  });
  const eventRule = new events.Rule(scope, `${name}Rule`, {
    eventBus: bus,
    description: `Cairn ${rule.name}: matching events to the ${rule.target} Lambda through SQS`,
    // The pattern from shared/routing.ts, exactly as the local bus applies it.
    eventPattern: rule.eventPattern as events.EventPattern,
  });
  // Deliveries EventBridge itself cannot make (e.g. a key policy mistake) land in the same DLQ.
  eventRule.addTarget(new targets.SqsQueue(queue, { deadLetterQueue }));
  target.addEventSource(
    new SqsEventSource(queue, {
      batchSize: rule.batchSize,
      reportBatchItemFailures: true,
      maxConcurrency: Math.max(2, options.maxConcurrency),
    }),
  );
  return { rule: eventRule, queue, deadLetterQueue };
}
