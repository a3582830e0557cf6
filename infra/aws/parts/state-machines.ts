import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Aws, CustomResource, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AslSubstitutions } from '../../../shared/journeys/asl.js';
import { messagingPolicyResourceType, parseMessagingPolicy } from '../../../shared/messaging/deployed.js';
import type { MessagingPolicyInput } from '../../../shared/messaging/policy.js';
import { segmentResourceType } from '../../../shared/segments/deployed.js';
import { analyseCondition } from '../../../shared/segments/evaluate.js';
import type { Segment } from '../../../shared/segments/schema.js';
import type { CheckedInJourney } from '../journey-definitions.js';
import type { CairnData } from './data.js';
import { allowPassRole, type CairnFunctions, pascal } from './functions.js';
import type { CairnMessaging } from './messaging.js';

/** The alias every journey state machine gets; executions started through it run its current version. */
export const journeyAliasName = 'live';

/**
 * A journey deployed from code: the state machine, the version this deploy published, the alias on
 * it, and the custom resource that records that version in the catalog (so it is live at once).
 */
export interface DeployedJourney {
  readonly id: string;
  readonly stateMachine: sfn.StateMachine;
  readonly version: sfn.CfnStateMachineVersion;
  readonly alias: sfn.CfnStateMachineAlias;
  /** `Custom::CairnJourney`: Create/Update register the version in the Journeys table, Delete archives it. */
  readonly catalogEntry: CustomResource;
}

export interface CairnStateMachinesProps {
  readonly functions: CairnFunctions;
  readonly data: CairnData;
  readonly messaging: CairnMessaging;
  /** Name prefix of every journey state machine (deployed here or published at run time). */
  readonly prefix: string;
  /** The journeys deployed with the stack (journey-definitions.ts). */
  readonly checkedIn: readonly CheckedInJourney[];
  /** The segments deployed with the stack (`statemachines/segments/`), dependencies first. */
  readonly segments?: readonly Segment[];
  /** The messaging policy deployed with the stack (`Custom::CairnMessagingPolicy`). */
  readonly messagingPolicy?: MessagingPolicyInput;
  readonly logGroupName: string;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: sfn.LogLevel;
  readonly tracing: boolean;
}

/**
 * Journeys: the role and log group every journey execution uses (deployed here or published by the
 * api at run time), the step Lambda its Tasks invoke, one versioned state machine behind an alias per
 * checked-in journey, and the deploy custom resource that records each version in the catalog.
 * Who may start, stop, resume and publish executions is granted from here.
 */
