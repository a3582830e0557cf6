import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ingestRule, unroutedRule } from '../../../shared/routing.js';
import { queueEncryption, type RuleBuffer, ruleBuffer } from './buffer.js';
import type { CairnData } from './data.js';
import type { CairnFunctions } from './functions.js';
import type { CairnObservability } from './observability.js';
import type { CairnStateMachines } from './state-machines.js';

export interface CairnEventsProps {
  readonly functions: CairnFunctions;
  readonly data: CairnData;
  readonly stateMachines: CairnStateMachines;
  readonly busName: string;
  readonly archiveRetention: Duration;
  readonly maxConcurrency: number;
}

/**
 * Events and ingest: the bus product apps send Segment events to, its archive for replay, and the
 * rule → SQS buffer (+ DLQ) → ingest Lambda that turns events into profiles and journey entries.
 */
export class CairnEvents extends Construct {
  readonly bus: events.EventBus;
  readonly ingest: NodejsFunction;
  readonly ingestBuffer: RuleBuffer;
  /**
   * The FIFO queue ingest reads with one message group per person (shared/events/ordering.ts): one
   * person's events in order and one batch at a time, everyone else's past them. Ingest fills it
   * from the rule's buffer (a rule cannot set a message group from the event).
   */
  readonly orderedQueue: sqs.Queue;
  readonly orderedDeadLetterQueue: sqs.Queue;
  /** Refreshes profiles whose lifecycle stage or windows are due (functions/lifecycle), once a minute. */
  readonly lifecycle: NodejsFunction;
  /** Everything on the bus the ingest rule does not take, into the same queue: ingest dead-letters it with the reason. */
  readonly unroutedRule: events.Rule;

  constructor(scope: Construct, id: string, props: CairnEventsProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: props.busName });
    this.bus.archive('Archive', {
      description: 'Every event sent to the Cairn bus, for replay',
      eventPattern: { account: [Stack.of(this).account] },
      retention: props.archiveRetention,
    });

    this.ingest = props.functions.create(this, 'ingest', { timeout: 30 });
    props.data.grantItems(this.ingest);
    props.stateMachines.grantExecutionControl(this.ingest);
    props.stateMachines.grantTaskTokens(this.ingest);
    // Derived events (`Lifecycle Stage Changed`, `Lead Score Threshold Crossed`) go back onto the bus.
    this.bus.grantPutEventsTo(this.ingest);
    this.ingestBuffer = ruleBuffer(this, ingestRule, this.bus, this.ingest, {
      maxConcurrency: props.maxConcurrency,
      encryptionKey: props.data.encryptionKey,
    });
    const encryption = queueEncryption(props.data.encryptionKey);
    this.orderedDeadLetterQueue = new sqs.Queue(this, 'IngestOrderedDeadLetterQueue', {
      ...encryption,
      fifo: true,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.orderedQueue = new sqs.Queue(this, 'IngestOrderedQueue', {
      ...encryption,
      fifo: true,
      // High-throughput FIFO: the limits apply per message group (per person), not per queue.
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(this.ingest.timeout!.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.orderedDeadLetterQueue, maxReceiveCount: ingestRule.maxReceiveCount },
    });
    // Named actions (grantSendMessages adds kms:ReEncrypt*/GenerateDataKey*); the key grant is grantItems'.
    this.orderedQueue.grant(this.ingest, 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl');
    this.ingest.addEnvironment('CAIRN_INGEST_ORDERED_QUEUE_URL', this.orderedQueue.queueUrl);
    this.ingest.addEventSource(
      new SqsEventSource(this.orderedQueue, {
        batchSize: ingestRule.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: Math.max(2, props.maxConcurrency),
      }),
    );

    // Time-driven stage changes: one poll of the `profile-due` index a minute (its only idle cost).
    this.lifecycle = props.functions.create(this, 'lifecycle', { timeout: 60 });
    props.data.grantItems(this.lifecycle);
    this.bus.grantPutEventsTo(this.lifecycle);
    new events.Rule(this, 'LifecycleSchedule', {
      description: 'Cairn: refresh profiles whose lifecycle stage or computed-trait windows are due',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.lifecycle, { retryAttempts: 2 })],
    });
    // Without it EventBridge drops an event no rule matches (`DetailType: "Track"`) without a trace.
    this.unroutedRule = new events.Rule(this, 'UnroutedRule', {
      eventBus: this.bus,
      description: `Cairn ${unroutedRule.name}: events no ingest rule takes, to ingest's dead letters with the reason`,
      eventPattern: unroutedRule.eventPattern as events.EventPattern,
    });
    this.unroutedRule.addTarget(
      new targets.SqsQueue(this.ingestBuffer.queue, { deadLetterQueue: this.ingestBuffer.deadLetterQueue }),
    );
  }

  /**
   * The FIFO queue's DLQ and backlog, like every rule buffer's (CairnObservability): an event that
   * failed ingest `maxReceiveCount` times waits there, and one person's stuck events hold their group.
   */
  addAlarms(observability: CairnObservability): void {
    const minute = Duration.minutes(1);
    observability.alarm(
      'IngestOrderedDeadLetterAlarm',
      this.orderedDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: minute,
        statistic: 'Maximum',
      }),
      `Events in ingest's FIFO queue failed ${ingestRule.maxReceiveCount} times and wait in its DLQ: inspect, fix, redrive`,
    );
    observability.alarm(
      'IngestOrderedBacklogAlarm',
      this.orderedQueue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum' }),
      "Ingest's FIFO queue holds events older than 5 minutes: the ingest Lambda is failing or throttled",
      300,
    );
  }

  /** The variables every function reads to find the bus. */
  get environment(): Record<string, string> {
    return { CAIRN_BUS_NAME: this.bus.eventBusName };
  }
}
