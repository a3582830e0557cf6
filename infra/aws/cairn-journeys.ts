import { join } from 'node:path';
import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import type { HttpApi, HttpRoute, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as ses from 'aws-cdk-lib/aws-ses';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { MessagingPolicyInput } from '../../shared/messaging/policy.js';
import { type BusRule, busRules, busName as defaultBusName } from '../../shared/routing.js';
import { segmentsInOrder } from '../../statemachines/segments.js';
import { readCheckedInJourneys } from './journey-definitions.js';
import { CairnApi, type CairnDashboardSignIn } from './parts/api.js';
import { CairnBroadcasts } from './parts/broadcasts.js';
import type { RuleBuffer } from './parts/buffer.js';
import { CairnData, type CairnTables } from './parts/data.js';
import { CairnEvents } from './parts/events.js';
import { type CairnFunctionName, CairnFunctions, cairnCodeRoot } from './parts/functions.js';
import { keepLogicalIdsWithout } from './parts/logical-ids.js';
import { CairnMessaging, type CairnPushProps, type CairnSmsProps, emailDomain } from './parts/messaging.js';
import { CairnObservability } from './parts/observability.js';
import { CairnSegments } from './parts/segments.js';
import { CairnStateMachines, type DeployedJourney, journeyAliasName } from './parts/state-machines.js';

export type { RuleBuffer } from './parts/buffer.js';
export { itemActions } from './parts/data.js';
export { type CairnFunctionName, cairnCodeRoot, cairnFunctionNames } from './parts/functions.js';
export {
  type CairnPushApplicationProps,
  type CairnPushProps,
  type CairnSmsProps,
  emailAddress,
} from './parts/messaging.js';
export { type DeployedJourney, journeyAliasName, stateMachineArnPattern } from './parts/state-machines.js';

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
   * `<id>.asl.json` (deployed verbatim, one state machine per journey, with a version and an alias),
   * and the segments in its `segments/` folder (`Custom::CairnSegment`, defined before the journeys).
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
  /**
   * Broadcast slots handled at once (each enters up to its broadcast's ratePerSecond members): raise
   * it with the StartExecution quota to run broadcasts faster. Minimum 2. @default 20
   */
  readonly broadcastConcurrency?: number;
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
  /**
   * The marketer dashboard (`<api url>app/`, served by the api Lambda): marketers sign in on the user
   * pool's hosted page (authorization code + PKCE) and the API accepts the token like any marketer's.
   * @default the Cognito domain `cairn-<account>-<hash>`, the dashboard at the API URL
   */
  readonly dashboard?: CairnDashboardSignIn;
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
  /**
   * SMS through AWS End User Messaging SMS: the origination identity journeys send from (a phone
   * number, sender id or pool ARN, provisioned and registered by hand). Creates the configuration set
   * (its delivery receipts reach the feedback Lambda through the default bus) and, unless
   * `twoWay: false`, the SNS topic for the number's two-way SMS destination (STOP / START / HELP).
   * Without it, sms nodes cannot send. @default none
   */
  readonly sms?: CairnSmsProps;
  /**
   * The messaging policy as code (frequency caps, quiet hours, topics: the body of
   * `PUT /messaging/policy`), stored at deploy time by a `Custom::CairnMessagingPolicy` resource. A bad
   * policy fails the synth with every problem and its path. A later `PUT /messaging/policy` replaces
   * it until the next deploy that changes it; removing the prop leaves the stored policy as it is.
   * @default none (the policy is set through the API)
   */
  readonly messagingPolicy?: MessagingPolicyInput;
  /**
   * Push through Amazon SNS mobile push: per platform, a Secrets Manager secret holding the
   * platform application's credentials (a JSON object of SNS attributes). Cairn creates the SNS
   * platform applications at deploy time, reading the secret then: the credentials are never in the
   * template. Without it, push nodes have no application to send through. @default none
   */
  readonly push?: CairnPushProps;
  /** The Cairn source tree (holds `functions/`, `shared/`, `package-lock.json`). @default this repository */
  readonly codeRoot?: string;
}

