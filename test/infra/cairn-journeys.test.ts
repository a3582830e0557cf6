import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Match } from 'aws-cdk-lib/assertions';
import { itemActions } from '../../infra/aws/cairn-journeys.js';
import { acceptedFindings } from '../../infra/aws/nag-suppressions.js';
import { busRules, feedbackRuleFor, ingestRule, segmentTypes, unroutedRule } from '../../shared/routing.js';
import { tables } from '../../shared/store/tables.js';
import { fixtureJourneys, logicalIdOf, resourcesOf, synthCairn } from './synth.js';

// One synthesis for the whole file: the default (AWS-managed encryption) stack with the fixture journey.
const synth = synthCairn();
const { stack, template, json } = synth;
after(() => rmSync(synth.outdir, { recursive: true, force: true }));
const cairn = stack.cairn;
const ref = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: logicalIdOf(stack, construct) });
const arnOf = (construct: { node: { defaultChild?: unknown } }) => ({
  'Fn::GetAtt': [logicalIdOf(stack, construct), 'Arn'],
});

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
/** The statements of the policies attached to a role, or to a function's role. */
const policiesOf = (owner: {
  node: { defaultChild?: unknown };
  role?: { node: { defaultChild?: unknown } };
}): Statement[] => {
  const roleId = logicalIdOf(stack, owner.role ?? owner);
  return resourcesOf(json, 'AWS::IAM::Policy')
    .filter(([, policy]) => JSON.stringify(policy.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
};
const allStatements = resourcesOf(json, 'AWS::IAM::Policy').flatMap(
  ([, policy]) => (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
);

test('synthesizes without errors', () => {
  assert.equal(synth.error, undefined, synth.error?.message);
});

describe('event bus', () => {
  test('is named cairn and archives its events for replay', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'cairn' });
    template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: arnOf(cairn.bus),
      RetentionDays: 90,
    });
  });

  for (const rule of busRules) {
    test(`rule ${rule.name} uses the shared pattern verbatim and targets an encrypted SQS buffer with a DLQ`, () => {
      const { queue, deadLetterQueue, rule: eventRule } = cairn.buffers[rule.target];
      const [, resource] = resourcesOf(json, 'AWS::Events::Rule').find(
        ([id]) => id === logicalIdOf(stack, eventRule),
      )!;
      // The feedback rule names the configuration set CDK creates (a Ref) where the local one says `cairn`.
      const expected =
        rule.target === 'feedback'
          ? feedbackRuleFor({ email: ref(cairn.configurationSet) as unknown as string }).eventPattern
          : rule.eventPattern;
      assert.deepEqual(resource.Properties?.EventPattern, expected);
      // SES can only publish to the default bus; Segment events arrive on the Cairn bus.
      assert.deepEqual(
        resource.Properties?.EventBusName,
        rule.target === 'feedback' ? 'default' : ref(cairn.bus),
      );
      assert.deepEqual(resource.Properties?.Targets, [
        { Arn: arnOf(queue), Id: 'Target0', DeadLetterConfig: { Arn: arnOf(deadLetterQueue) } },
      ]);
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: Match.absent(),
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: arnOf(deadLetterQueue), maxReceiveCount: rule.maxReceiveCount },
        // Six times the function timeout (30 s): a slow batch is never handed to a second poller.
        VisibilityTimeout: 180,
      });
    });

    test(`the ${rule.target} Lambda reads its queue in batches of ${rule.batchSize}, reports partial failures, bounded`, () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arnOf(cairn.buffers[rule.target].queue),
        FunctionName: ref(cairn.functions[rule.target]),
        BatchSize: rule.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 10 },
      });
    });

    test(`an alarm fires on the first message in the ${rule.target} DLQ`, () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: {
              'Fn::GetAtt': [logicalIdOf(stack, cairn.buffers[rule.target].deadLetterQueue), 'QueueName'],
            },
          },
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });
  }

  test('every queue is encrypted and refuses plain HTTP', () => {
    const queues = resourcesOf(json, 'AWS::SQS::Queue');
    // A buffer and its DLQ per rule, ingest's per-person FIFO queue and its DLQ, the broadcast slot queue and its DLQ.
    assert.equal(queues.length, busRules.length * 2 + 4);
    for (const [, queue] of queues) assert.equal(queue.Properties?.SqsManagedSseEnabled, true);
    const policies = resourcesOf(json, 'AWS::SQS::QueuePolicy');
    for (const [id] of queues) {
      const policy = policies.find(([, p]) => JSON.stringify(p.Properties?.Queues).includes(id));
      assert.ok(policy, `${id} has a queue policy`);
      assert.match(JSON.stringify(policy[1].Properties?.PolicyDocument), /"aws:SecureTransport":"false"/);
    }
  });
});

