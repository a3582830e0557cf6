import { createHash } from 'node:crypto';
import { Aws, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
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
  readonly dashboard?: CairnDashboardSignIn;
}

/** How marketers sign in to the dashboard (`<api url>app/`) on AWS. */
export interface CairnDashboardSignIn {
  /**
   * Cognito domain prefix of the hosted sign-in page (`<prefix>.auth.<region>.amazoncognito.com`),
   * unique per region. With the user pool Cairn creates.
   * @default `machineAccess.domainPrefix`, else `cairn-<account>-<8 hex digits of the stack and path>`
   */
  readonly domainPrefix?: string;
  /** Where the dashboard is opened (its sign-in callback and sign-out URLs). @default [`<api url>app/`] */
  readonly urls?: readonly string[];
  /**
   * With your own `userPool`: the base URL of its sign-in domain (`https://….amazoncognito.com`); its
   * `userPoolClient` must allow the authorization code grant with `urls` as callback URLs.
   * @default none: the dashboard cannot sign in on AWS
   */
  readonly signInUrl?: string;
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
  /** Routes served without sign-in: the unsubscribe link. */
  readonly publicRoutes: readonly HttpRoute[];
  /** The dashboard's static files (`GET /app`, `GET /app/{file}`), served without sign-in: they hold no data. */
  readonly dashboardRoutes: readonly HttpRoute[];
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
  readonly machineClient?: cognito.UserPoolClient;
  readonly userPoolDomain?: cognito.UserPoolDomain;

  constructor(scope: Construct, id: string, props: CairnApiProps) {
    super(scope, id);
    this.api = props.functions.create(this, 'api', {
      timeout: 15,
      environment: props.stateMachines.environment,
      // The dashboard (`GET /app/`), built by functions/api/app/build.ts into `app/` next to the handler.
      afterBundling: (outputDir) => [`node --import tsx functions/api/app/build.ts "${outputDir}/app"`],
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
    // The dashboard's URLs are the API's, known only once the HTTP API exists (created below, after
    // the clients its authorizer names): a lazy value, resolved at synthesis.
    let dashboardUrls: readonly string[] = [];
    const urls = Lazy.list({ produce: () => [...dashboardUrls] });
    if (!props.userPool) {
      const prefix =
        props.machineAccess?.domainPrefix ?? props.dashboard?.domainPrefix ?? this.defaultDomainPrefix();
      this.userPoolDomain = (this.userPool as cognito.UserPool).addDomain('Domain', {
        cognitoDomain: { domainPrefix: prefix },
      });
    }
    this.userPoolClient =
      props.userPoolClient ??
      (this.userPool as cognito.UserPool).addClient('Dashboard', {
        authFlows: { userSrp: true },
        // The dashboard signs in on Cognito's hosted page (password, first-login password change, TOTP
        // set-up and MFA all there) with the authorization code grant and PKCE; no implicit grant.
        oAuth: {
          flows: { authorizationCodeGrant: true },
          scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
          callbackUrls: urls,
          logoutUrls: urls,
        },
        supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
        generateSecret: false,
        preventUserExistenceErrors: true,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
      });
    const apiClients = [this.userPoolClient];
    if (props.machineAccess) {
      const pool = this.userPool as cognito.UserPool;
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
    // The dashboard: static files only (every number comes from the API with the signed-in token).
    this.dashboardRoutes = [
      ...this.httpApi.addRoutes({
        path: '/app',
        methods: [HttpMethod.GET],
        integration,
        authorizer: new HttpNoneAuthorizer(),
      }),
      ...this.httpApi.addRoutes({
        path: '/app/{file}',
        methods: [HttpMethod.GET],
        integration,
        authorizer: new HttpNoneAuthorizer(),
      }),
    ];
    dashboardUrls = props.dashboard?.urls ?? [`${this.httpApi.apiEndpoint}/app/`];
    const signInUrl = this.userPoolDomain?.baseUrl() ?? props.dashboard?.signInUrl;
    if (signInUrl) {
      this.api.addEnvironment('CAIRN_SIGN_IN_URL', signInUrl);
      this.api.addEnvironment('CAIRN_SIGN_IN_CLIENT_ID', this.userPoolClient.userPoolClientId);
    }
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

  /** `cairn-<account>-<8 hex>`: unique per account, stack and place in the app (prefixes are global per region). */
  private defaultDomainPrefix(): string {
    const where = createHash('sha256')
      .update(`${Stack.of(this).stackName}/${this.node.path}`)
      .digest('hex');
    return `cairn-${Aws.ACCOUNT_ID}-${where.slice(0, 8)}`;
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