/**
 * All of Cairn in one construct: the event bus and its archive, the SQS buffers and their DLQs, the
 * DynamoDB tables, the Lambdas, one Step Functions state machine per checked-in journey (versioned,
 * behind an alias), the HTTP API with Cognito and write-key authorizers, SES feedback, alarms and a
 * dashboard. Every grant is per resource; see README.md, "Deploy to AWS".
 *
 * Built from one part per concern (`parts/`): data, messaging, state machines (journeys), events and
 * ingest, API and auth, observability. A feature adds or extends one part; the members below stay the
 * public surface. Parts do not appear in logical ids (`keepLogicalIdsWithout`), so stacks deployed
 * before the parts existed update in place.
 */
export class CairnJourneys extends Construct {
  readonly bus: events.EventBus;
  readonly tables: CairnTables;
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
  /** Routes served without sign-in: the unsubscribe link. */
  readonly publicRoutes: readonly HttpRoute[];
  /** The dashboard's static files (`GET /app`, `GET /app/{file}`), without sign-in: they hold no data. */
  readonly dashboardRoutes: readonly HttpRoute[];
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
  /** With `machineAccess`: the client-credentials app client and the domain serving `/oauth2/token`. */
  readonly machineClient?: cognito.UserPoolClient;
  /** With the user pool Cairn creates: the domain of the dashboard's hosted sign-in page (and of `/oauth2/token`). */
  readonly userPoolDomain?: cognito.UserPoolDomain;
  readonly configurationSet: ses.ConfigurationSet;
  readonly encryptionKey?: kms.Key;
  readonly alarms: cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard;
  readonly stateMachinePrefix: string;
  /** Whether X-Ray tracing is on for the Lambdas and journey executions. */
  readonly tracing: boolean;
  /** The parts, for features that extend one (e.g. `parts.observability.alarm(...)`). */
  readonly parts: {
    readonly data: CairnData;
    readonly messaging: CairnMessaging;
    readonly stateMachines: CairnStateMachines;
    readonly events: CairnEvents;
    readonly api: CairnApi;
    readonly segments: CairnSegments;
    readonly broadcasts: CairnBroadcasts;
    readonly observability: CairnObservability;
  };