describe('DynamoDB tables from shared/store/tables.ts', () => {
  for (const definition of tables) {
    test(`${definition.logicalName}: keys, on-demand, PITR, TTL, encryption, deletion protection`, () => {
      const table = cairn.tables[definition.logicalName];
      const [, resource] = resourcesOf(json, 'AWS::DynamoDB::Table').find(
        ([id]) => id === logicalIdOf(stack, table),
      )!;
      assert.deepEqual(resource.Properties?.KeySchema, [
        { AttributeName: definition.partitionKey, KeyType: 'HASH' },
        { AttributeName: definition.sortKey, KeyType: 'RANGE' },
      ]);
      assert.equal(resource.Properties?.BillingMode, 'PAY_PER_REQUEST');
      assert.deepEqual(resource.Properties?.PointInTimeRecoverySpecification, {
        PointInTimeRecoveryEnabled: true,
      });
      assert.deepEqual(resource.Properties?.TimeToLiveSpecification, {
        AttributeName: definition.ttlAttribute,
        Enabled: true,
      });
      assert.deepEqual(resource.Properties?.SSESpecification, { SSEEnabled: true });
      assert.equal(resource.Properties?.DeletionProtectionEnabled, true);
      assert.equal(resource.DeletionPolicy, 'Retain');
      assert.equal(resource.UpdateReplacePolicy, 'Retain');
      assert.equal(
        ((resource.Properties?.GlobalSecondaryIndexes as unknown[] | undefined) ?? []).length,
        definition.globalSecondaryIndexes.length,
      );
    });
  }
});

describe('Lambda functions', () => {
  test('seven functions, the catalog provider and the broadcast Lambda on nodejs22.x arm64, ESM bundles, each with its own log group and role', () => {
    const functions = resourcesOf(json, 'AWS::Lambda::Function');
    assert.equal(functions.length, 9);
    for (const [id, fn] of functions) {
      assert.equal(fn.Properties?.Runtime, 'nodejs22.x', id);
      assert.deepEqual(fn.Properties?.Architectures, ['arm64'], id);
      assert.equal(fn.Properties?.Handler, 'index.handler', id);
      assert.ok(
        (fn.Properties?.LoggingConfig as { LogGroup?: unknown })?.LogGroup,
        `${id} logs to its own group`,
      );
    }
    template.resourceCountIs('AWS::IAM::Role', 11); // nine functions + the journey execution role + the scheduler role
  });

  test('handlers get table names from the shared definitions, the sender, the bus and the journey settings', () => {
    const env = (fn: { node: { defaultChild?: unknown } }) => {
      const [, resource] = resourcesOf(json, 'AWS::Lambda::Function').find(
        ([id]) => id === logicalIdOf(stack, fn),
      )!;
      return (resource.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    };
    for (const fn of Object.values(cairn.functions)) {
      const variables = env(fn);
      for (const definition of tables) {
        assert.deepEqual(variables[definition.envVar], ref(cairn.tables[definition.logicalName]));
      }
      assert.equal(variables.CAIRN_EMAIL_FROM, 'Cairn <journeys@example.com>');
      assert.deepEqual(variables.CAIRN_BUS_NAME, ref(cairn.bus));
      assert.equal(variables.CAIRN_STATE_MACHINE_PREFIX, 'cairn-');
      assert.equal(variables.CAIRN_AUTH, 'cloud');
    }
    const api = env(cairn.functions.api);
    assert.deepEqual(api.CAIRN_STEP_FUNCTION_ARN, arnOf(cairn.functions.step));
    assert.deepEqual(api.CAIRN_STATE_MACHINE_ROLE_ARN, arnOf(cairn.journeyRole));
  });

  test('errors and throttles of every function raise alarms', () => {
    for (const fn of Object.values(cairn.functions)) {
      for (const metric of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: ref(fn) }],
        });
      }
    }
  });
});