export class CairnStateMachines extends Construct {
  readonly step: NodejsFunction;
  readonly journeys: readonly DeployedJourney[];
  /** Provider of the `Custom::CairnJourney` and `Custom::CairnSegment` resources (functions/deploy); present when any is deployed. */
  readonly deployFunction?: NodejsFunction;
  /** `Custom::CairnSegment` per checked-in segment, by id. */
  readonly segments: ReadonlyMap<string, CustomResource>;
  /** `Custom::CairnMessagingPolicy`, when the stack deploys the policy. */
  readonly messagingPolicy?: CustomResource;
  /** The role every journey execution runs as: invokes only the step Lambda. */
  readonly journeyRole: iam.Role;
  readonly journeyLogGroup: logs.LogGroup;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: CairnStateMachinesProps) {
    super(scope, id);
    this.prefix = props.prefix;
    this.journeyLogGroup = new logs.LogGroup(this, 'JourneyLogs', {
      logGroupName: props.logGroupName,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.journeyRole = new iam.Role(this, 'JourneyRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'Cairn journey executions: invoke the step Lambda, write execution logs',
    });

    this.step = props.functions.create(this, 'step', { timeout: 30 });
    props.data.grantItems(this.step);
    props.messaging.grantUnsubscribeKey(this.step);
    props.messaging.grantSendEmail(this.step);
    // Journey executions: only the step Lambda (any version of it), and their own log delivery.
    this.step.grantInvoke(this.journeyRole);
    // An update node's trait change can move the customer into a segment that triggers a journey.
    this.grantExecutionControl(this.step);

    const checkedInSegments = props.segments ?? [];
    // Validated here, so a bad policy fails the synth (with every path) rather than the deploy.
    const policy = props.messagingPolicy && parseMessagingPolicy(props.messagingPolicy);
    if (props.checkedIn.length > 0 || checkedInSegments.length > 0 || policy) {
      // Registers each deployed version in the catalog (CloudFormation custom resources): writes only
      // the Journeys table, item-level, nothing else.
      const deploy = props.functions.create(this, 'deploy', { timeout: 60, memorySize: 256 });
      props.data.tables.Journeys.grant(deploy, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem');
      // Segments: defined like PUT /segments/{id}, deleted with their memberships (both tables).
      if (checkedInSegments.length > 0) props.data.grantItems(deploy);
      props.data.grantKey(deploy);
      this.deployFunction = deploy;
    }
    if (policy)
      this.messagingPolicy = new CustomResource(this, 'MessagingPolicy', {
        serviceToken: this.deployFunction!.functionArn,
        resourceType: messagingPolicyResourceType,
        properties: { Policy: JSON.stringify(policy) },
      });
    const segments = new Map<string, CustomResource>();
    for (const segment of checkedInSegments) {
      const resource = new CustomResource(this, `Segment${pascal(segment.id)}`, {
        serviceToken: this.deployFunction!.functionArn,
        resourceType: segmentResourceType,
        properties: { SegmentId: segment.id, Definition: JSON.stringify(segment) },
      });
      // After the segments it reads (they come first), so it validates; deleted before them.
      for (const read of analyseCondition(segment.where).segments) {
        const dependency = segments.get(read);
        if (dependency) resource.node.addDependency(dependency);
      }
      segments.set(segment.id, resource);
    }
    this.segments = segments;
    const journeyLogs: sfn.LogOptions = {
      destination: this.journeyLogGroup,
      level: props.logLevel,
      includeExecutionData: false,
    };
    this.journeys = props.checkedIn.map((journey) =>
      this.deployJourney(journey, this.deployFunction!, journeyLogs, props.tracing),
    );
    // A journey may trigger or branch on any checked-in segment: registered once they exist.
    for (const { catalogEntry } of this.journeys)
      for (const segment of segments.values()) catalogEntry.node.addDependency(segment);
    // Their topics are those of the policy: it is stored first.
    if (this.messagingPolicy)
      for (const { catalogEntry } of this.journeys) catalogEntry.node.addDependency(this.messagingPolicy);
  }

  /** What the api needs to publish journeys at run time. */
  get environment(): Record<string, string> {
    return {
      CAIRN_STEP_FUNCTION_ARN: this.step.functionArn,
      CAIRN_STATE_MACHINE_ROLE_ARN: this.journeyRole.roleArn,
    };
  }

  /** Starting, stopping and reading executions, scoped to Cairn's state machines by name prefix. */
  grantExecutionControl(fn: NodejsFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CairnExecutions',
        actions: ['states:StartExecution'],
        resources: [stateMachineArnPattern('stateMachine', this.prefix)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CairnExecutionState',
        actions: ['states:DescribeExecution', 'states:StopExecution', 'states:GetExecutionHistory'],
        resources: [stateMachineArnPattern('execution', this.prefix)],
      }),
    );
  }

  /**
   * Resuming a waitFor: the task token is the authority, IAM has no resource type for this action.
   * (A waitFor that times out fails inside Step Functions: no SendTaskFailure needed.)
   */
  grantTaskTokens(fn: NodejsFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CairnTaskTokens',
        actions: ['states:SendTaskSuccess'],
        resources: ['*'],
      }),
    );
  }

  /**
   * Run-time publishing (POST /journeys/{id}/publish): create/update/version/alias only `<prefix>*`,
   * and hand them only the journey execution role.
   */
  grantPublish(fn: NodejsFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CairnPublishJourneys',
        actions: [
          'states:CreateStateMachine',
          'states:UpdateStateMachine',
          'states:DescribeStateMachine',
          'states:PublishStateMachineVersion',
          'states:ListStateMachineVersions',
          'states:CreateStateMachineAlias',
          'states:UpdateStateMachineAlias',
          'states:DescribeStateMachineAlias',
          'states:ListStateMachineAliases',
          'states:ListExecutions',
          'states:TagResource',
        ],
        resources: [stateMachineArnPattern('stateMachine', this.prefix)],
      }),
    );
    allowPassRole(fn, 'CairnPassJourneyRole', this.journeyRole, 'states.amazonaws.com');
    // The deployer finds a state machine it lost track of by name; ListStateMachines has no resource type.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CairnFindJourneys',
        actions: ['states:ListStateMachines'],
        resources: ['*'],
      }),
    );
  }

  private deployJourney(
    journey: CheckedInJourney,
    deploy: NodejsFunction,
    journeyLogs: sfn.LogOptions,
    tracing: boolean,
  ): DeployedJourney {
    const name = `${this.prefix}${journey.id}`;
    if (name.length > 80) throw new Error(`state machine name ${name} is longer than 80 characters`);
    const id = `Journey${pascal(journey.id)}`;
    const stateMachine = new sfn.StateMachine(this, id, {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(journey.asl),
      definitionSubstitutions: { StepFunctionArn: this.step.functionArn } satisfies AslSubstitutions,
      role: this.journeyRole,
      logs: journeyLogs,
      tracingEnabled: tracing,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A version pins this revision. A changed definition changes the revision id, which replaces this
    // resource: CloudFormation publishes the new version, moves the alias, then deletes the old version,
    // and "deleting a state machine version won't terminate its in-progress executions" (Step Functions
    // API reference), so customers inside keep the definition they entered.
    const version = new sfn.CfnStateMachineVersion(this, `${id}Version`, {
      stateMachineArn: stateMachine.stateMachineArn,
      stateMachineRevisionId: stateMachine.stateMachineRevisionId,
      description: `Cairn journey ${journey.id}, ASL sha256 ${journey.aslSha256}`,
    });
    const alias = new sfn.CfnStateMachineAlias(this, `${id}Alias`, {
      name: journeyAliasName,
      description: `New ${journey.id} entries start on the latest deployed version`,
      routingConfiguration: [{ stateMachineVersionArn: version.attrArn, weight: 100 }],
    });
    // The catalog entry: ingest starts journeys listed in the Journeys table, so this deploy records
    // the version it published there (functions/deploy → JourneyCatalog.registerDeployed). Any change
    // of ASL, definition or templates changes Hash, hence an Update that registers a new version.
    const templates = JSON.stringify(journey.templates);
    const catalogEntry = new CustomResource(this, `${id}Catalog`, {
      serviceToken: deploy.functionArn,
      resourceType: 'Custom::CairnJourney',
      properties: {
        JourneyId: journey.id,
        Definition: journey.definition,
        AslGzip: gzipSync(journey.asl, { level: 9 }).toString('base64'),
        StepFunctionArn: this.step.functionArn,
        VersionArn: version.attrArn,
        StateMachineArn: stateMachine.stateMachineArn,
        AliasArn: alias.attrArn,
        Templates: templates,
        Hash: createHash('sha256')
          .update(`${journey.aslSha256}\n${journey.definition}\n${templates}`)
          .digest('hex'),
      },
    });
    return { id: journey.id, stateMachine, version, alias, catalogEntry };
  }
}

/**
 * ARNs of Cairn's state machines (with their versions and aliases) or executions: `<prefix>*`. Built
 * from the pseudo parameters so the pattern reads the same in every environment.
 */
export function stateMachineArnPattern(resource: 'stateMachine' | 'execution', prefix: string): string {
  return `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}:${prefix}*`;
}
