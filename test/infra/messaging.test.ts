import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CairnStack } from '../../infra/aws/cairn-stack.js';
import { fixtureJourneys, resourcesOf, synthCairn } from './synth.js';

const origination = 'arn:aws:sms-voice:eu-west-1:123456789012:phone-number/phone-0123456789abcdef';
const iosSecret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cairn-apns-AbCdEf';
const androidSecret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cairn-fcm-GhIjKl';

// One synthesis with SMS (two-way), push on both platforms and the messaging policy as code.
const policy = {
  frequencyCaps: [{ channel: 'any' as const, max: 2, per: 'P1D' }],
  quietHours: { start: '21:00', end: '08:00' },
};
const synth = synthCairn({
  messagingPolicy: policy,
  sms: { originationIdentityArn: origination },
  push: {
    ios: { credentials: secretsmanager.Secret.fromSecretCompleteArn(new Stack(), 'Apns', iosSecret) },
    android: { credentials: secretsmanager.Secret.fromSecretCompleteArn(new Stack(), 'Fcm', androidSecret) },
  },
});
after(() => rmSync(synth.outdir, { recursive: true, force: true }));
const { template, json } = synth;

describe('SMS and push (CDK)', () => {
  test('synthesizes and passes cdk-nag', () => {
    assert.equal(synth.error, undefined, synth.error?.message);
    const nag = synth.report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
    assert.deepEqual(nag.violations, []);
  });

  test('SMS: a configuration set, and the step may send only through it from the origination identity', () => {
    template.resourceCountIs('AWS::SMSVOICE::ConfigurationSet', 1);
    const policies = JSON.stringify(resourcesOf(json, 'AWS::IAM::Policy'));
    const send = resourcesOf(json, 'AWS::IAM::Policy').flatMap(([, policy]) =>
      (
        policy.Properties as { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } }
      ).PolicyDocument.Statement.filter((s) => JSON.stringify(s.Action).includes('sms-voice:')),
    );
    assert.equal(send.length, 1, 'one statement, on one role');
    assert.equal(send[0]!.Action, 'sms-voice:SendTextMessage');
    assert.match(JSON.stringify(send[0]!.Resource), new RegExp(origination.replace(/[/.]/g, '.')));
    assert.match(JSON.stringify(send[0]!.Resource), /ConfigurationSet|Sms[A-F0-9]+", "Arn"|"Arn"\]/);
    assert.ok(!policies.includes('"sms-voice:*"'));
  });

  test('two-way SMS: an encrypted, SSL-only topic the service may publish to, the feedback Lambda subscribed with a DLQ and an alarm', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Principal: { Service: 'sms-voice.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
    });
    const alarms = resourcesOf(json, 'AWS::CloudWatch::Alarm').map(([, a]) =>
      String(a.Properties?.AlarmDescription),
    );
    assert.ok(alarms.some((d) => /Inbound SMS/.test(d)));
    template.hasOutput('*', { Description: Match.stringLikeRegexp('two-way SMS destination') });
  });

  test('push: platform applications created from Secrets Manager at deploy time, never a credential in the template', () => {
    const apps = resourcesOf(json, 'Custom::CairnPushApplication').map(([, r]) => r.Properties!);
    assert.deepEqual(apps.map((p) => [p.Platform, p.SecretArn]).sort(), [
      ['APNS', iosSecret],
      ['GCM', androidSecret],
    ]);
    const text = JSON.stringify(json);
    assert.ok(
      !/resolve:secretsmanager/.test(text),
      'no dynamic reference either: the Lambda reads the secret',
    );
    const provisioner = resourcesOf(json, 'AWS::IAM::Policy')
      .map(([, p]) => JSON.stringify(p.Properties))
      .find((p) => p.includes('sns:CreatePlatformApplication'))!;
    assert.match(provisioner, /secretsmanager:GetSecretValue/);
    assert.match(provisioner, /app\/APNS\/[^*"]+-ios/);
    assert.ok(!provisioner.includes('"Resource":"*"'));
    // Only the step (the sender) gets the application ARNs and may publish to their endpoints.
    const withArns = resourcesOf(json, 'AWS::Lambda::Function').filter(([, f]) =>
      JSON.stringify(f.Properties).includes('CAIRN_PUSH_IOS_APP_ARN'),
    );
    assert.equal(withArns.length, 1);
    assert.match(JSON.stringify(withArns[0]![1].Properties), /Cairn step/);
    assert.match(text, /endpoint\/GCM\/[^"*]+-android\/\*/);
  });
});

describe('messaging policy as code (CDK)', () => {
  test('a Custom::CairnMessagingPolicy stores the policy (defaults filled) before the journeys are registered', () => {
    const policies = resourcesOf(json, 'Custom::CairnMessagingPolicy');
    assert.equal(policies.length, 1);
    const [policyId, resource] = policies[0]!;
    const stored = JSON.parse(String(resource.Properties?.Policy));
    assert.deepEqual(stored, {
      frequencyCaps: [{ channel: 'any', max: 2, per: 'P1D' }],
      quietHours: { start: '21:00', end: '08:00', fallbackTimezone: 'UTC', action: 'hold' },
      topics: [],
    });
    const journeys = resourcesOf(json, 'Custom::CairnJourney');
    assert.ok(journeys.length > 0);
    for (const [, journey] of journeys) assert.ok((journey.DependsOn as string[]).includes(policyId));
  });

  test('a bad policy fails the synth with every problem and its path', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    assert.throws(
      () =>
        new CairnStack(app, 'BadPolicy', {
          cairn: {
            emailFrom: 'Cairn <journeys@example.com>',
            journeysDir: fixtureJourneys,
            messagingPolicy: {
              frequencyCaps: [{ channel: 'fax' as 'sms', max: 0, per: 'P1D' }],
              quietHours: { start: '9pm', end: '08:00' },
            },
          },
        }),
      /frequencyCaps\[0\]\.channel: .*frequencyCaps\[0\]\.max: .*quietHours\.start: /,
    );
  });
});