describe('journeys deployed from code', () => {
  const asl = readFileSync(join(fixtureJourneys, 'welcome.asl.json'), 'utf8');
  const journey = cairn.journeys.find((j) => j.id === 'welcome')!;

  test('one state machine per journey with the checked-in ASL verbatim and the step Lambda substituted', () => {
    assert.equal(cairn.journeys.length, 1);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'cairn-welcome',
      StateMachineType: 'STANDARD',
      DefinitionString: asl,
      DefinitionSubstitutions: { StepFunctionArn: arnOf(cairn.functions.step) },
      RoleArn: arnOf(cairn.journeyRole),
      LoggingConfiguration: {
        Level: 'ERROR',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: arnOf(cairn.journeyLogGroup) } }],
      },
    });
  });

  test('a version publishes the deployed revision and the alias routes 100% of new entries to it', () => {
    const versionId = journey.version.logicalId;
    const version = json.Resources[stack.resolve(versionId) as string]!;
    assert.deepEqual(version.Properties?.StateMachineArn, ref(journey.stateMachine));
    assert.deepEqual(version.Properties?.StateMachineRevisionId, {
      'Fn::GetAtt': [logicalIdOf(stack, journey.stateMachine), 'StateMachineRevisionId'],
    });
    // The description names the definition, so a changed journey shows up in `cdk diff` as a new version.
    const sha = createHash('sha256').update(asl).digest('hex');
    assert.ok(String(version.Properties?.Description).includes(sha));
    template.hasResourceProperties('AWS::StepFunctions::StateMachineAlias', {
      Name: 'live',
      RoutingConfiguration: [
        { StateMachineVersionArn: { 'Fn::GetAtt': [stack.resolve(versionId), 'Arn'] }, Weight: 100 },
      ],
    });
  });

  test('the journey role may invoke only the step Lambda (and write its logs)', () => {
    const statements = policiesOf(cairn.journeyRole);
    const invoke = statements.filter((s) => list(s.Action).some((a) => a.startsWith('lambda:')));
    assert.deepEqual(invoke, [
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: [arnOf(cairn.functions.step), { 'Fn::Join': ['', [arnOf(cairn.functions.step), ':*']] }],
      },
    ]);
    for (const s of statements) {
      for (const action of list(s.Action)) assert.match(action, /^(lambda:InvokeFunction|logs:[A-Za-z]+)$/);
    }
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'states.amazonaws.com' } })],
      }),
    });
  });

  test('failed executions of each journey raise an alarm', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: ref(journey.stateMachine) }],
    });
  });
});

