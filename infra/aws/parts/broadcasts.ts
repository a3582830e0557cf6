import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { queueEncryption } from './buffer.js';
import type { CairnData } from './data.js';
import { allowPassRole, type CairnFunctions } from './functions.js';
import type { CairnObservability } from './observability.js';
import type { CairnStateMachines } from './state-machines.js';

export interface CairnBroadcastsProps {
  readonly functions: CairnFunctions;
  readonly data: CairnData;
  readonly stateMachines: CairnStateMachines;
  /** The api Lambda: creates and deletes schedules (POST /journeys/{id}/broadcasts, DELETE /broadcasts/{id}). */
  readonly api: NodejsFunction;
  /** Slot handlers at once: each enters up to ratePerSecond members per slot. @default 20 */
  readonly maxConcurrency?: number;
}

/**
 * Broadcasts (plans): the broadcast Lambda that EventBridge Scheduler invokes for each firing (one
 * one-time schedule per run and time zone, in their own group) and that consumes the slot queue
 * (SQS, slots delayed until due, retried, then a DLQ), the scheduler's role (may invoke only that
 * Lambda), and who may create schedules (api, broadcast) in the group.
 */
export class CairnBroadcasts extends Construct {
  readonly fn: NodejsFunction;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly schedulerRole: iam.Role;

  constructor(scope: Construct, id: string, props: CairnBroadcastsProps) {
    super(scope, id);
    // A firing pages up to 840 slots of members (a continuation does the rest); a slot enters up to
    // ratePerSecond members. 15 minutes covers both with room at any audience size.
    this.fn = props.functions.create(this, 'broadcast', { timeout: 900, memorySize: 1024 });
    props.data.grantItems(this.fn);
    props.stateMachines.grantExecutionControl(this.fn);

    const encryption = queueEncryption(props.data.encryptionKey);
    this.deadLetterQueue = new sqs.Queue(this, 'BroadcastDeadLetterQueue', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'BroadcastSlotQueue', {
      ...encryption,
      enforceSSL: true,
      // At least the function timeout (SQS requires it for the event source mapping).
      visibilityTimeout: Duration.seconds(900 * 2),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });
    // Named actions (grantSendMessages adds kms:ReEncrypt*/GenerateDataKey*); the key grant is grantItems'.
    this.queue.grant(this.fn, 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl');
    this.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: Math.max(2, props.maxConcurrency ?? 20),
      }),
    );

    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'Schedules', {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'Cairn broadcasts: EventBridge Scheduler invokes the broadcast Lambda',
    });
    this.fn.grantInvoke(this.schedulerRole);

    for (const fn of [props.api, this.fn]) {
      // Create and delete only, only in Cairn's group (pseudo parameters: the same text in every environment).
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'CairnBroadcastSchedules',
          actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
          resources: [
            `arn:${Aws.PARTITION}:scheduler:${Aws.REGION}:${Aws.ACCOUNT_ID}:schedule/${this.scheduleGroup.scheduleGroupName}/*`,
          ],
        }),
      );
      allowPassRole(fn, 'CairnPassSchedulerRole', this.schedulerRole, 'scheduler.amazonaws.com');
      fn.addEnvironment('CAIRN_BROADCAST_QUEUE_URL', this.queue.queueUrl);
      // The broadcast Lambda schedules its own continuations with its context's ARN (no self-reference).
      if (fn !== this.fn) fn.addEnvironment('CAIRN_BROADCAST_FUNCTION_ARN', this.fn.functionArn);
      fn.addEnvironment('CAIRN_SCHEDULER_ROLE_ARN', this.schedulerRole.roleArn);
      fn.addEnvironment('CAIRN_SCHEDULE_GROUP', this.scheduleGroup.scheduleGroupName);
    }
  }

  /** DLQ, a slot backlog, errors and throttles of the broadcast Lambda. */
  addAlarms(observability: CairnObservability): void {
    const minute = Duration.minutes(1);
    observability.alarm(
      'BroadcastDeadLetterAlarm',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' }),
      'Broadcast slots failed 5 times and wait in their DLQ: their members were not entered; inspect, fix, redrive',
    );
    observability.alarm(
      'BroadcastBacklogAlarm',
      this.queue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum' }),
      'Broadcast slots wait more than 30 minutes: the broadcast Lambda is failing or throttled',
      1800,
    );
    observability.alarm(
      'BroadcastErrorsAlarm',
      this.fn.metricErrors({ period: minute }),
      'The broadcast Lambda threw',
    );
    observability.alarm(
      'BroadcastThrottlesAlarm',
      this.fn.metricThrottles({ period: minute }),
      'The broadcast Lambda was throttled',
    );
  }
}
