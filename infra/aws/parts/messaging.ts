import { CfnOutput, CustomResource, Duration, Names, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as smsvoice from 'aws-cdk-lib/aws-smsvoice';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PushPlatform } from '../../../shared/channels/push/applications.js';
import { feedbackRuleFor } from '../../../shared/routing.js';
import { type RuleBuffer, ruleBuffer } from './buffer.js';
import type { CairnData } from './data.js';
import type { CairnFunctions } from './functions.js';

export interface CairnMessagingProps {
  readonly functions: CairnFunctions;
  readonly data: CairnData;
  /** The From address of journey emails, e.g. `Acme <hello@acme.com>`. */
  readonly emailFrom: string;
  /** The SES identity (domain or address) emails are sent through. */
  readonly emailIdentity: string;
  readonly removalPolicy: RemovalPolicy;
  readonly maxConcurrency: number;
  /** SMS through End User Messaging SMS; none when absent (sms nodes cannot send). */
  readonly sms?: CairnSmsProps;
  /** Push through SNS platform applications Cairn keeps; none when absent. */
  readonly push?: CairnPushProps;
}

export interface CairnSmsProps {
  /**
   * ARN of the phone number, sender id or pool journeys send from (provisioned and registered by
   * hand in End User Messaging SMS: registration takes days and depends on the country).
   */
  readonly originationIdentityArn: string;
  /**
   * Creates the SNS topic for the number's two-way SMS destination (STOP / START / HELP and replies
   * reach the feedback Lambda); point the number at the `SmsInboundTopicArn` output. @default true
   */
  readonly twoWay?: boolean;
}

/** One platform's SNS application: its credentials stay in Secrets Manager (never in the template). */
export interface CairnPushApplicationProps {
  /** A JSON object of SNS platform application attributes (shared/channels/push/applications.ts). */
  readonly credentials: secretsmanager.ISecret;
  /** @default APNS for ios, GCM (Firebase Cloud Messaging) for android */
  readonly platform?: PushPlatform;
}

export interface CairnPushProps {
  readonly ios?: CairnPushApplicationProps;
  readonly android?: CairnPushApplicationProps;
}

/**
 * Messaging: the SES configuration set whose delivery, bounce, complaint, open and click events come
 * back through the default bus and a buffer to the feedback Lambda, who may send (as which sender),
 * and the key that signs unsubscribe links. The SMS and push channels add their senders here.
 */
export class CairnMessaging extends Construct {
  readonly configurationSet: ses.ConfigurationSet;
  readonly feedback: NodejsFunction;
  readonly feedbackBuffer: RuleBuffer;
  /** Signs unsubscribe links (HMAC key); the step and api Lambdas read it at cold start. */
  readonly unsubscribeSecret: secretsmanager.Secret;
  /** With `sms`: the configuration set journeys send through (its receipts reach feedback). */
  readonly smsConfigurationSet?: smsvoice.CfnConfigurationSet;
  /** With `sms` (two-way): the number's two-way destination, subscribed by the feedback Lambda. */
  readonly smsInbound?: { topic: sns.Topic; deadLetterQueue: sqs.Queue };
  /** With `push`: the platform applications by platform, and the function that keeps them. */
  readonly pushApplications: { ios?: CustomResource; android?: CustomResource };
  readonly pushProvisioner?: NodejsFunction;
  private readonly emailFrom: string;
  private readonly emailIdentity: string;
  private readonly smsOrigination?: string;
  /** Each platform application's SNS platform and name (its endpoints are `endpoint/<kind>/<name>/*`). */
  readonly pushNames: { kind: PushPlatform; name: string }[] = [];

  constructor(scope: Construct, id: string, props: CairnMessagingProps) {
    super(scope, id);
    this.emailFrom = props.emailFrom;
    this.emailIdentity = props.emailIdentity;
    // SES sends its events to the default bus only.
    const defaultBus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
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

    this.feedback = props.functions.create(this, 'feedback', { timeout: 30 });
    props.data.grantItems(this.feedback);
    // Only this configuration set's events: the account's other SES senders publish to the same bus.
    const feedbackRule = feedbackRuleFor({ email: this.configurationSet.configurationSetName });
    this.feedbackBuffer = ruleBuffer(this, feedbackRule, defaultBus, this.feedback, {
      maxConcurrency: props.maxConcurrency,
      encryptionKey: props.data.encryptionKey,
    });

    if (props.sms) {
      this.smsOrigination = props.sms.originationIdentityArn;
      // Receipts need no event destination: End User Messaging SMS sends `Text Message Delivery Status
      // Updated` to the default bus itself, where the feedback rule takes them (shared/routing.ts).
      this.smsConfigurationSet = new smsvoice.CfnConfigurationSet(this, 'Sms', {
        configurationSetName: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
      });
      if (props.sms.twoWay ?? true) this.smsInbound = this.twoWaySms(props);
    }
    this.pushApplications = {};
    if (props.push?.ios || props.push?.android) {
      this.pushProvisioner = props.functions.create(this, 'push-apps', { timeout: 60, memorySize: 256 });
      for (const [platform, spec] of Object.entries(props.push) as [
        'ios' | 'android',
        CairnPushApplicationProps | undefined,
      ][]) {
        if (spec) this.pushApplications[platform] = this.pushApplication(platform, spec);
      }
    }

    // Unsubscribe links: an HMAC key generated by Secrets Manager, read by step (signs) and api
    // (verifies) once per container, so it is in neither their configuration nor their logs.
    this.unsubscribeSecret = new secretsmanager.Secret(this, 'UnsubscribeSecret', {
      description: 'Cairn: HMAC key of the unsubscribe links in emails',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: props.removalPolicy,
    });
  }