describe('least privilege', () => {
  test('no policy grants a wildcard action', () => {
    for (const statement of allStatements) {
      for (const action of list(statement.Action))
        assert.doesNotMatch(action, /\*/, JSON.stringify(statement));
    }
  });

  test('"*" resources only for actions IAM cannot scope (task tokens, ListStateMachines, log delivery)', () => {
    const unscopable =
      /^(states:SendTask(Success|Failure|Heartbeat)|states:ListStateMachines|logs:(Create|Get|Update|Delete|List)LogDeliver(y|ies)|logs:(PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;
    for (const statement of allStatements.filter((s) => list(s.Resource).includes('*'))) {
      for (const action of list(statement.Action)) assert.match(action, unscopable);
    }
  });

  test('DynamoDB access is per table, item-level actions only', () => {
    const tableArns = Object.values(cairn.tables).flatMap((table) => [
      JSON.stringify(arnOf(table)),
      // A table's own indexes (segments Query the Profiles table's sparse indexes).
      JSON.stringify({ 'Fn::Join': ['', [arnOf(table), '/index/*']] }),
    ]);
    const dynamo = allStatements.filter((s) => list(s.Action).some((a) => a.startsWith('dynamodb:')));
    assert.ok(dynamo.length > 0);
    for (const statement of dynamo) {
      for (const resource of list(statement.Resource))
        assert.ok(tableArns.includes(JSON.stringify(resource)));
      for (const action of list(statement.Action)) {
        assert.ok([...itemActions, 'dynamodb:Scan'].includes(action as (typeof itemActions)[number]), action);
      }
    }
    // The authorizer only reads write keys.
    const authorizer = policiesOf(cairn.functions.authorizer).filter((s) =>
      list(s.Action).some((a) => a.startsWith('dynamodb:')),
    );
    assert.equal(authorizer.length, 1);
    assert.equal(authorizer[0]?.Action, 'dynamodb:GetItem');
    for (const resource of list(authorizer[0]?.Resource))
      assert.ok(
        [
          JSON.stringify(arnOf(cairn.tables.Journeys)),
          JSON.stringify({ 'Fn::Join': ['', [arnOf(cairn.tables.Journeys), '/index/*']] }),
        ].includes(JSON.stringify(resource)),
        JSON.stringify(resource),
      );
  });

  test('only the api publishes journeys, scoped to the name prefix, passing only the journey role', () => {
    const stateMachines = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':states:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':stateMachine:cairn-*',
        ],
      ],
    };
    const publish = policiesOf(cairn.functions.api).find((s) => s.Sid === 'CairnPublishJourneys')!;
    assert.deepEqual(publish.Resource, stateMachines);
    for (const action of [
      'states:CreateStateMachine',
      'states:UpdateStateMachine',
      'states:PublishStateMachineVersion',
      'states:CreateStateMachineAlias',
      'states:UpdateStateMachineAlias',
    ]) {
      assert.ok(list(publish.Action).includes(action), action);
    }
    const pass = policiesOf(cairn.functions.api).find((s) => list(s.Action).includes('iam:PassRole'))!;
    assert.deepEqual(pass.Resource, arnOf(cairn.journeyRole));
    assert.deepEqual(pass.Condition, { StringEquals: { 'iam:PassedToService': 'states.amazonaws.com' } });
    for (const fn of [
      cairn.functions.ingest,
      cairn.functions.step,
      cairn.functions.feedback,
      cairn.functions.authorizer,
    ]) {
      for (const s of policiesOf(fn)) {
        assert.ok(!list(s.Action).some((a) => /CreateStateMachine|UpdateStateMachine|iam:PassRole/.test(a)));
      }
    }
    const start = policiesOf(cairn.functions.ingest).find((s) => s.Sid === 'CairnExecutions')!;
    assert.deepEqual(start, {
      Sid: 'CairnExecutions',
      Action: 'states:StartExecution',
      Effect: 'Allow',
      Resource: stateMachines,
    });
  });

  test('only the api, ingest, lifecycle and step (derived events) and the segments worker (backfill pages) may put events, and only on the Cairn bus', () => {
    const puts = allStatements.filter((s) => list(s.Action).includes('events:PutEvents'));
    const statement = { Action: 'events:PutEvents', Effect: 'Allow', Resource: arnOf(cairn.bus) };
    assert.deepEqual(puts, [statement, statement, statement, statement, statement]);
    for (const fn of [
      cairn.functions.api,
      cairn.functions.ingest,
      cairn.functions.segments,
      cairn.functions.step,
    ])
      assert.ok(policiesOf(fn).some((s) => list(s.Action).includes('events:PutEvents')));
  });

  test('only the step Lambda sends email: from the configured address, through the identity and configuration set', () => {
    const sends = allStatements.filter((s) => list(s.Action).some((a) => a.startsWith('ses:')));
    assert.equal(sends.length, 1);
    assert.deepEqual(
      sends,
      policiesOf(cairn.functions.step).filter((s) => list(s.Action).includes('ses:SendEmail')),
    );
    assert.deepEqual(sends[0]!.Condition, { StringEquals: { 'ses:FromAddress': 'journeys@example.com' } });
    assert.match(JSON.stringify(sends[0]!.Resource), /:identity\/example\.com"/);
    assert.match(JSON.stringify(sends[0]!.Resource), /configuration-set\//);
  });
});

describe('email feedback', () => {
  test('the SES configuration set sends delivery, bounce, complaint, open, click and failure events to EventBridge', () => {
    template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
    });
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      ConfigurationSetName: ref(cairn.configurationSet),
      EventDestination: {
        Enabled: true,
        MatchingEventTypes: [
          'delivery',
          'bounce',
          'complaint',
          'open',
          'click',
          'reject',
          'renderingFailure',
        ],
        EventBridgeDestination: {
          EventBusArn: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':event-bus/default'])] }),
        },
      },
    });
  });
});

