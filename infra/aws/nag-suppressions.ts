import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import type { CairnJourneys } from './cairn-journeys.js';

/** One accepted cdk-nag finding: where, which rule (with finding id), and why it is right for Cairn. */
export interface AcceptedFinding {
  construct: IConstruct;
  id: string;
  reason: string;
}

const reasons = {
  runtime:
    'Cairn pins nodejs22.x (README, Deploy to AWS): the bundles target it and the suite runs on it; a runtime move is a reviewed change, not an automatic one.',
  taskTokens:
    'SendTaskSuccess has no resource type in IAM (the task token is the authority), so "*" is the only valid resource; it is the only action granted on it.',
  logDelivery:
    'CloudWatch Logs vended-log delivery actions (CreateLogDelivery, PutResourcePolicy, ...) support no resource ARN; they are what Step Functions needs to log executions, and grant no data access.',
  stateMachines:
    'Journeys are published at run time (POST /journeys/{id}/publish): their names are only known then, so access is scoped to the Cairn name prefix (state machines, their versions and aliases).',
  executions:
    'Execution names are generated per customer and journey entry; access is scoped to executions of Cairn state machines (name prefix).',
  tableIndexes:
    "The index ARNs (<table ARN>/index/*) are the Cairn tables' own global secondary indexes (segment members, window timers, profile due times, the Journeys table's gsi1); no other table is reachable.",
  stepVersions:
    'The qualified ARNs (<step function ARN>:*) are versions/aliases of the one step Lambda; the journey role can invoke nothing else.',
  journeyLogLevel:
    'Journey executions run once per customer: logging ALL transitions costs more than the executions. ERROR level keeps failures visible; set journeyLogLevel: ALL to trace.',
  journeyTracing: 'X-Ray is billed per trace and a journey runs per customer; opt in with tracing: true.',
  listStateMachines:
    'ListStateMachines has no resource type in IAM; the api uses it only to find a Cairn state machine it lost track of, by name.',
  tracing:
    'X-Ray PutTraceSegments/PutTelemetryRecords support no resource ARN (added because tracing: true).',
  dashboard:
    "The dashboard's static files (HTML, script, stylesheet, public sign-in settings) must load before sign-in; they hold no data, and every API call they make carries the marketer's Cognito token.",
  unsubscribe:
    'The unsubscribe link (RFC 8058 one-click, List-Unsubscribe) must work from any mail client without signing in; the api Lambda checks the link itself.',
  unsubscribeSecretRotation:
    'The unsubscribe key signs links in emails already sent: rotating it would break every one of them. It never leaves Secrets Manager except into the step and api Lambdas at cold start.',
  schedules:
    "Broadcast schedules are created at run time, one per run and time zone, with generated names: access is scoped to the schedules of Cairn's own schedule group.",
  broadcastVersions:
    'The qualified ARNs (<broadcast function ARN>:*) are versions/aliases of the one broadcast Lambda; the scheduler role can invoke nothing else.',
  pushEndpoints:
    "SNS creates one platform endpoint per device token, named by SNS at run time: publishing is scoped to the endpoints of Cairn's own platform application.",
  pushProvisioner:
    'The custom resource Lambda that keeps the SNS platform applications runs only at deploy time; it is built like every Cairn Lambda, on the pinned runtime.',
  inboundSmsDeadLetters:
    "This queue is the dead-letter queue of the inbound SMS topic's subscription (SNS redrive policy), which cdk-nag cannot see; a DLQ has no DLQ of its own.",
  cognitoPlus:
    'The Plus feature plan (threat protection) is billed per monthly active user; marketer sign-in already requires MFA and has no self sign-up. Enable it on the pool if your policy requires it.',
} as const;

/**
 * The cdk-nag AwsSolutions findings Cairn accepts, each with its reason. Everything else must pass;
 * `cdk synth` fails on an unacknowledged error.
 */
