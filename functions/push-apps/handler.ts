import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  type PlatformApplicationRequest,
  provisionPlatformApplication,
} from '../../shared/channels/push/applications.js';
import { edgeLogger } from '../config.js';

/**
 * The CloudFormation custom resource `Custom::CairnPushApplication` (infra/aws/parts/messaging.ts):
 * keeps one SNS platform application, its credentials read from Secrets Manager here, and answers
 * CloudFormation at the presigned ResponseURL. Logs name the request, never the secret.
 */
const log = edgeLogger({ component: 'push-apps' });
let clients: { sns: SNSClient; secrets: SecretsManagerClient } | undefined;

export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  clients ??= {
    sns: new SNSClient({ maxAttempts: 5 }),
    secrets: new SecretsManagerClient({ maxAttempts: 5 }),
  };
  const { sns, secrets } = clients;
  const base = {
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  let response: Record<string, unknown>;
  try {
    const out = await provisionPlatformApplication(event as unknown as PlatformApplicationRequest, {
      sns,
      readSecret: async (arn) =>
        (await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString ?? '',
    });
    response = { ...base, Status: 'SUCCESS', PhysicalResourceId: out.physicalResourceId, Data: out.data };
  } catch (error) {
    log.error('push application not provisioned', {
      requestType: event.RequestType,
      errorName: (error as Error).name,
      error: (error as Error).message,
    });
    response = {
      ...base,
      Status: 'FAILED',
      Reason: `${(error as Error).name}: ${(error as Error).message}`.slice(0, 500),
      PhysicalResourceId: 'PhysicalResourceId' in event ? event.PhysicalResourceId : event.LogicalResourceId,
    };
  }
  const body = JSON.stringify(response);
  await fetch(event.ResponseURL, {
    method: 'PUT',
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
}
