import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Aws, CustomResource, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpRoute,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpLambdaAuthorizer,
  HttpLambdaResponseType,
  HttpUserPoolAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type BusRule, busRules, busName as defaultBusName } from '../../shared/routing.js';
import { type TableDefinition, tables } from '../../shared/store/tables.js';
import { type CheckedInJourney, readCheckedInJourneys } from './journey-definitions.js';

/** The Lambda functions of Cairn; each is `functions/<name>/handler.ts` in the Cairn source tree. */
export const cairnFunctionNames = ['ingest', 'api', 'step', 'feedback', 'authorizer'] as const;
export type CairnFunctionName = (typeof cairnFunctionNames)[number];

/** The Cairn source tree this file belongs to (infra/aws → ../..). */
export const cairnCodeRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The alias every journey state machine gets; executions started through it run its current version. */
export const journeyAliasName = 'live';

export interface CairnJourneysProps {
  /**
   * Name of the EventBridge bus product apps send Segment events to (`PutEvents`, DetailType = the
   * Segment type). Bus names are unique per account and region, so give a second Cairn another name.
   * @default 'cairn'
   */
  readonly busName?: string;
  /**
   * The From address of journey emails, e.g. `Acme <hello@acme.com>`. The address (or its domain)
   * must be a verified SES identity in this account and region.
   */
  readonly emailFrom: string;
  /**
   * The SES identity the step function may send as: a verified domain (`acme.com`) or address.
   * Sending is allowed only from `emailFrom` through this identity and Cairn's configuration set.
   * @default the domain of `emailFrom`
   */
  readonly emailIdentity?: string;
  /**
   * Folder holding the journeys deployed with the stack: every `<id>.journey.yaml` with its compiled
   * `<id>.asl.json` (deployed verbatim, one state machine per journey, with a version and an alias).
   * @default `statemachines/` of the Cairn source tree
   */
  readonly journeysDir?: string;
  /**
   * Prefix of every journey state machine name, for the ones deployed here and the ones the API
   * publishes at run time. IAM lets Cairn create, update and start only state machines with it.
   * @default 'cairn-'
   */
  readonly stateMachinePrefix?: string;
  /**
   * What happens to the data (tables, encryption key, user pool) when the stack is deleted or a
   * resource is replaced. RETAIN also turns on DynamoDB deletion protection.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Retention of every log group Cairn creates (functions, API access log, state machines). @default ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * `aws-managed`: DynamoDB with the AWS managed key, SQS with SSE-SQS. `customer-managed`: one KMS key
   * (rotated yearly) for tables and queues; costs $1/month plus requests, and lets you revoke access.
   * @default 'aws-managed'
   */
  readonly encryption?: 'aws-managed' | 'customer-managed';
  /**
   * SHA-256 digests (hex) of write keys `/v1/*` accepts in addition to the keys managed through the
   * API. Lets a first app send events before anyone has signed in; never put plain keys here.
   * @default none
   */
  readonly writeKeySha256?: readonly string[];
  /**
   * The most ingest (and feedback) Lambdas polling their queue at once. Bounds the StartExecution and
   * DynamoDB rates a burst can cause; SQS holds the rest. Minimum 2.
   * @default 10
   */
  readonly ingestMaxConcurrency?: number;
  /** Steady-state requests per second the HTTP API accepts, and its burst. @default { rateLimit: 500, burstLimit: 1000 } */
  readonly apiThrottle?: { rateLimit: number; burstLimit: number };
  /** How long the bus archive keeps events for replay. @default 90 days */
  readonly archiveRetention?: Duration;
  /** Marketers sign in with this user pool; a new one (MFA required, no self sign-up) when omitted. */
  readonly userPool?: cognito.IUserPool;
  /** The app client whose tokens the marketer API accepts; required with `userPool`. */
  readonly userPoolClient?: cognito.IUserPoolClient;
  /**
   * Lets services call the marketer API with OAuth 2.0 client credentials (Cognito machine-to-machine):
   * creates the user pool domain `<domainPrefix>.auth.<region>.amazoncognito.com`, the resource server
   * `cairn` with the scope `cairn/api`, and an app client (with a secret) whose access tokens the API
   * accepts. Only with the user pool Cairn creates. @default none
   */
  readonly machineAccess?: { domainPrefix: string };
  /** Actions for every alarm, e.g. an SNS topic action that pages the on-call. @default none */
  readonly alarmActions?: readonly cloudwatch.IAlarmAction[];
  /**
   * Step Functions log level for journey executions. ALL logs every state transition of every
   * customer, which costs more than the executions themselves at scale.
   * @default sfn.LogLevel.ERROR
   */
  readonly journeyLogLevel?: sfn.LogLevel;
  /** X-Ray tracing for the Lambdas and journey executions. @default false */
  readonly tracing?: boolean;
  /**
   * Base of the unsubscribe link in every email (and its List-Unsubscribe header); the step Lambda
   * appends `?p=<profileId>&t=<token>`, the token an HMAC with the secret `unsubscribeSecret`. The HTTP
   * API routes `GET|POST /unsubscribe` to the api Lambda without sign-in; the api checks the token.
   * @default `<api url>unsubscribe`
   */
  readonly unsubscribeUrl?: string;
  /** The Cairn source tree (holds `functions/`, `shared/`, `package-lock.json`). @default this repository */
  readonly codeRoot?: string;
}

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

