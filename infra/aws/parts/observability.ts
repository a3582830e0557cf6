import { Duration } from 'aws-cdk-lib';
import type { IHttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import type { RuleBuffer } from './buffer.js';
import { pascal } from './functions.js';
import type { DeployedJourney } from './state-machines.js';

export interface CairnObservabilityProps {
  readonly functions: Readonly<Record<string, NodejsFunction>>;
  /** Per bus rule target; `maxReceiveCount` says after how many failures an event reaches the DLQ. */
  readonly buffers: readonly (RuleBuffer & { readonly target: string; readonly maxReceiveCount: number })[];
  readonly journeys: readonly DeployedJourney[];
  readonly apiStage: IHttpStage;
  readonly tables: Readonly<Record<string, dynamodb.ITable>>;
  readonly alarmActions: readonly cloudwatch.IAlarmAction[];
}

const minute = Duration.minutes(1);

/**
 * Observability: an alarm for every way Cairn can fail silently (DLQs, backlogs, Lambda errors and
 * throttles, failed journey executions, Step Functions quota throttling, API 5xx) and one dashboard.
 * A new part adds its alarms with `alarm(...)` and its graphs with `dashboard.addWidgets(...)`.
 */
export class CairnObservability extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  private readonly alarmActions: readonly cloudwatch.IAlarmAction[];

  constructor(scope: Construct, id: string, props: CairnObservabilityProps) {
    super(scope, id);
    this.alarmActions = props.alarmActions;

    for (const { target, queue, deadLetterQueue, maxReceiveCount } of props.buffers) {
      const name = pascal(target);
      this.alarm(
        `${name}DeadLetterAlarm`,
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' }),
        `Events for the ${target} Lambda failed ${maxReceiveCount} times and wait in its DLQ: inspect, fix, redrive`,
      );
      this.alarm(
        `${name}BacklogAlarm`,
        queue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum' }),
        `The ${target} queue holds events older than 5 minutes: the Lambda is failing or throttled`,
        300,
      );
    }
    for (const [name, f] of Object.entries(props.functions)) {
      this.alarm(
        `${pascal(name)}ErrorsAlarm`,
        f.metricErrors({ period: minute }),
        `The ${name} Lambda threw`,
      );
      this.alarm(
        `${pascal(name)}ThrottlesAlarm`,
        f.metricThrottles({ period: minute }),
        `The ${name} Lambda was throttled`,
      );
    }
    for (const journey of props.journeys) {
      this.alarm(
        `Journey${pascal(journey.id)}FailedAlarm`,
        journey.stateMachine.metricFailed({ period: minute }),
        `Executions of journey ${journey.id} failed`,
      );
    }
    // Account-wide Step Functions API throttling: the quotas that bind first (README, Capacity and cost).
    const sfnApiThrottles = ['StartExecution', 'SendTaskSuccess'].map((apiName) => {
      const metric = new cloudwatch.Metric({
        namespace: 'AWS/States',
        metricName: 'ThrottledEvents',
        dimensionsMap: { APIName: apiName },
        statistic: 'Sum',
        period: minute,
      });
      this.alarm(
        `StepFunctions${apiName}ThrottledAlarm`,
        metric,
        `Step Functions throttled ${apiName} (account quota): the SQS buffer retries; request a quota increase if it persists`,
      );
      return metric;
    });
    const api5xx = props.apiStage.metricServerError({ period: minute, statistic: 'Sum' });
    this.alarm('Api5xxAlarm', api5xx, 'The HTTP API answered 5xx', 5);

    this.dashboard = this.buildDashboard(props, sfnApiThrottles);
  }

  /** An alarm at `threshold` or more in one minute, notifying the alarm actions, shown on the dashboard. */
  alarm(id: string, metric: cloudwatch.IMetric, description: string, threshold = 1): cloudwatch.Alarm {
    const created = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    created.addAlarmAction(...this.alarmActions);
    this.alarms.push(created);
    return created;
  }

  private buildDashboard(props: CairnObservabilityProps, sfnApiThrottles: cloudwatch.Metric[]) {
    const fns = Object.entries(props.functions);
    const perFunction = (metric: (f: NodejsFunction) => cloudwatch.IMetric) =>
      fns.map(([name, f]) => (metric(f) as cloudwatch.Metric).with({ label: name }));
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    // The same array: alarms added later by other parts show here too.
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Cairn alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda invocations',
        left: perFunction((f) => f.metricInvocations()),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        left: perFunction((f) => f.metricErrors()),
        right: perFunction((f) => f.metricThrottles()),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration p99',
        left: perFunction((f) => f.metricDuration({ statistic: 'p99' })),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queues: waiting and oldest (s)',
        left: props.buffers.map((b) =>
          b.queue.metricApproximateNumberOfMessagesVisible({ label: `${b.target} waiting` }),
        ),
        right: props.buffers.map((b) =>
          b.queue.metricApproximateAgeOfOldestMessage({ label: `${b.target} oldest` }),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues',
        left: props.buffers.map((b) =>
          b.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: `${b.target} DLQ`,
            statistic: 'Maximum',
          }),
        ),
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Journey executions',
        left: props.journeys.flatMap((j) => [
          j.stateMachine.metricStarted({ label: `${j.id} started` }),
          j.stateMachine.metricSucceeded({ label: `${j.id} succeeded` }),
          j.stateMachine.metricFailed({ label: `${j.id} failed` }),
          j.stateMachine.metricTimedOut({ label: `${j.id} timed out` }),
        ]),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Step Functions API throttles',
        left: sfnApiThrottles.map((metric) =>
          metric.with({ label: `${metric.dimensions?.APIName} throttled` }),
        ),
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'HTTP API',
        left: [props.apiStage.metricCount({ label: 'requests' })],
        right: [
          props.apiStage.metricClientError({ label: '4xx' }),
          props.apiStage.metricServerError({ label: '5xx' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB consumed capacity',
        left: Object.entries(props.tables).flatMap(([n, t]) => [
          t.metricConsumedReadCapacityUnits({ label: `${n} RCU` }),
          t.metricConsumedWriteCapacityUnits({ label: `${n} WCU` }),
        ]),
        width: 12,
      }),
    );
    return dashboard;
  }
}