describe('HTTP API', () => {
  test('marketer routes need a Cognito JWT; /v1/* needs a write key checked by the authorizer Lambda', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$default',
      AuthorizationType: 'JWT',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /v1/{proxy+}',
      AuthorizationType: 'CUSTOM',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Audience: [ref(cairn.userPoolClient)] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 60,
    });
    // $default (JWT), POST /v1/{proxy+} (write key), GET|POST /unsubscribe, GET /app, GET /app/{file}.
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 6);
  });

  test('only the unsubscribe link and the dashboard files work without sign-in, and emails point at the link', () => {
    const open = resourcesOf(json, 'AWS::ApiGatewayV2::Route').filter(
      ([, route]) => route.Properties?.AuthorizationType === 'NONE',
    );
    assert.deepEqual(open.map(([, route]) => route.Properties?.RouteKey).sort(), [
      'GET /app',
      'GET /app/{file}',
      'GET /unsubscribe',
      'POST /unsubscribe',
    ]);
    const [, step] = resourcesOf(json, 'AWS::Lambda::Function').find(
      ([id]) => id === logicalIdOf(stack, cairn.functions.step),
    )!;
    const variables = (step.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    assert.match(JSON.stringify(variables.CAIRN_UNSUBSCRIBE_URL), /execute-api.*unsubscribe/);
  });

  test('the stage is throttled and writes access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });

  test('the dashboard signs in on the hosted page with the code grant (PKCE, no secret, no implicit grant), back to <api>/app/', () => {
    const appUrl = { 'Fn::Join': ['', [Match.anyValue(), '/app/']] };
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email'],
      SupportedIdentityProviders: ['COGNITO'],
      CallbackURLs: [appUrl],
      LogoutURLs: [appUrl],
      PreventUserExistenceErrors: 'ENABLED',
    });
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: {
        'Fn::Join': ['', ['cairn-', { Ref: 'AWS::AccountId' }, Match.stringLikeRegexp('^-[0-9a-f]{8}$')]],
      },
    });
  });

  test('the api Lambda serves the dashboard it carries, and tells it where marketers sign in', () => {
    const [, api] = resourcesOf(json, 'AWS::Lambda::Function').find(
      ([id]) => id === logicalIdOf(stack, cairn.functions.api),
    )!;
    const variables = (api.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    assert.match(JSON.stringify(variables.CAIRN_SIGN_IN_URL), /auth\..*amazoncognito\.com/);
    assert.deepEqual(variables.CAIRN_SIGN_IN_CLIENT_ID, ref(cairn.userPoolClient));
    const key = JSON.stringify((api.Properties!.Code as { S3Key: unknown }).S3Key);
    const asset = `asset.${/([0-9a-f]{64})\.zip/.exec(key)![1]}`;
    for (const file of ['index.mjs', 'app/index.html', 'app/app.js', 'app/app.css']) {
      assert.ok(existsSync(join(synth.outdir, asset, file)), `${file} in the api bundle`);
    }
  });

  test('marketers sign in with MFA, admins create the accounts', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12 }) },
    });
  });
});