/** An SQS buffer between an EventBridge rule and its Lambda. */
export interface RuleBuffer {
  readonly rule: events.Rule;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

/**
 * All of Cairn in one construct: the event bus and its archive, the SQS buffers and their DLQs, the
 * DynamoDB tables, the Lambdas, one Step Functions state machine per checked-in journey (versioned,
 * behind an alias), the HTTP API with Cognito and write-key authorizers, SES feedback, alarms and a
 * dashboard. Every grant is per resource; see README.md, "Deploy to AWS".
 */
export class CairnJourneys extends Construct {
  readonly bus: events.EventBus;
  readonly tables: Readonly<Record<TableDefinition['logicalName'], dynamodb.Table>>;
  readonly functions: Readonly<Record<CairnFunctionName, NodejsFunction>>;
  readonly buffers: Readonly<Record<BusRule['target'], RuleBuffer>>;
  readonly journeys: readonly DeployedJourney[];
  /**
   * Provider of the `Custom::CairnJourney` resources (functions/deploy): writes only the Journeys
   * table. Present when the stack deploys journeys.
   */
  readonly deployFunction?: NodejsFunction;
  /** Signs unsubscribe links (HMAC key); the step and api Lambdas read it at cold start. */
  readonly unsubscribeSecret: secretsmanager.Secret;
  /** The role every journey execution runs as (deployed here or published by the API): invokes only the step Lambda. */
  readonly journeyRole: iam.Role;
  readonly journeyLogGroup: logs.LogGroup;
  readonly httpApi: HttpApi;
  readonly apiStage: HttpStage;
  /** Routes served without sign-in: only the unsubscribe link. */
  readonly publicRoutes: readonly HttpRoute[];
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
  /** With `machineAccess`: the client-credentials app client and the domain serving `/oauth2/token`. */
  readonly machineClient?: cognito.UserPoolClient;
  readonly userPoolDomain?: cognito.UserPoolDomain;
  readonly configurationSet: ses.ConfigurationSet;
  readonly encryptionKey?: kms.Key;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  readonly stateMachinePrefix: string;
  /** Whether X-Ray tracing is on for the Lambdas and journey executions. */
  readonly tracing: boolean;

  constructor(scope: Construct, id: string, props: CairnJourneysProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const codeRoot = props.codeRoot ?? cairnCodeRoot;
    const prefix = props.stateMachinePrefix ?? 'cairn-';
    this.stateMachinePrefix = prefix;
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(prefix))
      throw new Error(`stateMachinePrefix "${prefix}" must be 1-40 of A-Z a-z 0-9 _ -`);
    const maxConcurrency = props.ingestMaxConcurrency ?? 10;
    this.tracing = props.tracing ?? false;
    const emailIdentity = props.emailIdentity ?? emailDomain(props.emailFrom);
    if (props.userPool && !props.userPoolClient) throw new Error('userPoolClient is required with userPool');
    if (props.userPool && props.machineAccess) {
      throw new Error(
        'machineAccess needs the user pool Cairn creates; add a client-credentials client to your pool',
      );
    }