export function acceptedFindings(cairn: CairnJourneys): AcceptedFinding[] {
  const stack = Stack.of(cairn);
  const accepted: AcceptedFinding[] = [];
  const accept = (construct: IConstruct, id: string, reason: string) =>
    accepted.push({ construct, id, reason });
  const iam5 = (resource: string) => `AwsSolutions-IAM5[Resource::${resource}]`;
  const prefixArn = (resource: string) =>
    `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:${resource}:${cairn.stateMachinePrefix}*`;

  for (const fn of [
    ...Object.values(cairn.functions),
    ...(cairn.deployFunction ? [cairn.deployFunction] : []),
    cairn.parts.broadcasts.fn,
  ]) {
    accept(fn, 'AwsSolutions-L1', reasons.runtime);
    if (cairn.tracing) accept(fn.role!, iam5('*'), reasons.tracing);
  }
  accept(cairn.unsubscribeSecret, 'AwsSolutions-SMG4', reasons.unsubscribeSecretRotation);
  const { ingest, api, step } = cairn.functions;
  accept(ingest.role!, iam5('*'), reasons.taskTokens);
  accept(api.role!, iam5('*'), reasons.listStateMachines);
  const broadcast = cairn.parts.broadcasts.fn;
  // Step and segments start the journeys a segment entry triggers (an update node, a window timer).
  for (const fn of [ingest, api, broadcast, step, cairn.functions.segments]) {
    accept(fn.role!, iam5(prefixArn('stateMachine')), reasons.stateMachines);
    accept(fn.role!, iam5(prefixArn('execution')), reasons.executions);
  }

  // The logical ids as written in the template (CairnJourneys pins ids: see parts/logical-ids.ts).
  // Segments and lifecycle Query the Profiles table's own sparse indexes, the runtime the Journeys
  // table's: `<table>/index/*`, for every role granted items of that table.
  const indexArn = (table: IConstruct) =>
    `<${stack.resolve((table.node.defaultChild as CfnElement).logicalId) as string}.Arn>/index/*`;
  const { feedback, lifecycle, segments } = cairn.functions;
  // The deploy provider too when it defines checked-in segments (deleting one removes its members).
  const segmentsDeploy = cairn.parts.stateMachines.segments.size > 0 ? [cairn.deployFunction!] : [];
  for (const fn of [ingest, api, step, feedback, lifecycle, segments, broadcast, ...segmentsDeploy])
    accept(fn.role!, iam5(indexArn(cairn.tables.Profiles)), reasons.tableIndexes);
  for (const fn of [
    ...Object.values(cairn.functions),
    ...(cairn.deployFunction ? [cairn.deployFunction] : []),
    broadcast,
  ])
    accept(fn.role!, iam5(indexArn(cairn.tables.Journeys)), reasons.tableIndexes);

  // Broadcasts: schedules are named per run and zone at run time, inside Cairn's own group.
  const { scheduleGroup, schedulerRole } = cairn.parts.broadcasts;
  const groupName = stack.resolve(scheduleGroup.scheduleGroupName) as string;
  const schedules = `arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${groupName}/*`;
  for (const fn of [api, broadcast]) accept(fn.role!, iam5(schedules), reasons.schedules);
  const broadcastLogicalId = stack.resolve((broadcast.node.defaultChild as CfnElement).logicalId) as string;
  accept(schedulerRole, iam5(`<${broadcastLogicalId}.Arn>:*`), reasons.broadcastVersions);

  const stepLogicalId = stack.resolve((step.node.defaultChild as CfnElement).logicalId) as string;
  accept(cairn.journeyRole, iam5(`<${stepLogicalId}.Arn>:*`), reasons.stepVersions);
  if (cairn.journeys.length > 0) accept(cairn.journeyRole, iam5('*'), reasons.logDelivery);
  for (const { stateMachine } of cairn.journeys) {
    const cfn = stateMachine.node.defaultChild as CfnStateMachine;
    const logging = stack.resolve(cfn.loggingConfiguration) as { level?: string } | undefined;
    if (logging?.level !== 'ALL') accept(stateMachine, 'AwsSolutions-SF1', reasons.journeyLogLevel);
    if (!stack.resolve(cfn.tracingConfiguration)?.enabled)
      accept(stateMachine, 'AwsSolutions-SF2', reasons.journeyTracing);
  }
  for (const route of cairn.publicRoutes) accept(route, 'AwsSolutions-APIG4', reasons.unsubscribe);
  for (const route of cairn.dashboardRoutes) accept(route, 'AwsSolutions-APIG4', reasons.dashboard);
  if (
    cairn.userPool instanceof cognito.UserPool &&
    cairn.userPool.node.path.startsWith(`${cairn.node.path}/`)
  ) {
    accept(cairn.userPool, 'AwsSolutions-COG8', reasons.cognitoPlus);
  }
  const { messaging } = cairn.parts;
  if (messaging.pushProvisioner)
    accept(messaging.pushProvisioner, 'AwsSolutions-L1', reasons.pushProvisioner);
  for (const { kind, name } of messaging.pushNames)
    accept(
      step.role!,
      iam5(`arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:endpoint/${kind}/${name}/*`),
      reasons.pushEndpoints,
    );
  if (messaging.smsInbound)
    accept(messaging.smsInbound.deadLetterQueue, 'AwsSolutions-SQS3', reasons.inboundSmsDeadLetters);
  return accepted;
}

/** Records every accepted finding on its construct (`Validations.of(x).acknowledge`), which cdk-nag v3 honours. */
export function suppressAcceptedFindings(cairn: CairnJourneys): void {
  for (const { construct, id, reason } of acceptedFindings(cairn)) {
    Validations.of(construct).acknowledge({ id: `AwsSolutions::${id}`, reason });
  }
}
