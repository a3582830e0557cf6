import { Duration, RemovalPolicy } from 'aws-cdk-lib';
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
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as events from 'aws-cdk-lib/aws-events';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { CairnData } from './data.js';
import type { CairnFunctions } from './functions.js';
import type { CairnMessaging } from './messaging.js';
import type { CairnStateMachines } from './state-machines.js';

export interface CairnApiProps {
  readonly functions: CairnFunctions;
  readonly data: CairnData;
  readonly stateMachines: CairnStateMachines;
  readonly messaging: CairnMessaging;
  readonly bus: events.IEventBus;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  readonly writeKeySha256: readonly string[];
  readonly throttle: { rateLimit: number; burstLimit: number };
  readonly userPool?: cognito.IUserPool;
  readonly userPoolClient?: cognito.IUserPoolClient;
  readonly machineAccess?: { domainPrefix: string };
}

/**
 * API and auth: the HTTP API (marketer routes behind Cognito JWTs, `/v1/*` behind the write-key
 * authorizer, the public unsubscribe link), the api and authorizer Lambdas, the marketers' user pool
 * and its clients, and the access log.
 */
export class CairnApi extends Construct {
  readonly api: NodejsFunction;
  readonly authorizer: NodejsFunction;
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  /** Routes served without sign-in: only the unsubscribe link. */
  readonly publicRoutes: readonly HttpRoute[];
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
  readonly machineClient?: cognito.UserPoolClient;
  readonly userPoolDomain?: cognito.UserPoolDomain;

  constructor(scope: Construct, id: string, props: CairnApiProps) {
    super(scope, id);
    this.api = props.functions.create(this, 'api', {
      timeout: 15,
      environment: props.stateMachines.environment,
    });
    this.authorizer = props.functions.create(this, 'authorizer', {
      timeout: 5,
      memorySize: 256,
      environment: { CAIRN_WRITE_KEY_SHA256: props.writeKeySha256.join(',') },
    });
    // Only the api may Scan (segment broadcasts and exports walk the profiles).
    props.data.grantItems(this.api, { scan: true });
    props.data.tables.Journeys.grant(this.authorizer, 'dynamodb:GetItem');
    props.data.grantKey(this.authorizer, 'read');
    props.bus.grantPutEventsTo(this.api);
    props.messaging.grantUnsubscribeKey(this.api);
    props.stateMachines.grantExecutionControl(this.api);
    props.stateMachines.grantPublish(this.api);

    this.userPool = props.userPool ?? this.marketerPool(props.removalPolicy);
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

    const integration = new HttpLambdaIntegration('Api', this.api);
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
      authorizer: new HttpLambdaAuthorizer('WriteKey', this.authorizer, {
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
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'ApiStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
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
}