    if (props.encryption === 'customer-managed') {
      this.encryptionKey = new kms.Key(this, 'Key', {
        description: 'Cairn: DynamoDB tables and SQS queues',
        enableKeyRotation: true,
        removalPolicy,
      });
      // EventBridge writes to the encrypted queues and needs the key for that: only on behalf of this
      // account's rules (aws:SourceAccount), so no other account's rule can use it (confused deputy).
      this.encryptionKey.grant(
        new iam.ServicePrincipal('events.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
        }),
        'kms:Decrypt',
        'kms:GenerateDataKey',
      );
    }

    // ── data ─────────────────────────────────────────────────────────────────────────────────────
    this.tables = Object.fromEntries(
      tables.map((definition) => [definition.logicalName, this.table(definition, removalPolicy)]),
    ) as Record<TableDefinition['logicalName'], dynamodb.Table>;

    // ── events ───────────────────────────────────────────────────────────────────────────────────
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: props.busName ?? defaultBusName });
    this.bus.archive('Archive', {
      description: 'Every event sent to the Cairn bus, for replay',
      eventPattern: { account: [stack.account] },
      retention: props.archiveRetention ?? Duration.days(90),
    });
    // SES sends its events to the default bus only.
    const defaultBus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    // ── journeys: execution role and logs (used by deployed and run-time published state machines) ──
    this.journeyLogGroup = new logs.LogGroup(this, 'JourneyLogs', {
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 64 })}`,
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.journeyRole = new iam.Role(this, 'JourneyRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'Cairn journey executions: invoke the step Lambda, write execution logs',
    });

    // ── email ────────────────────────────────────────────────────────────────────────────────────
    this.configurationSet = new ses.ConfigurationSet(this, 'Email', {
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    this.configurationSet.addEventDestination('ToEventBridge', {
      destination: ses.EventDestination.eventBus(defaultBus),
      events: [
        ses.EmailSendingEvent.DELIVERY,
        ses.EmailSendingEvent.BOUNCE,
        ses.EmailSendingEvent.COMPLAINT,
        ses.EmailSendingEvent.OPEN,
        ses.EmailSendingEvent.CLICK,
        // Failures too, so a rejected or unrenderable send shows up in the journey's stats.
        ses.EmailSendingEvent.REJECT,
        ses.EmailSendingEvent.RENDERING_FAILURE,
      ],
    });

    // ── functions ────────────────────────────────────────────────────────────────────────────────
    const arnPrefix = (resource: 'stateMachine' | 'execution') => stateMachineArnPattern(resource, prefix);
    const environment: Record<string, string> = {
      ...Object.fromEntries(
        tables.map((definition) => [definition.envVar, this.tables[definition.logicalName].tableName]),
      ),
      CAIRN_BUS_NAME: this.bus.eventBusName,
      CAIRN_EMAIL_FROM: props.emailFrom,
      CAIRN_SES_CONFIGURATION_SET: this.configurationSet.configurationSetName,
      CAIRN_STATE_MACHINE_PREFIX: prefix,
      CAIRN_JOURNEY_ALIAS: journeyAliasName,
      // Write keys hashed in the Journeys table; marketers only through API Gateway's JWT authorizer.
      CAIRN_AUTH: 'cloud',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const fn = (
      name: CairnFunctionName,
      options: { timeout: number; memorySize?: number; env?: Record<string, string> },
    ) =>
      this.lambda(name, {
        codeRoot,
        logRetention,
        tracing: this.tracing,
        timeout: Duration.seconds(options.timeout),
        memorySize: options.memorySize ?? 512,
        environment: { ...environment, ...options.env },
      });
    const step = fn('step', { timeout: 30 });
    const journeyEnv = {
      CAIRN_STEP_FUNCTION_ARN: step.functionArn,
      CAIRN_STATE_MACHINE_ROLE_ARN: this.journeyRole.roleArn,
    };
    const ingest = fn('ingest', { timeout: 30 });
    const feedback = fn('feedback', { timeout: 30 });
    const api = fn('api', { timeout: 15, env: journeyEnv });
    const authorizer = fn('authorizer', {
      timeout: 5,
      memorySize: 256,
      env: { CAIRN_WRITE_KEY_SHA256: (props.writeKeySha256 ?? []).join(',') },
    });
    this.functions = { ingest, api, step, feedback, authorizer };

    // Data: item reads and writes on the two tables, per function, nothing account-wide. Only the api
    // may Scan (segment broadcasts and exports walk the profiles).
    for (const f of [ingest, api, step, feedback]) {
      for (const table of Object.values(this.tables)) {
        table.grant(f, ...itemActions, ...(f === api ? ['dynamodb:Scan'] : []));
      }
      // Named actions rather than grantEncryptDecrypt, whose ReEncrypt*/GenerateDataKey* are wildcards.
      this.encryptionKey?.grant(f, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey');
    }
    this.tables.Journeys.grant(authorizer, 'dynamodb:GetItem');
    this.encryptionKey?.grantDecrypt(authorizer);
    this.bus.grantPutEventsTo(api);

    // Unsubscribe links: an HMAC key generated by Secrets Manager, read by step (signs) and api
    // (verifies) once per container, so it is in neither their configuration nor their logs.
    this.unsubscribeSecret = new secretsmanager.Secret(this, 'UnsubscribeSecret', {
      description: 'Cairn: HMAC key of the unsubscribe links in emails',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy,
    });
    for (const f of [step, api]) {
      this.unsubscribeSecret.grantRead(f);
      f.addEnvironment('CAIRN_UNSUBSCRIBE_SECRET_ARN', this.unsubscribeSecret.secretArn);
    }

    // Journey executions: only the step Lambda (any version of it), and their own log delivery.
    step.grantInvoke(this.journeyRole);

    // Starting, stopping and resuming executions, scoped to Cairn's state machines by name prefix.
    const executionControl = new iam.PolicyStatement({
      sid: 'CairnExecutions',
      actions: ['states:StartExecution'],
      resources: [arnPrefix('stateMachine')],
    });
    const executionRead = new iam.PolicyStatement({
      sid: 'CairnExecutionState',
      actions: ['states:DescribeExecution', 'states:StopExecution', 'states:GetExecutionHistory'],
      resources: [arnPrefix('execution')],
    });
    // Resuming a waitFor: the task token is the authority, IAM has no resource type for this action.
    // (A waitFor that times out fails inside Step Functions: no SendTaskFailure needed.)
    const taskTokens = new iam.PolicyStatement({
      sid: 'CairnTaskTokens',
      actions: ['states:SendTaskSuccess'],
      resources: ['*'],
    });
    for (const f of [ingest, api]) {
      f.addToRolePolicy(executionControl);
      f.addToRolePolicy(executionRead);
    }
    ingest.addToRolePolicy(taskTokens);

    // Run-time publishing (POST /journeys/{id}/publish): create/update/version/alias only `<prefix>*`,
    // and hand them only the journey execution role.
    api.addToRolePolicy(
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
        resources: [arnPrefix('stateMachine')],
      }),
    );
    api.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CairnPassJourneyRole',
        actions: ['iam:PassRole'],
        resources: [this.journeyRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'states.amazonaws.com' } },
      }),
    );
    // The deployer finds a state machine it lost track of by name; ListStateMachines has no resource type.
    api.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CairnFindJourneys',
        actions: ['states:ListStateMachines'],
        resources: ['*'],
      }),
    );

    // Email: send only from the configured address, through the identity and Cairn's configuration set.
    step.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CairnSendEmail',
        actions: ['ses:SendEmail'],
        resources: [
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: emailIdentity }),
          stack.formatArn({
            service: 'ses',
            resource: 'configuration-set',
            resourceName: this.configurationSet.configurationSetName,
          }),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': emailAddress(props.emailFrom) } },
      }),
    );

    // ── bus rules → SQS buffer (+ DLQ) → Lambda ─────────────────────────────────────────────────
    const targets: Record<BusRule['target'], NodejsFunction> = { ingest, feedback };
    this.buffers = Object.fromEntries(
      busRules.map((rule) => {
        const bus = rule.target === 'feedback' ? defaultBus : this.bus;
        return [rule.target, this.buffer(rule, bus, targets[rule.target], maxConcurrency)];
      }),
    ) as Record<BusRule['target'], RuleBuffer>;

    // ── journeys deployed from code ─────────────────────────────────────────────────────────────
    const journeyLogs: sfn.LogOptions = {
      destination: this.journeyLogGroup,
      level: props.journeyLogLevel ?? sfn.LogLevel.ERROR,
      includeExecutionData: false,
    };
    const checkedIn = readCheckedInJourneys(props.journeysDir ?? join(codeRoot, 'statemachines'));
    if (checkedIn.length > 0) {
      // Registers each deployed version in the catalog (CloudFormation custom resources): writes only
      // the Journeys table, item-level, nothing else.
      const deploy = this.lambda('deploy', {
        codeRoot,
        logRetention,
        tracing: this.tracing,
        timeout: Duration.seconds(60),
        memorySize: 256,
        environment,
      });
      this.tables.Journeys.grant(deploy, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem');
      this.encryptionKey?.grant(
        deploy,
        'kms:Decrypt',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'kms:DescribeKey',
      );
      this.deployFunction = deploy;
    }
    this.journeys = checkedIn.map((journey) =>
      this.deployJourney(journey, step, this.deployFunction!, journeyLogs, this.tracing),
    );

    // ── HTTP API ─────────────────────────────────────────────────────────────────────────────────
    this.userPool = props.userPool ?? this.marketerPool(removalPolicy);
    this.userPoolClient =
      props.userPoolClient ??
      (this.userPool as cognito.UserPool).addClient('Dashboard', {
        authFlows: { userSrp: true },
        // The dashboard signs in with SRP; no hosted-UI OAuth flows (CDK would enable implicit grant).
        disableOAuth: true,
        generateSecret: false,
        preventUserExistenceErrors: true,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
      });
    const apiClients = [this.userPoolClient];
    if (props.machineAccess) {
      const pool = this.userPool as cognito.UserPool;
      this.userPoolDomain = pool.addDomain('Domain', {
        cognitoDomain: { domainPrefix: props.machineAccess.domainPrefix },
      });
      const scope = new cognito.ResourceServerScope({
        scopeName: 'api',
        scopeDescription: 'Call the Cairn API',
      });
      const server = pool.addResourceServer('Api', { identifier: 'cairn', scopes: [scope] });
      this.machineClient = pool.addClient('Machines', {
        generateSecret: true,
        authFlows: {},
        oAuth: {
          flows: { clientCredentials: true },
          scopes: [cognito.OAuthScope.resourceServer(server, scope)],
        },
        accessTokenValidity: Duration.hours(1),
      });
      apiClients.push(this.machineClient);
    }
    const integration = new HttpLambdaIntegration('Api', api);
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Cairn: marketer API (Cognito JWT) and Segment-compatible ingestion /v1/* (write key)',
      createDefaultStage: false,
      defaultIntegration: integration,
      defaultAuthorizer: new HttpUserPoolAuthorizer('Marketers', this.userPool, {
        userPoolClients: apiClients,
      }),
    });
    this.httpApi.addRoutes({
      path: '/v1/{proxy+}',
      methods: [HttpMethod.POST],
      integration,
      authorizer: new HttpLambdaAuthorizer('WriteKey', authorizer, {
        responseTypes: [HttpLambdaResponseType.SIMPLE],
        identitySource: ['$request.header.Authorization'],
        // Segment SDKs send every batch with the same key: cache the verdict instead of a Lambda + GetItem
        // per request, but briefly, since a revoked key works until the cached verdict expires.
        resultsCacheTtl: Duration.minutes(1),
      }),
    });
    // One-click unsubscribe (RFC 8058) must work from any mail client, without signing in.
    this.publicRoutes = this.httpApi.addRoutes({
      path: '/unsubscribe',
      methods: [HttpMethod.GET, HttpMethod.POST],
      integration,
      authorizer: new HttpNoneAuthorizer(),
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.apiStage = new HttpStage(this, 'ApiStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.apiThrottle ?? { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // No IPs, user agents or bodies: access logs hold no personal data.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            route: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            bytes: '$context.responseLength',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    step.addEnvironment('CAIRN_UNSUBSCRIBE_URL', props.unsubscribeUrl ?? `${this.apiStage.url}unsubscribe`);

    // ── alarms and dashboard ────────────────────────────────────────────────────────────────────
    this.dashboard = this.observe(props.alarmActions ?? []);
  }

  /** The URL of the HTTP API (marketer routes and `/v1/*`). */
  get apiUrl(): string {
    return this.apiStage.url;
  }

  private table(definition: TableDefinition, removalPolicy: RemovalPolicy): dynamodb.Table {
    const attribute = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    const table = new dynamodb.Table(this, `${definition.logicalName}Table`, {
      partitionKey: attribute(definition.partitionKey),
      sortKey: attribute(definition.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: definition.ttlAttribute,
      ...(this.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: this.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    for (const index of definition.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
      });
    }
    return table;
  }

  private lambda(
    name: CairnFunctionName | 'deploy',
    options: {
      codeRoot: string;
      logRetention: logs.RetentionDays;
      tracing: boolean;
      timeout: Duration;
      memorySize: number;
      environment: Record<string, string>;
    },
  ): NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${pascal(name)}Logs`, {
      retention: options.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role that may write only its own log group (instead of the AWS managed basic execution policy).
    const role = new iam.Role(this, `${pascal(name)}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Cairn ${name} Lambda`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    return new NodejsFunction(this, `${pascal(name)}Function`, {
      description: `Cairn ${name}`,
      entry: join(options.codeRoot, 'functions', name, 'handler.ts'),
      handler: 'handler',
      projectRoot: options.codeRoot,
      depsLockFilePath: join(options.codeRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: options.memorySize,
      timeout: options.timeout,
      tracing: options.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment: options.environment,
      role,
      logGroup,
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        // Error classes set `name` from their constructor; keep names so error types survive minifying.
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the SDK v3 clients Cairn uses, tree-shaken and pinned, instead of the runtime's copy.
        bundleAwsSDK: true,
        mainFields: ['module', 'main'],
        // CommonJS dependencies inside an ESM bundle still call require().
        banner:
          "import { createRequire as __cairnRequire } from 'node:module'; const require = __cairnRequire(import.meta.url);",
        tsconfig: join(options.codeRoot, 'tsconfig.json'),
        logLevel: LogLevel.WARNING,
      },
    });
  }

  private buffer(
    rule: BusRule,
    bus: events.IEventBus,
    target: NodejsFunction,
    maxConcurrency: number,
  ): RuleBuffer {
    const name = pascal(rule.target);
    const encryption = this.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: this.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    const deadLetterQueue = new sqs.Queue(this, `${name}DeadLetterQueue`, {
      ...encryption,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const queue = new sqs.Queue(this, `${name}Queue`, {
      ...encryption,
      enforceSSL: true,
      // AWS guidance: at least six times the function timeout, so retries by the poller do not overlap.
      visibilityTimeout: Duration.seconds(target.timeout!.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: rule.maxReceiveCount },
    });
    const eventRule = new events.Rule(this, `${name}Rule`, {
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
        maxConcurrency: Math.max(2, maxConcurrency),
      }),
    );
    return { rule: eventRule, queue, deadLetterQueue };
  }

  private deployJourney(
    journey: CheckedInJourney,
    step: NodejsFunction,
    deploy: NodejsFunction,
    journeyLogs: sfn.LogOptions,
    tracing: boolean,
  ): DeployedJourney {
    const name = `${this.stateMachinePrefix}${journey.id}`;
    if (name.length > 80) throw new Error(`state machine name ${name} is longer than 80 characters`);
    const id = `Journey${pascal(journey.id)}`;
    const stateMachine = new sfn.StateMachine(this, id, {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(journey.asl),
      definitionSubstitutions: { StepFunctionArn: step.functionArn },
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
        StepFunctionArn: step.functionArn,
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

  private marketerPool(removalPolicy: RemovalPolicy): cognito.UserPool {
    return new cognito.UserPool(this, 'Marketers', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      removalPolicy,
    });
  }

  private observe(actions: readonly cloudwatch.IAlarmAction[]): cloudwatch.Dashboard {
    const minute = Duration.minutes(1);
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string, threshold = 1) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(...actions);
      this.alarms.push(created);
      return created;
    };

    for (const rule of busRules) {
      const { queue, deadLetterQueue } = this.buffers[rule.target];
      const name = pascal(rule.target);
      alarm(
        `${name}DeadLetterAlarm`,
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' }),
        `Events for the ${rule.target} Lambda failed ${rule.maxReceiveCount} times and wait in its DLQ: inspect, fix, redrive`,
      );
      alarm(
        `${name}BacklogAlarm`,
        queue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum' }),
        `The ${rule.target} queue holds events older than 5 minutes: the Lambda is failing or throttled`,
        300,
      );
    }
    for (const [name, f] of Object.entries(this.functions)) {
      alarm(`${pascal(name)}ErrorsAlarm`, f.metricErrors({ period: minute }), `The ${name} Lambda threw`);
      alarm(
        `${pascal(name)}ThrottlesAlarm`,
        f.metricThrottles({ period: minute }),
        `The ${name} Lambda was throttled`,
      );
    }
    for (const journey of this.journeys) {
      alarm(
        `Journey${pascal(journey.id)}FailedAlarm`,
        journey.stateMachine.metricFailed({ period: minute }),
        `Executions of journey ${journey.id} failed`,
      );
    }
    // Account-wide Step Functions API throttling: the quotas that bind first (DESIGN.md §8).
    const sfnApiThrottles = ['StartExecution', 'SendTaskSuccess'].map((apiName) => {
      const metric = new cloudwatch.Metric({
        namespace: 'AWS/States',
        metricName: 'ThrottledEvents',
        dimensionsMap: { APIName: apiName },
        statistic: 'Sum',
        period: minute,
      });
      alarm(
        `StepFunctions${apiName}ThrottledAlarm`,
        metric,
        `Step Functions throttled ${apiName} (account quota): the SQS buffer retries; request a quota increase if it persists`,
      );
      return metric;
    });
    const api5xx = this.apiStage.metricServerError({ period: minute, statistic: 'Sum' });
    alarm('Api5xxAlarm', api5xx, 'The HTTP API answered 5xx', 5);

    const fns = Object.entries(this.functions);
    const perFunction = (metric: (f: NodejsFunction) => cloudwatch.IMetric) =>
      fns.map(([name, f]) => (metric(f) as cloudwatch.Metric).with({ label: name }));
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
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
        left: Object.entries(this.buffers).map(([t, b]) =>
          b.queue.metricApproximateNumberOfMessagesVisible({ label: `${t} waiting` }),
        ),
        right: Object.entries(this.buffers).map(([t, b]) =>
          b.queue.metricApproximateAgeOfOldestMessage({ label: `${t} oldest` }),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues',
        left: Object.entries(this.buffers).map(([t, b]) =>
          b.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: `${t} DLQ`,
            statistic: 'Maximum',
          }),
        ),
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Journey executions',
        left: this.journeys.flatMap((j) => [
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
        left: [this.apiStage.metricCount({ label: 'requests' })],
        right: [
          this.apiStage.metricClientError({ label: '4xx' }),
          this.apiStage.metricServerError({ label: '5xx' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB consumed capacity',
        left: Object.entries(this.tables).flatMap(([n, t]) => [
          t.metricConsumedReadCapacityUnits({ label: `${n} RCU` }),
          t.metricConsumedWriteCapacityUnits({ label: `${n} WCU` }),
        ]),
        width: 12,
      }),
    );
    return dashboard;
  }
}

/** DynamoDB item actions Cairn's functions use (TransactWriteItems is authorised per contained action). */
export const itemActions = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * ARNs of Cairn's state machines (with their versions and aliases) or executions: `<prefix>*`. Built
 * from the pseudo parameters so the pattern reads the same in every environment.
 */
export function stateMachineArnPattern(resource: 'stateMachine' | 'execution', prefix: string): string {
  return `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}:${prefix}*`;
}

function pascal(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** `Acme <hello@acme.com>` or `hello@acme.com` → `hello@acme.com`. */
export function emailAddress(from: string): string {
  const address = (/<([^>]+)>/.exec(from)?.[1] ?? from).trim();
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address))
    throw new Error(`emailFrom "${from}" has no valid email address`);
  return address;
}

function emailDomain(from: string): string {
  return emailAddress(from).split('@')[1]!;
}
