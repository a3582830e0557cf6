import { gunzipSync } from 'node:zlib';
import type { Logger } from '../log.js';
import { type JourneyCatalog, substituteAsl } from './catalog.js';

/**
 * The CloudFormation custom resource `Custom::CairnJourney` (one per journey CDK deploys, see
 * infra/aws/cairn-journeys.ts): Create/Update records the deployed version in the catalog
 * (`registerDeployed`), Delete archives it (`archiveDeployed`). The provider Lambda
 * (functions/deploy) answers CloudFormation itself through the pre-signed ResponseURL.
 */

/** What CDK puts in the resource's properties (CloudFormation passes every value as a string). */
export interface JourneyResourceProperties {
  JourneyId: string;
  /** `<id>.journey.yaml` as JSON text. */
  Definition: string;
  /** The checked-in ASL, gzip + base64 (keeps the invoke payload small), with `${StepFunctionArn}`. */
  AslGzip: string;
  StepFunctionArn: string;
  VersionArn: string;
  StateMachineArn: string;
  AliasArn?: string;
  /** JSON text: `[{ id, subject, html?, text? }]`. */
  Templates?: string;
  /** sha256 of ASL + definition + templates: any change makes CloudFormation send an Update. */
  Hash?: string;
}

export interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceProperties: JourneyResourceProperties & { ServiceToken?: string };
}

export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason?: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  Data?: Record<string, string>;
}

const failedSuffix = ':not-registered';

/** Runs one custom resource request against the catalog; never throws (failures become FAILED). */
export async function journeyResource(
  event: CustomResourceEvent,
  catalog: Pick<JourneyCatalog, 'registerDeployed' | 'archiveDeployed'>,
  log?: Logger,
): Promise<CustomResourceResponse> {
  const props = event.ResourceProperties;
  const physicalId = `cairn-journey:${props.JourneyId}`;
  const base = {
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  try {
    if (event.RequestType === 'Delete') {
      // A Create that failed never registered anything: nothing to archive.
      if (!event.PhysicalResourceId?.endsWith(failedSuffix)) {
        await catalog.archiveDeployed(props.JourneyId, props.StateMachineArn);
      }
      return { ...base, Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId ?? physicalId };
    }
    const asl = substituteAsl(gunzipSync(Buffer.from(props.AslGzip, 'base64')).toString('utf8'), {
      StepFunctionArn: props.StepFunctionArn,
    });
    const result = await catalog.registerDeployed({
      journeyId: props.JourneyId,
      definition: JSON.parse(props.Definition),
      asl,
      versionArn: props.VersionArn,
      stateMachineArn: props.StateMachineArn,
      ...(props.AliasArn && { aliasArn: props.AliasArn }),
      templates: props.Templates ? JSON.parse(props.Templates) : [],
    });
    log?.info('journey resource', {
      requestType: event.RequestType,
      journeyId: props.JourneyId,
      version: result.version,
      unchanged: result.unchanged,
    });
    return {
      ...base,
      Status: 'SUCCESS',
      PhysicalResourceId: physicalId,
      Data: { Version: String(result.version), Status: result.status },
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log?.warn('journey resource failed', {
      requestType: event.RequestType,
      journeyId: props.JourneyId,
      reason,
    });
    return {
      ...base,
      Status: 'FAILED',
      // CloudFormation's limit on the whole response is 4 KB.
      Reason: `journey ${props.JourneyId}: ${reason}`.slice(0, 1000),
      PhysicalResourceId:
        event.RequestType === 'Create'
          ? `${physicalId}${failedSuffix}`
          : (event.PhysicalResourceId ?? physicalId),
    };
  }
}

/** PUTs the response to CloudFormation's pre-signed S3 URL (empty content type, as S3 signed it). */
export async function sendCustomResourceResponse(
  url: string,
  response: CustomResourceResponse,
  fetchImpl: typeof fetch = fetch,
): Promise<void> {
  const body = JSON.stringify(response);
  const out = await fetchImpl(url, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!out.ok) throw new Error(`CloudFormation response upload failed: ${out.status}`);
}
