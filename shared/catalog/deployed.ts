import { gunzipSync } from 'node:zlib';
import { isoAt } from '../clock.js';
import { ValidationError } from '../errors.js';
import { assertId } from '../ids.js';
import { fillAslPlaceholders } from '../journeys/asl.js';
import { isObject } from '../json.js';
import type { Logger } from '../log.js';
import type { TemplateWithId } from '../templates/render.js';
import {
  aslSha256,
  type CatalogDeps,
  type PublishResult,
  savePublishedVersion,
  saveStatus,
  validationContext,
} from './catalog.js';
import { TemplateCatalog } from './templates.js';
import type { JourneyRecord, JourneyStatus, JourneyVersionRecord } from './types.js';

/**
 * The CloudFormation custom resource `Custom::CairnJourney` (one per journey CDK deploys, see
 * infra/aws/cairn-journeys.ts): Create/Update records the deployed version in the catalog
 * (`DeployedJourneys.register`), Delete archives it (`DeployedJourneys.archive`). The provider Lambda
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
  /** `Custom::CairnJourney`, `Custom::CairnSegment`: which kind of resource the provider answers for. */
  ResourceType?: string;
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

/** A journey CloudFormation deployed from `statemachines/` (see `DeployedJourneys.register`). */
export interface DeployedJourneyInput {
  journeyId: string;
  /** The journey definition (`<id>.journey.yaml`, parsed). */
  definition: unknown;
  /** The ASL deployed, placeholders already substituted. */
  asl: string;
  /** The state machine version CloudFormation published. */
  versionArn: string;
  stateMachineArn: string;
  aliasArn?: string;
  /** Templates the journey sends (`templates/<id>.template.yaml`), written when they differ. */
  templates?: TemplateWithId[];
}

/** Journeys `cdk deploy` created: recorded in the catalog as if published, archived when removed. */
export class DeployedJourneys {
  private readonly templates: TemplateCatalog;

  constructor(private readonly deps: Omit<CatalogDeps, 'deployer' | 'stepFunctionArn'>) {
    this.templates = new TemplateCatalog(deps);
  }

  /**
   * Records a journey CloudFormation deployed (the custom resource `Custom::CairnJourney`, see
   * functions/deploy): writes the same items `publish` writes (a new version + the head pointing at
   * it, in one transaction), plus the templates the journey uses, so `cdk deploy` alone makes it live.
   * Idempotent: the same version ARN, ASL and definition write nothing (`unchanged: true`); templates
   * are written only when their content differs. The stack is the source of truth for the journeys it
   * deploys: a paused journey stays paused, anything else (a new, draft or archived one) becomes active.
   * Calls: GetItem + Query (templates) + PutItem per changed template + TransactWriteItems(2).
   */
  async register(input: DeployedJourneyInput): Promise<PublishResult> {
    const id = input.journeyId;
    assertId(id, 'journey');
    const [head, stored] = await Promise.all([
      this.deps.store.getJourney(id),
      this.deps.store.listTemplates(),
    ]);
    const now = isoAt(this.deps.clock);
    const templateIds = await this.templates.saveChanged(input.templates ?? [], stored);
    if (!isObject(input.definition))
      throw new ValidationError([{ path: [], message: 'journey definition must be an object' }]);
    const definition = this.deps.language.validate(
      { ...input.definition, id },
      await validationContext(this.deps, templateIds),
    );
    const sha256 = aslSha256(input.asl);
    const status: JourneyStatus = head?.status === 'paused' ? 'paused' : 'active';
    const published = head?.published;
    if (
      head &&
      published &&
      published.versionArn === input.versionArn &&
      published.aslSha256 === sha256 &&
      JSON.stringify(published.definition) === JSON.stringify(definition)
    ) {
      await saveStatus(this.deps, head, status);
      return {
        journeyId: id,
        version: published.version,
        versionArn: published.versionArn,
        stateMachineArn: published.stateMachineArn,
        status,
        unchanged: true,
      };
    }
    const version = (head?.latestVersion ?? 0) + 1;
    const record: JourneyVersionRecord = {
      journeyId: id,
      version,
      definition,
      asl: input.asl,
      versionArn: input.versionArn,
      stateMachineArn: input.stateMachineArn,
      publishedAt: now,
    };
    const name = typeof definition.name === 'string' ? definition.name : undefined;
    const next: JourneyRecord = {
      id,
      name,
      status,
      draft: definition,
      draftUpdatedAt: now,
      latestVersion: version,
      stateMachineArn: input.stateMachineArn,
      published: {
        version,
        versionArn: input.versionArn,
        ...(input.aliasArn && { aliasArn: input.aliasArn }),
        stateMachineArn: input.stateMachineArn,
        definition,
        publishedAt: now,
        aslSha256: sha256,
      },
      createdAt: head?.createdAt ?? now,
      updatedAt: now,
      revision: (head?.revision ?? 0) + 1,
    };
    return savePublishedVersion(this.deps, next, head?.revision, record, 'deployed journey registered');
  }