  constructor(scope: Construct, id: string, props: CairnJourneysProps) {
    super(scope, id);
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
    const functions = new CairnFunctions({ codeRoot, logRetention, tracing: this.tracing });

    const data = new CairnData(this, 'Data', {
      removalPolicy,
      encryption: props.encryption ?? 'aws-managed',
    });
    const messaging = new CairnMessaging(this, 'Messaging', {
      functions,
      data,
      emailFrom: props.emailFrom,
      emailIdentity,
      removalPolicy,
      maxConcurrency,
      sms: props.sms,
      push: props.push,
    });
    const stateMachines = new CairnStateMachines(this, 'StateMachines', {
      functions,
      data,
      messaging,
      prefix,
      checkedIn: readCheckedInJourneys(props.journeysDir ?? join(codeRoot, 'statemachines')),
      segments: segmentsInOrder(props.journeysDir ?? join(codeRoot, 'statemachines')),
      ...(props.messagingPolicy && { messagingPolicy: props.messagingPolicy }),
      // Named after this construct (not the part) so the name, and the log group, survive refactors.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 64 })}`,
      logRetention,
      logLevel: props.journeyLogLevel ?? sfn.LogLevel.ERROR,
      tracing: this.tracing,
    });
    const events = new CairnEvents(this, 'Events', {
      functions,
      data,
      stateMachines,
      busName: props.busName ?? defaultBusName,
      archiveRetention: props.archiveRetention ?? Duration.days(90),
      maxConcurrency,
    });
    // Checked-in segments are built from existing profiles: the deploy sends the first backfill page.
    if (stateMachines.segments.size > 0) events.bus.grantPutEventsTo(stateMachines.deployFunction!);
    const api = new CairnApi(this, 'Api', {
      functions,
      data,
      stateMachines,
      messaging,
      bus: events.bus,
      removalPolicy,
      logRetention,
      writeKeySha256: props.writeKeySha256 ?? [],
      throttle: props.apiThrottle ?? { rateLimit: 500, burstLimit: 1000 },
      userPool: props.userPool,
      userPoolClient: props.userPoolClient,
      machineAccess: props.machineAccess,
      dashboard: props.dashboard,
    });
    const segments = new CairnSegments(this, 'Segments', {
      functions,
      data,
      stateMachines,
      bus: events.bus,
      maxConcurrency,
    });
    // Preview scans the profiles.
    data.grantItems(api.api, { scan: true });
    const broadcasts = new CairnBroadcasts(this, 'Broadcasts', {
      functions,
      data,
      stateMachines,
      api: api.api,
      maxConcurrency: props.broadcastConcurrency,
    });
    const step = stateMachines.step;
    messaging.grantSendSmsAndPush(step);
    // An update node's change can move a lifecycle stage or cross a score threshold: those events go onto the bus.
    events.bus.grantPutEventsTo(step);
    // Inbound SMS keywords become `Unsubscribed` / `Subscribed` / `SMS Received` events on the bus.
    if (messaging.smsInbound) events.bus.grantPutEventsTo(messaging.feedback);
    step.addEnvironment('CAIRN_UNSUBSCRIBE_URL', props.unsubscribeUrl ?? `${api.stage.url}unsubscribe`);
    functions.shareEnvironment({
      ...data.environment,
      ...events.environment,
      ...messaging.environment,
      CAIRN_STATE_MACHINE_PREFIX: prefix,
      CAIRN_JOURNEY_ALIAS: journeyAliasName,
      // Write keys hashed in the Journeys table; marketers only through API Gateway's JWT authorizer.
      CAIRN_AUTH: 'cloud',
    });

    this.functions = {
      ingest: events.ingest,
      api: api.api,
      step,
      feedback: messaging.feedback,
      authorizer: api.authorizer,
      lifecycle: events.lifecycle,
      segments: segments.worker,
    };
    this.buffers = {
      ingest: events.ingestBuffer,
      feedback: messaging.feedbackBuffer,
      segments: segments.buffer,
    };
    const observability = new CairnObservability(this, 'Observability', {
      functions: this.functions,
      buffers: busRules.map((rule) => ({
        ...this.buffers[rule.target],
        target: rule.target,
        maxReceiveCount: rule.maxReceiveCount,
      })),
      journeys: stateMachines.journeys,
      apiStage: api.stage,
      tables: data.tables,
      alarmActions: props.alarmActions ?? [],
    });
    events.addAlarms(observability);
    broadcasts.addAlarms(observability);
    if (messaging.smsInbound)
      observability.alarm(
        'SmsInboundDeadLetterAlarm',
        messaging.smsInbound.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        'Inbound SMS (STOP / START / HELP) the feedback Lambda failed to handle wait in their DLQ: an opt-out may not be recorded; inspect and redrive',
      );

    this.parts = { data, messaging, stateMachines, events, api, segments, broadcasts, observability };
    for (const part of Object.values(this.parts)) keepLogicalIdsWithout(part);

    this.encryptionKey = data.encryptionKey;
    this.tables = data.tables;
    this.bus = events.bus;
    this.configurationSet = messaging.configurationSet;
    this.unsubscribeSecret = messaging.unsubscribeSecret;
    this.journeys = stateMachines.journeys;
    this.deployFunction = stateMachines.deployFunction;
    this.journeyRole = stateMachines.journeyRole;
    this.journeyLogGroup = stateMachines.journeyLogGroup;
    this.httpApi = api.httpApi;
    this.apiStage = api.stage;
    this.publicRoutes = api.publicRoutes;
    this.dashboardRoutes = api.dashboardRoutes;
    this.userPool = api.userPool;
    this.userPoolClient = api.userPoolClient;
    this.machineClient = api.machineClient;
    this.userPoolDomain = api.userPoolDomain;
    this.alarms = observability.alarms;
    this.dashboard = observability.dashboard;
  }

  /** The URL of the HTTP API (marketer routes and `/v1/*`). */
  get apiUrl(): string {
    return this.apiStage.url;
  }
}
