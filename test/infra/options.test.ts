import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { LogLevel } from 'aws-cdk-lib/aws-stepfunctions';
import { CairnJourneys, emailAddress } from '../../infra/aws/cairn-journeys.js';
import { readCheckedInJourneys } from '../../infra/aws/journey-definitions.js';
import { aslPlaceholders } from '../../shared/journeys/asl.js';
import { tables } from '../../shared/store/tables.js';
import { logicalIdOf, resourcesOf, synthCairn } from './synth.js';

const topicArn = 'arn:aws:sns:eu-west-1:123456789012:cairn-oncall';

// One synthesis: every option away from its default.
const synth = synthCairn({
  emailFrom: 'news@mail.acme.com',
  emailIdentity: 'acme.com',
  busName: 'acme-events',
  stateMachinePrefix: 'acme-',
  encryption: 'customer-managed',
  removalPolicy: RemovalPolicy.DESTROY,
  tracing: true,
  journeyLogLevel: LogLevel.ALL,
  ingestMaxConcurrency: 4,
  writeKeySha256: ['a'.repeat(64)],
  machineAccess: { domainPrefix: 'acme-cairn' },
  alarmActions: [new SnsAction(Topic.fromTopicArn(new Stack(), 'Topic', topicArn))],
});
const { stack, template, json } = synth;
after(() => rmSync(synth.outdir, { recursive: true, force: true }));
const cairn = stack.cairn;
const keyArn = { 'Fn::GetAtt': [logicalIdOf(stack, cairn.encryptionKey!), 'Arn'] };

describe('options', () => {
  test('synthesizes and passes cdk-nag with tracing and full logging (nothing to acknowledge for them)', () => {
    assert.equal(synth.error, undefined, synth.error?.message);
    const nag = synth.report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
    assert.deepEqual(nag.violations, []);
    const acknowledged = (nag.suppressedViolations ?? []).map((v) => v.ruleName);
    assert.ok(!acknowledged.includes('AwsSolutions-SF1') && !acknowledged.includes('AwsSolutions-SF2'));
  });

  test('customer-managed encryption: one rotated key for tables and queues, usable by EventBridge', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
    for (const [id, table] of resourcesOf(json, 'AWS::DynamoDB::Table')) {
      assert.deepEqual(
        table.Properties?.SSESpecification,
        { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
        id,
      );
    }
    for (const [id, queue] of resourcesOf(json, 'AWS::SQS::Queue')) {
      assert.deepEqual(queue.Properties?.KmsMasterKeyId, keyArn, id);
    }
  });

  test('DESTROY removes the tables with the stack (no deletion protection)', () => {
    const tableResources = resourcesOf(json, 'AWS::DynamoDB::Table');
    assert.equal(tableResources.length, tables.length);
    for (const [id, table] of tableResources) {
      assert.equal(table.DeletionPolicy, 'Delete', id);
      assert.equal(table.Properties?.DeletionProtectionEnabled, false, id);
    }
  });

  test('names, prefix, concurrency, tracing and log level follow the props', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'acme-events' });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'acme-welcome',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
    const slotQueue = logicalIdOf(stack, cairn.parts.broadcasts.queue);
    for (const [, mapping] of resourcesOf(json, 'AWS::Lambda::EventSourceMapping')) {
      // Broadcast slots have their own bound (they pace themselves with ratePerSecond).
      if (JSON.stringify(mapping.Properties?.EventSourceArn).includes(slotQueue)) continue;
      assert.deepEqual(mapping.Properties?.ScalingConfig, { MaximumConcurrency: 4 });
    }
    for (const [id, fn] of resourcesOf(json, 'AWS::Lambda::Function')) {
      assert.deepEqual(fn.Properties?.TracingConfig, { Mode: 'Active' }, id);
      const env = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      assert.equal(env.CAIRN_STATE_MACHINE_PREFIX, 'acme-', id);
      assert.equal(env.CAIRN_EMAIL_FROM, 'news@mail.acme.com', id);
    }
    const authorizer = resourcesOf(json, 'AWS::Lambda::Function').find(
      ([id]) => id === logicalIdOf(stack, cairn.functions.authorizer),
    )!;
    const env = (authorizer[1].Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    assert.equal(env.CAIRN_WRITE_KEY_SHA256, 'a'.repeat(64));
    assert.match(JSON.stringify(json), /:stateMachine:acme-\*/);
    assert.doesNotMatch(JSON.stringify(json), /:stateMachine:cairn-\*/);
  });

  test('email may be sent only from the given address through the given identity', () => {
    assert.match(JSON.stringify(json), /"ses:FromAddress":"news@mail\.acme\.com"/);
    assert.match(JSON.stringify(json), /:identity\/acme\.com"/);
  });

  test('machine access: a client-credentials client with the cairn/api scope, accepted by the API', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-cairn' });
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'cairn',
      Scopes: [{ ScopeName: 'api', ScopeDescription: 'Call the Cairn API' }],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: [{ 'Fn::Join': ['', [{ Ref: Match.anyValue() }, '/api']] }],
    });
    const audience = [cairn.userPoolClient, cairn.machineClient!].map((client) => ({
      Ref: logicalIdOf(stack, client as unknown as { node: { defaultChild?: unknown } }),
    }));
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Audience: audience },
    });
    assert.ok(stack.node.tryFindChild('TokenUrl'), 'the stack outputs the token URL');
  });

  test('every alarm notifies the alarm actions', () => {
    const alarms = resourcesOf(json, 'AWS::CloudWatch::Alarm');
    assert.ok(alarms.length >= 15);
    for (const [id, alarm] of alarms) assert.deepEqual(alarm.Properties?.AlarmActions, [topicArn], id);
  });

  test('functions may use the key for the data they read and write', () => {
    const statements = resourcesOf(json, 'AWS::IAM::Policy').flatMap(
      ([, p]) =>
        (p.Properties!.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
          .Statement,
    );
    const kms = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
    assert.ok(kms.length >= 5);
    for (const s of kms) assert.deepEqual(s.Resource, keyArn);
  });
});