  /**
   * The stack no longer deploys this journey (its custom resource was deleted): archived, unless the
   * head now points at another state machine (e.g. published through the API since). Missing: no-op.
   */
  async archive(journeyId: string, stateMachineArn: string): Promise<JourneyRecord | undefined> {
    const head = await this.deps.store.getJourney(journeyId);
    if (!head || head.status === 'archived' || head.stateMachineArn !== stateMachineArn) return head;
    return saveStatus(this.deps, head, 'archived');
  }
}

const failedSuffix = ':not-registered';

/**
 * What one kind of custom resource does: Create/Update apply the properties (returning the
 * response's Data), Delete removes what a successful Create made.
 */
export interface CustomResourceWork {
  /** `journey x`, `segment y`: names the resource in the reason of a failure and in the log. */
  label: string;
  physicalId: string;
  apply(): Promise<Record<string, string>>;
  remove(): Promise<void>;
}

/**
 * Runs one custom resource request; never throws (failures become FAILED with the reason). A Create
 * that failed made nothing: its Delete removes nothing.
 */
export async function answerCustomResource(
  event: Omit<CustomResourceEvent, 'ResourceProperties'>,
  work: CustomResourceWork,
  log?: Logger,
): Promise<CustomResourceResponse> {
  const base = {
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  try {
    if (event.RequestType === 'Delete') {
      if (!event.PhysicalResourceId?.endsWith(failedSuffix)) await work.remove();
      return { ...base, Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId ?? work.physicalId };
    }
    const data = await work.apply();
    log?.info('custom resource', { requestType: event.RequestType, resource: work.label, ...data });
    return { ...base, Status: 'SUCCESS', PhysicalResourceId: work.physicalId, Data: data };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log?.warn('custom resource failed', { requestType: event.RequestType, resource: work.label, reason });
    return {
      ...base,
      Status: 'FAILED',
      // CloudFormation's limit on the whole response is 4 KB.
      Reason: `${work.label}: ${reason}`.slice(0, 1000),
      PhysicalResourceId:
        event.RequestType === 'Create'
          ? `${work.physicalId}${failedSuffix}`
          : (event.PhysicalResourceId ?? work.physicalId),
    };
  }
}

/** Runs one `Custom::CairnJourney` request against the catalog; never throws (failures become FAILED). */
export async function journeyResource(
  event: CustomResourceEvent,
  deployed: Pick<DeployedJourneys, 'register' | 'archive'>,
  log?: Logger,
): Promise<CustomResourceResponse> {
  const props = event.ResourceProperties;
  return answerCustomResource(
    event,
    {
      label: `journey ${props.JourneyId}`,
      physicalId: `cairn-journey:${props.JourneyId}`,
      async apply() {
        const asl = fillAslPlaceholders(gunzipSync(Buffer.from(props.AslGzip, 'base64')).toString('utf8'), {
          StepFunctionArn: props.StepFunctionArn,
        });
        const result = await deployed.register({
          journeyId: props.JourneyId,
          definition: JSON.parse(props.Definition),
          asl,
          versionArn: props.VersionArn,
          stateMachineArn: props.StateMachineArn,
          ...(props.AliasArn && { aliasArn: props.AliasArn }),
          templates: props.Templates ? JSON.parse(props.Templates) : [],
        });
        return { Version: String(result.version), Status: result.status };
      },
      async remove() {
        await deployed.archive(props.JourneyId, props.StateMachineArn);
      },
    },
    log,
  );
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