describe('operations', () => {
  test('Step Functions API throttling (StartExecution, SendTaskSuccess) raises alarms', () => {
    for (const apiName of ['StartExecution', 'SendTaskSuccess']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: 'ThrottledEvents',
        Dimensions: [{ Name: 'APIName', Value: apiName }],
      });
    }
  });

  test('the stack outputs what the deploy guide uses', () => {
    const outputs = Object.keys((synth.json as unknown as { Outputs: Record<string, unknown> }).Outputs);
    for (const name of [
      'ApiUrl',
      'BusName',
      'UserPoolId',
      'UserPoolClientId',
      'ConfigurationSet',
      'ProfilesTableName',
      'JourneysTableName',
      'IngestLogGroupName',
      'IngestDeadLetterQueueUrl',
      'DashboardName',
      'DashboardUrl',
    ]) {
      assert.ok(outputs.includes(name), name);
    }
    assert.ok(!outputs.includes('TokenUrl'), 'no machine access unless asked for');
  });

  test('a dashboard shows the alarms, functions, queues, executions, API and tables', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const [, dashboard] = resourcesOf(json, 'AWS::CloudWatch::Dashboard')[0]!;
    const body = JSON.stringify(dashboard.Properties?.DashboardBody);
    for (const title of [
      'Cairn alarms',
      'Lambda invocations',
      'Dead-letter queues',
      'Journey executions',
      'HTTP API',
    ]) {
      assert.ok(body.includes(title), title);
    }
  });

  test('every log group has a retention', () => {
    for (const [id, group] of resourcesOf(json, 'AWS::Logs::LogGroup')) {
      assert.equal(group.Properties?.RetentionInDays, 30, id);
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  const nag = synth.report.pluginReports.find((report) => report.pluginName === 'AwsSolutions');

  test('runs, and finds no unacknowledged error or warning', () => {
    assert.ok(nag, 'the AwsSolutions plugin reported');
    assert.deepEqual(
      nag.violations.map(
        (v) => `${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`,
      ),
      [],
    );
    assert.equal(nag.conclusion, 'success');
  });

  test('every acknowledgement in infra/aws/nag-suppressions.ts matches a real finding (none is stale)', () => {
    const suppressed = nag?.suppressedViolations ?? [];
    for (const { construct, id } of acceptedFindings(cairn)) {
      assert.ok(
        suppressed.some(
          (v) => v.acknowledgedId === `AwsSolutions::${id}` && v.acknowledgedAt === construct.node.path,
        ),
        `${id} at ${construct.node.path} suppresses nothing`,
      );
    }
  });

  test('every acknowledged finding carries a written reason', () => {
    assert.ok(nag && (nag.suppressedViolations ?? []).length > 0);
    for (const violation of nag.suppressedViolations ?? []) {
      assert.ok((violation.reason ?? '').length >= 40, `${violation.ruleName}: "${violation.reason}"`);
    }
  });
});

test('segment types route to ingest through the Cairn bus', () => {
  assert.deepEqual(busRules.find((r) => r.target === 'ingest')?.eventPattern, {
    'detail-type': [...segmentTypes],
  });
});

test('every other DetailType on the Cairn bus goes to the ingest queue too (dead letters with the reason)', () => {
  const events = cairn.parts.events;
  const [, resource] = resourcesOf(json, 'AWS::Events::Rule').find(
    ([id]) => id === logicalIdOf(stack, events.unroutedRule),
  )!;
  // Segment backfill pages have their own rule and queue (segmentsRule).
  assert.deepEqual(resource.Properties?.EventPattern, {
    'detail-type': [{ 'anything-but': [...segmentTypes, 'Segment Backfill Page'] }],
  });
  assert.deepEqual(resource.Properties?.EventPattern, unroutedRule.eventPattern);
  assert.deepEqual(resource.Properties?.EventBusName, ref(cairn.bus));
  assert.deepEqual(resource.Properties?.Targets, [
    {
      Arn: arnOf(events.ingestBuffer.queue),
      Id: 'Target0',
      DeadLetterConfig: { Arn: arnOf(events.ingestBuffer.deadLetterQueue) },
    },
  ]);
});

test('ingest reads a FIFO queue with a message group per person, which it fills from the rule buffer', () => {
  const events = cairn.parts.events;
  template.hasResourceProperties('AWS::SQS::Queue', {
    FifoQueue: true,
    FifoThroughputLimit: 'perMessageGroupId',
    DeduplicationScope: 'messageGroup',
    RedrivePolicy: {
      deadLetterTargetArn: arnOf(events.orderedDeadLetterQueue),
      maxReceiveCount: ingestRule.maxReceiveCount,
    },
  });
  for (const queue of [events.ingestBuffer.queue, events.orderedQueue]) {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(queue),
      FunctionName: ref(cairn.functions.ingest),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  }
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: {
      Variables: Match.objectLike({
        CAIRN_INGEST_ORDERED_QUEUE_URL: { Ref: logicalIdOf(stack, events.orderedQueue) },
      }),
    },
  });
});