describe('invalid configuration fails the synth with the reason', () => {
  const folders: string[] = [];
  const dir = () => {
    folders.push(mkdtempSync(join(tmpdir(), 'cairn-journeys-')));
    return folders.at(-1)!;
  };
  after(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  test('a journey without its compiled ASL', () => {
    const folder = dir();
    writeFileSync(join(folder, 'promo.journey.yaml'), 'id: promo\n');
    assert.throws(
      () => readCheckedInJourneys(folder),
      /promo\.journey\.yaml has no compiled .*promo\.asl\.json; run `npm run compile`/,
    );
  });

  test('an ASL that is not JSON', () => {
    const folder = dir();
    writeFileSync(join(folder, 'promo.journey.yaml'), 'id: promo\n');
    writeFileSync(join(folder, 'promo.asl.json'), '{ "StartAt": ');
    assert.throws(() => readCheckedInJourneys(folder), /promo\.asl\.json is not valid JSON/);
  });

  test('an ASL placeholder CDK does not substitute', () => {
    const folder = dir();
    writeFileSync(join(folder, 'promo.journey.yaml'), 'id: promo\n');
    writeFileSync(
      join(folder, 'promo.asl.json'),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ASL definition substitutions, not a template
      '{ "Resource": "${StepFunctionArn}", "Table": "${JourneysTable}" }',
    );
    assert.deepEqual(aslPlaceholders(readFileSync(join(folder, 'promo.asl.json'), 'utf8')), [
      'StepFunctionArn',
      'JourneysTable',
    ]);
    assert.throws(
      () => readCheckedInJourneys(folder),
      /placeholders CDK does not substitute: \$\{JourneysTable\}/,
    );
  });

  test('a missing folder means no journeys', () => {
    assert.deepEqual(readCheckedInJourneys(join(tmpdir(), 'cairn-no-such-folder')), []);
  });

  test('a sender without an address, a bad prefix, a user pool without its client', () => {
    assert.throws(() => emailAddress('Cairn'), /emailFrom "Cairn" has no valid email address/);
    assert.equal(emailAddress('Cairn <hi@acme.com>'), 'hi@acme.com');
    const scope = () => new Stack(new App());
    assert.throws(
      () =>
        new CairnJourneys(scope(), 'Cairn', { emailFrom: 'hi@acme.com', stateMachinePrefix: 'bad prefix' }),
      /stateMachinePrefix "bad prefix"/,
    );
    assert.throws(
      () => new CairnJourneys(scope(), 'Cairn', { emailFrom: 'nobody' }),
      /no valid email address/,
    );
  });
});
