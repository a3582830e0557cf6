/**
 * SNS platform applications for push, kept by a CloudFormation custom resource (CloudFormation has
 * no resource type for them). Their credentials (an APNs signing key, an FCM service account) stay
 * in Secrets Manager: the template names the secret, and only this code, at deploy time, reads it.
 *
 * The secret is a JSON object of SNS platform application attributes, e.g. APNs token auth
 * `{ "PlatformCredential": "<.p8 key>", "PlatformPrincipal": "<key id>", "ApplePlatformTeamID": "…",
 * "ApplePlatformBundleID": "…" }`, FCM `{ "PlatformCredential": "<service account JSON>" }`.
 */
import {
  CreatePlatformApplicationCommand,
  DeletePlatformApplicationCommand,
  SetPlatformApplicationAttributesCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';

export const pushPlatforms = ['APNS', 'APNS_SANDBOX', 'GCM'] as const;
export type PushPlatform = (typeof pushPlatforms)[number];

/** What the custom resource declares (its `ResourceProperties`). */
export interface PlatformApplicationSpec {
  Name: string;
  Platform: PushPlatform;
  SecretArn: string;
}

export interface PlatformApplicationDeps {
  sns: Pick<SNSClient, 'send'>;
  /** The secret's string value (GetSecretValue). */
  readSecret(arn: string): Promise<string>;
}

function readSpec(value: Record<string, unknown>): PlatformApplicationSpec {
  const { Name, Platform, SecretArn } = value;
  if (typeof Name !== 'string' || !/^[\w.-]{1,256}$/.test(Name))
    throw new TypeError('Name must be 1-256 letters, digits, _ . -');
  if (!pushPlatforms.includes(Platform as PushPlatform))
    throw new TypeError(`Platform must be one of ${pushPlatforms.join(', ')}`);
  if (typeof SecretArn !== 'string' || !SecretArn.startsWith('arn:'))
    throw new TypeError('SecretArn must be a Secrets Manager secret ARN');
  return { Name, Platform: Platform as PushPlatform, SecretArn };
}

async function attributesFrom(
  deps: PlatformApplicationDeps,
  secretArn: string,
): Promise<Record<string, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await deps.readSecret(secretArn));
  } catch {
    // Never the value: only that it is not what was expected.
    throw new TypeError('the push credentials secret must hold a JSON object of SNS attributes');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new TypeError('the push credentials secret must hold a JSON object of SNS attributes');
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.some(([, value]) => typeof value !== 'string'))
    throw new TypeError('every attribute in the push credentials secret must be a string');
  return Object.fromEntries(entries) as Record<string, string>;
}

export type PlatformApplicationRequest =
  | { RequestType: 'Create'; ResourceProperties: Record<string, unknown> }
  | {
      RequestType: 'Update';
      PhysicalResourceId: string;
      ResourceProperties: Record<string, unknown>;
      OldResourceProperties: Record<string, unknown>;
    }
  | { RequestType: 'Delete'; PhysicalResourceId: string; ResourceProperties: Record<string, unknown> };

/**
 * Create: a new platform application from the secret. Update: the same name and platform → the
 * attributes again (a rotated credential); another name or platform → a new application (the old
 * one is deleted by CloudFormation's Delete). Delete: gone (already gone is fine). Returns the
 * application ARN, which is also the physical id.
 */
export async function provisionPlatformApplication(
  request: PlatformApplicationRequest,
  deps: PlatformApplicationDeps,
): Promise<{ physicalResourceId: string; data: Record<string, string> }> {
  if (request.RequestType === 'Delete') {
    if (request.PhysicalResourceId.startsWith('arn:'))
      await deps.sns
        .send(new DeletePlatformApplicationCommand({ PlatformApplicationArn: request.PhysicalResourceId }))
        .catch((error: { name?: string }) => {
          if (error.name !== 'NotFoundException' && error.name !== 'NotFound') throw error;
        });
    return { physicalResourceId: request.PhysicalResourceId, data: {} };
  }
  const spec = readSpec(request.ResourceProperties);
  const Attributes = await attributesFrom(deps, spec.SecretArn);
  if (request.RequestType === 'Update') {
    const old = request.OldResourceProperties;
    if (
      old.Name === spec.Name &&
      old.Platform === spec.Platform &&
      request.PhysicalResourceId.startsWith('arn:')
    ) {
      await deps.sns.send(
        new SetPlatformApplicationAttributesCommand({
          PlatformApplicationArn: request.PhysicalResourceId,
          Attributes,
        }),
      );
      return {
        physicalResourceId: request.PhysicalResourceId,
        data: { PlatformApplicationArn: request.PhysicalResourceId },
      };
    }
  }
  const out = await deps.sns.send(
    new CreatePlatformApplicationCommand({ Name: spec.Name, Platform: spec.Platform, Attributes }),
  );
  const arn = out.PlatformApplicationArn ?? '';
  return { physicalResourceId: arn, data: { PlatformApplicationArn: arn } };
}