test("an alarm fires on the first message in ingest's FIFO DLQ, and on a FIFO backlog older than 5 minutes", () => {
  const events = cairn.parts.events;
  const queueAlarm = (queue: { node: { defaultChild?: unknown } }, metric: string, threshold: number) =>
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: metric,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(stack, queue), 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  queueAlarm(events.orderedDeadLetterQueue, 'ApproximateNumberOfMessagesVisible', 1);
  queueAlarm(events.orderedQueue, 'ApproximateAgeOfOldestMessage', 300);
});

describe('deployed journeys are live at once: a catalog entry per journey (Custom::CairnJourney)', () => {
  const journey = cairn.journeys.find((j) => j.id === 'welcome')!;
  const deploy = cairn.deployFunction!;
  const entries = resourcesOf(json, 'Custom::CairnJourney');

  test('one per journey, provided by the deploy Lambda, carrying the version, state machine and alias ARNs', () => {
    assert.equal(entries.length, cairn.journeys.length);
    const [id, entry] = entries[0]!;
    assert.equal(id, logicalIdOf(stack, journey.catalogEntry));
    const props = entry.Properties!;
    assert.deepEqual(props.ServiceToken, arnOf(deploy));
    assert.equal(props.JourneyId, 'welcome');
    assert.deepEqual(props.VersionArn, { 'Fn::GetAtt': [stack.resolve(journey.version.logicalId), 'Arn'] });
    assert.deepEqual(props.StateMachineArn, ref(journey.stateMachine));
    assert.deepEqual(props.AliasArn, { 'Fn::GetAtt': [stack.resolve(journey.alias.logicalId), 'Arn'] });
    assert.deepEqual(props.StepFunctionArn, arnOf(cairn.functions.step));
    assert.equal(JSON.parse(String(props.Definition)).trigger.event, 'Signed Up');
    const asl = readFileSync(join(fixtureJourneys, 'welcome.asl.json'), 'utf8');
    assert.equal(gunzipSync(Buffer.from(String(props.AslGzip), 'base64')).toString('utf8'), asl);
    assert.deepEqual(
      JSON.parse(String(props.Templates)).map((t: { id: string }) => t.id),
      ['welcome'],
    );
    assert.match(String(props.Hash), /^[0-9a-f]{64}$/);
  });

  test('the deploy Lambda may only read and write items of the Journeys table (and its own logs)', () => {
    const statements = policiesOf(deploy);
    const dynamo = statements.filter((s) => list(s.Action).some((a) => a.startsWith('dynamodb:')));
    assert.deepEqual(dynamo, [
      {
        Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'],
        Effect: 'Allow',
        Resource: [
          arnOf(cairn.tables.Journeys),
          { 'Fn::Join': ['', [arnOf(cairn.tables.Journeys), '/index/*']] },
        ],
      },
    ]);
    for (const s of statements) {
      for (const action of list(s.Action))
        assert.match(action, /^(dynamodb:(GetItem|Query|PutItem)|logs:(CreateLogStream|PutLogEvents))$/);
    }
  });
});

describe('unsubscribe links', () => {
  test('the HMAC key is a generated secret that only the step and api Lambdas may read, by ARN', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 48 }),
    });
    const secretRef = ref(cairn.unsubscribeSecret);
    const readers = resourcesOf(json, 'AWS::IAM::Policy').filter(([, policy]) =>
      JSON.stringify(policy.Properties?.PolicyDocument).includes(JSON.stringify(secretRef)),
    );
    const roles = readers.flatMap(([, policy]) => policy.Properties?.Roles as unknown[]);
    assert.deepEqual(
      roles.map((role) => JSON.stringify(role)).sort(),
      [cairn.functions.api, cairn.functions.step].map((fn) => JSON.stringify(ref(fn.role!))).sort(),
    );
    for (const fn of [cairn.functions.api, cairn.functions.step]) {
      const [, resource] = resourcesOf(json, 'AWS::Lambda::Function').find(
        ([id]) => id === logicalIdOf(stack, fn),
      )!;
      const variables = (resource.Properties!.Environment as { Variables: Record<string, unknown> })
        .Variables;
      assert.deepEqual(variables.CAIRN_UNSUBSCRIBE_SECRET_ARN, secretRef);
      assert.equal(variables.CAIRN_UNSUBSCRIBE_SECRET, undefined, 'never the secret itself');
    }
  });
});