  /**
   * The SNS topic End User Messaging SMS publishes replies to, encrypted, SSL only, and only by the
   * service for this account; the feedback Lambda subscribes, with a DLQ for replies it failed.
   */
  private twoWaySms(props: CairnMessagingProps): { topic: sns.Topic; deadLetterQueue: sqs.Queue } {
    const stack = Stack.of(this);
    const service = new iam.ServicePrincipal('sms-voice.amazonaws.com');
    const sameAccount = { StringEquals: { 'aws:SourceAccount': stack.account } };
    const key =
      props.data.encryptionKey ??
      new kms.Key(this, 'SmsInboundKey', {
        description: 'Cairn: inbound SMS topic',
        enableKeyRotation: true,
        removalPolicy: props.removalPolicy,
      });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [service],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: sameAccount,
      }),
    );
    const topic = new sns.Topic(this, 'SmsInbound', { masterKey: key, enforceSSL: true });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [service],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: sameAccount,
      }),
    );
    const deadLetterQueue = new sqs.Queue(this, 'SmsInboundDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    topic.addSubscription(new subscriptions.LambdaSubscription(this.feedback, { deadLetterQueue }));
    new CfnOutput(this, 'SmsInboundTopicArn', {
      value: topic.topicArn,
      description: "Set as the phone number's two-way SMS destination (SNS) in End User Messaging SMS",
    });
    return { topic, deadLetterQueue };
  }

  /** `Custom::CairnPushApplication`: one SNS platform application, credentials read at deploy time. */
  private pushApplication(platform: 'ios' | 'android', spec: CairnPushApplicationProps): CustomResource {
    const stack = Stack.of(this);
    const fn = this.pushProvisioner!;
    const kind = spec.platform ?? (platform === 'ios' ? 'APNS' : 'GCM');
    const name = `${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}-${platform}`;
    const arn = stack.formatArn({ service: 'sns', resource: 'app', resourceName: `${kind}/${name}` });
    this.pushNames.push({ kind, name });
    spec.credentials.grantRead(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'sns:CreatePlatformApplication',
          'sns:SetPlatformApplicationAttributes',
          'sns:DeletePlatformApplication',
        ],
        resources: [arn],
      }),
    );
    const resource = new CustomResource(this, `Push${platform === 'ios' ? 'Ios' : 'Android'}`, {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::CairnPushApplication',
      properties: { Name: name, Platform: kind, SecretArn: spec.credentials.secretArn },
    });
    resource.node.addDependency(fn);
    return resource;
  }

  /** The variables every function reads to send messages (push: the sender's own, see grantSendSmsAndPush). */
  get environment(): Record<string, string> {
    return {
      CAIRN_EMAIL_FROM: this.emailFrom,
      CAIRN_SES_CONFIGURATION_SET: this.configurationSet.configurationSetName,
      ...(this.smsConfigurationSet && {
        CAIRN_SMS_CONFIGURATION_SET: this.smsConfigurationSet.configurationSetName!,
        CAIRN_SMS_ORIGINATION: this.smsOrigination!,
      }),
    };
  }

  /**
   * SMS: SendTextMessage through Cairn's configuration set from the origination identity only.
   * Push: endpoints of Cairn's platform applications only (created on first sight, then published to).
   */
  grantSendSmsAndPush(fn: NodejsFunction): void {
    if (this.smsConfigurationSet)
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'CairnSendSms',
          actions: ['sms-voice:SendTextMessage'],
          resources: [this.smsConfigurationSet.attrArn, this.smsOrigination!],
        }),
      );
    // Only the sender reads the application ARNs (shared by all, the provisioner would depend on itself).
    const { ios, android } = this.pushApplications;
    if (ios) fn.addEnvironment('CAIRN_PUSH_IOS_APP_ARN', ios.getAttString('PlatformApplicationArn'));
    if (android)
      fn.addEnvironment('CAIRN_PUSH_ANDROID_APP_ARN', android.getAttString('PlatformApplicationArn'));
    const stack = Stack.of(this);
    for (const { kind, name } of this.pushNames) {
      const snsArn = (resource: string, resourceName: string) =>
        stack.formatArn({ service: 'sns', resource, resourceName });
      const arn = snsArn('app', `${kind}/${name}`);
      const endpoints = snsArn('endpoint', `${kind}/${name}/*`);
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sns:CreatePlatformEndpoint'], resources: [arn] }),
      );
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [endpoints] }));
    }
  }

  /** Email: send only from the configured address, through the identity and Cairn's configuration set. */
  grantSendEmail(fn: NodejsFunction): void {
    const stack = Stack.of(this);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CairnSendEmail',
        actions: ['ses:SendEmail'],
        resources: [
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: this.emailIdentity }),
          stack.formatArn({
            service: 'ses',
            resource: 'configuration-set',
            resourceName: this.configurationSet.configurationSetName,
          }),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': emailAddress(this.emailFrom) } },
      }),
    );
  }

  /** Reads the unsubscribe key at cold start (its ARN in `CAIRN_UNSUBSCRIBE_SECRET_ARN`). */
  grantUnsubscribeKey(fn: NodejsFunction): void {
    this.unsubscribeSecret.grantRead(fn);
    fn.addEnvironment('CAIRN_UNSUBSCRIBE_SECRET_ARN', this.unsubscribeSecret.secretArn);
  }
}

/** `Acme <hello@acme.com>` or `hello@acme.com` → `hello@acme.com`. */
export function emailAddress(from: string): string {
  const address = (/<([^>]+)>/.exec(from)?.[1] ?? from).trim();
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address))
    throw new Error(`emailFrom "${from}" has no valid email address`);
  return address;
}

export function emailDomain(from: string): string {
  return emailAddress(from).split('@')[1]!;
}
