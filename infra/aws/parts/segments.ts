import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { segmentsRule } from '../../../shared/routing.js';
import { type RuleBuffer, ruleBuffer } from './buffer.js';
import type { CairnData } from './data.js';
import type { CairnFunctions } from './functions.js';
import type { CairnStateMachines } from './state-machines.js';

export interface CairnSegmentsProps {
  readonly functions: CairnFunctions;
  readonly data: CairnData;
  readonly stateMachines: CairnStateMachines;
  readonly bus: events.IEventBus;
  readonly maxConcurrency: number;
}

/**
 * Segments (shared/segments): the worker Lambda that runs backfill pages (bus rule `cairn-segments`
 * → SQS → worker, each page sending the next, so no invocation grows with the number of profiles)
 * and polls the window timers once a minute (the `segment-due` index of the Profiles table: nothing
 * runs per timer while it waits). An entry or exit by time starts the journeys `trigger: { segment }`.
 */
export class CairnSegments extends Construct {
  readonly worker: NodejsFunction;
  readonly buffer: RuleBuffer;
  readonly timers: events.Rule;

  constructor(scope: Construct, id: string, props: CairnSegmentsProps) {
    super(scope, id);
    this.worker = props.functions.create(this, 'segments', { timeout: 30, memorySize: 1024 });
    // Scan: a backfill pages through the existing profiles.
    props.data.grantItems(this.worker, { scan: true });
    props.bus.grantPutEventsTo(this.worker);
    // A window timer that moves a customer in or out starts the journeys triggered by that segment.
    props.stateMachines.grantExecutionControl(this.worker);
    this.buffer = ruleBuffer(this, segmentsRule, props.bus, this.worker, {
      maxConcurrency: props.maxConcurrency,
      encryptionKey: props.data.encryptionKey,
    });
    this.timers = new events.Rule(this, 'TimersSchedule', {
      description: 'Cairn segments: re-evaluate (profile, segment) pairs whose window timer is due',
      schedule: events.Schedule.rate(Duration.minutes(1)),
    });
    this.timers.addTarget(
      new targets.LambdaFunction(this.worker, {
        event: events.RuleTargetInput.fromObject({ kind: 'timers' }),
        retryAttempts: 2,
      }),
    );
  }
}