describe('the construct is built from parts by concern', () => {
  test('each part holds its concern: bus in events, step in state machines, user pool in api, alarms in observability', () => {
    const { parts } = cairn;
    assert.equal(cairn.bus.node.scope, parts.events);
    assert.equal(cairn.functions.ingest.node.scope, parts.events);
    assert.equal(cairn.functions.step.node.scope, parts.stateMachines);
    assert.equal(cairn.functions.feedback.node.scope, parts.messaging);
    assert.equal(cairn.userPool.node.scope, parts.api);
    assert.equal(cairn.tables.Profiles.node.scope, parts.data);
    assert.ok(cairn.alarms.length > 0 && cairn.alarms.every((a) => a.node.scope === parts.observability));
  });

  test('parts do not show in logical ids: every resource keeps the id it had before the split (no replacement)', () => {
    // Recorded from the template before the parts existed. Three ids CDK derives from another
    // construct's path did change (the two SQS event source mappings, the write-key authorizer's
    // invoke permission): stateless, CloudFormation creates the new one before deleting the old.
    const before = JSON.parse(
      readFileSync(join(import.meta.dirname, 'fixtures', 'logical-ids.json'), 'utf8'),
    ) as Record<string, string>;
    const missing = Object.entries(before).filter(([id, type]) => json.Resources[id]?.Type !== type);
    assert.deepEqual(missing, []);
  });
});

describe('broadcasts: EventBridge Scheduler → broadcast Lambda → slot queue (+ DLQ) → broadcast Lambda', () => {
  const { broadcasts } = cairn.parts;

  test('the scheduler role is assumable by EventBridge Scheduler for this account only, and invokes only the broadcast Lambda', () => {
    const role = json.Resources[logicalIdOf(stack, broadcasts.schedulerRole)]!;
    const trust = (role.Properties!.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
    assert.deepEqual(trust[0]!.Condition, {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    });
    const statements = policiesOf(broadcasts.schedulerRole);
    assert.deepEqual(
      statements.map((s) => [list(s.Action), s.Resource]),
      [
        [
          ['lambda:InvokeFunction'],
          [arnOf(broadcasts.fn), { 'Fn::Join': ['', [arnOf(broadcasts.fn), ':*']] }],
        ],
      ],
    );
  });

  test("the api and broadcast Lambdas may write and delete schedules only in Cairn's schedule group, and pass only the scheduler role", () => {
    for (const fn of [cairn.functions.api, broadcasts.fn]) {
      const statements = policiesOf(fn);
      const scheduler = statements.filter((s) => list(s.Action).some((a) => a.startsWith('scheduler:')));
      assert.ok(scheduler.length > 0);
      for (const s of scheduler) assert.match(JSON.stringify(s.Resource), /:schedule\/.*\/\*/);
      const pass = statements.find((s) => s.Sid === 'CairnPassSchedulerRole')!;
      assert.deepEqual(pass.Resource, arnOf(broadcasts.schedulerRole));
      assert.deepEqual(pass.Condition, {
        StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
      });
    }
  });

  test('slots go through an encrypted queue with a DLQ after 5 receives, one slot per invocation, alarmed', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: arnOf(broadcasts.deadLetterQueue), maxReceiveCount: 5 },
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 1800,
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(broadcasts.queue),
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const alarmIds = cairn.alarms.map((a) => a.node.id);
    for (const id of ['BroadcastDeadLetterAlarm', 'BroadcastBacklogAlarm', 'BroadcastErrorsAlarm'])
      assert.ok(alarmIds.includes(id), id);
  });
});

describe('segments', () => {
  test('the backfill queue (DLQ, backlog) and the segments worker (errors, throttles, window-timer poll) are alarmed', () => {
    const alarmIds = cairn.alarms.map((a) => a.node.id);
    for (const id of [
      'SegmentsDeadLetterAlarm',
      'SegmentsBacklogAlarm',
      'SegmentsErrorsAlarm',
      'SegmentsThrottlesAlarm',
    ])
      assert.ok(alarmIds.includes(id), id);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: Match.arrayWith([
        Match.objectLike({ Arn: arnOf(cairn.functions.segments), Input: JSON.stringify({ kind: 'timers' }) }),
      ]),
    });
  });
});
