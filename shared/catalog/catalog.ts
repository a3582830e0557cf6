import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { isoAt } from '../clock.js';
import { ConflictError, NotFoundError, PayloadTooLargeError, ValidationError } from '../errors.js';
import { assertId } from '../ids.js';
import { fillAslPlaceholders } from '../journeys/asl.js';
import type { Journey } from '../journeys/schema.js';
import { isObject } from '../json.js';
import type { Logger } from '../log.js';
import { templateChannel } from '../templates/render.js';
import type { StateMachineDeployer } from './deployer.js';
import { TemplateCatalog } from './templates.js';
import type {
  CatalogStore,
  JourneyRecord,
  JourneyStatus,
  JourneyVersionRecord,
  JourneyVersionSummary,
} from './types.js';

/**
 * The journey language as the catalog uses it (shared/journeys provides it; tests pass fakes):
 * validation that lists every problem, and compilation to ASL.
 */
export interface JourneyLanguage {
  /** Returns the definition to store, or throws ValidationError listing every problem with its path. */
  validate(input: unknown, context: ValidationContext): Journey;
  /** ASL for one version, as an object or JSON text, with `${StepFunctionArn}` placeholders. */
  compile(definition: Journey, context: { version: number }): string | object;
}

/** What a journey may refer to: the stored templates, the defined segments, the policy's topics. */
export interface ValidationContext {
  templateIds: ReadonlySet<string>;
  /** Absent: segment triggers and `branch` cases on segments are refused. */
  segmentIds?: ReadonlySet<string>;
  /** The channel of each stored template (email, sms, push): a message node needs one of its own. */
  templateChannels?: ReadonlyMap<string, 'email' | 'sms' | 'push'>;
  /** The messaging policy's topics; when given, a message node's `topic` must be one of them. */
  topicIds?: ReadonlySet<string>;
}

export interface CatalogDeps {
  store: CatalogStore;
  deployer: StateMachineDeployer;
  language: JourneyLanguage;
  clock: Clock;
  /** What `${StepFunctionArn}` in compiled ASL becomes (`CAIRN_STEP_FUNCTION_ARN`). */
  stepFunctionArn: string;
  log?: Logger;
  /** Called after a publish or status change, e.g. to drop the runtime's cached journey list. */
  onChange?: (journeyId: string) => void;
  /** The defined segments' ids (shared/segments): journeys may trigger and branch on them. */
  segmentIds?: () => Promise<ReadonlySet<string>>;
  /** The messaging policy's topic ids (message nodes' `topic` is checked against them at save and publish). */
  topicIds?: () => Promise<ReadonlySet<string>>;
}

/** The validation context from the stored templates, the defined segments and the policy's topics. */
export async function validationContext(
  deps: Pick<CatalogDeps, 'segmentIds' | 'topicIds'>,
  templateIds: ReadonlySet<string>,
  templateChannels?: ReadonlyMap<string, 'email' | 'sms' | 'push'>,
): Promise<ValidationContext> {
  const [segmentIds, topicIds] = await Promise.all([deps.segmentIds?.(), deps.topicIds?.()]);
  return {
    templateIds,
    ...(templateChannels && { templateChannels }),
    ...(segmentIds && { segmentIds }),
    ...(topicIds && { topicIds }),
  };
}

export interface PublishResult {
  journeyId: string;
  version: number;
  versionArn: string;
  stateMachineArn: string;
  status: JourneyStatus;
  /** True when the draft compiled to exactly the latest version: nothing was deployed. */
  unchanged: boolean;
}

/**
 * A journey head holds the draft and the published definition in one DynamoDB item (400 KB limit),
 * so each definition is kept under this. 200 nodes with generous patterns fit in a fraction of it.
 */
export const maxDefinitionBytes = 128 * 1024;

/**
 * Stores a new published version with the journey head that points at it (`expectedRevision`: the
 * head's revision as read; undefined for a new journey), logs `event`, tells `onChange`; the answer.
 */
export async function savePublishedVersion(
  deps: Pick<CatalogDeps, 'store' | 'log' | 'onChange'>,
  next: JourneyRecord,
  expectedRevision: number | undefined,
  record: JourneyVersionRecord,
  event: string,
): Promise<PublishResult> {
  await deps.store.savePublished(next, expectedRevision, record);
  deps.log?.info(event, { journeyId: next.id, version: record.version });
  deps.onChange?.(next.id);
  return {
    journeyId: next.id,
    version: record.version,
    versionArn: record.versionArn,
    stateMachineArn: record.stateMachineArn,
    status: next.status,
    unchanged: false,
  };
}

/** Writes a head's new status (a no-op when it has it already), then tells `onChange`. */
export async function saveStatus(
  deps: Pick<CatalogDeps, 'store' | 'clock' | 'log' | 'onChange'>,
  head: JourneyRecord,
  status: JourneyStatus,
): Promise<JourneyRecord> {
  if (head.status === status) return head;
  const next = { ...head, status, updatedAt: isoAt(deps.clock), revision: head.revision + 1 };
  await deps.store.saveJourney(next, head.revision, { statusChanged: true });
  deps.log?.info('journey status changed', { journeyId: head.id, status });
  deps.onChange?.(head.id);
  return next;
}

/** sha-256 of a deployed ASL: a publish that compiles to the same ASL deploys nothing. */
export function aslSha256(asl: string): string {
  return createHash('sha256').update(asl).digest('hex');
}

/**
 * Journeys: drafts, publishing (compile → deploy a new state machine version →
 * record it), status changes, and the read side the API and the runtime use.
 *
 * Statuses: `draft` (never published) → `active` (publish) ⇄ `paused` (pause/resume: no new entries;
 * goals and exits still apply) → `archived` (DELETE: terminal, no new entries; executions already
 * inside finish on their version). Archived journeys answer 409 to every change.
 */
export class JourneyCatalog {
  /** `PUT /templates/{id}` and its reads. */
  readonly templates: TemplateCatalog;

  constructor(private readonly deps: CatalogDeps) {
    this.templates = new TemplateCatalog(deps);
  }

  private now(): string {
    return isoAt(this.deps.clock);
  }

  private async validationContext(): Promise<ValidationContext> {
    const templates = await this.deps.store.listTemplates();
    return validationContext(
      this.deps,
      new Set(templates.map((template) => template.id)),
      new Map(templates.map((template) => [template.id, templateChannel(template)])),
    );
  }

  private async requireJourney(id: string): Promise<JourneyRecord> {
    assertId(id, 'journey');
    const head = await this.deps.store.getJourney(id);
    if (!head) throw new NotFoundError(`journey ${id} not found`);
    return head;
  }

  private static assertNotArchived(head: JourneyRecord): void {
    if (head.status === 'archived') {
      // Ids are never reused: executions, stats, messages and timelines name the journey by its id.
      throw new ConflictError(
        `journey ${head.id} is archived and its id is never reused (its executions, stats and messages keep it); save the new journey under another id`,
      );
    }
  }

  /** `PUT /journeys/{id}`: validates and saves the draft. `created` tells 201 from 200. */
  async saveDraft(id: string, input: unknown): Promise<{ journey: JourneyRecord; created: boolean }> {
    assertId(id, 'journey');
    if (!isObject(input))
      throw new ValidationError([{ path: [], message: 'journey definition must be an object' }]);
    if (input.id !== undefined && input.id !== id) {
      throw new ValidationError([
        { path: ['id'], message: `id must be ${id} (the id in the URL), got ${String(input.id)}` },
      ]);
    }
    const [existing, context] = await Promise.all([this.deps.store.getJourney(id), this.validationContext()]);
    if (existing) JourneyCatalog.assertNotArchived(existing);
    const draft = this.deps.language.validate({ ...input, id }, context);
    const size = Buffer.byteLength(JSON.stringify(draft), 'utf8');
    if (size > maxDefinitionBytes) {
      throw new PayloadTooLargeError(
        `journey definition is ${size} bytes; the limit is ${maxDefinitionBytes}`,
      );
    }
    const now = this.now();
    const name = typeof draft.name === 'string' ? draft.name : undefined;
    const journey: JourneyRecord = existing
      ? { ...existing, name, draft, draftUpdatedAt: now, updatedAt: now, revision: existing.revision + 1 }
      : {
          id,
          name,
          status: 'draft',
          draft,
          draftUpdatedAt: now,
          latestVersion: 0,
          createdAt: now,
          updatedAt: now,
          revision: 1,
        };
    await this.deps.store.saveJourney(journey, existing?.revision);
    return { journey, created: !existing };
  }

  /** `POST /journeys/{id}/publish`: the draft becomes version N+1 (or stays N when nothing changed). */
  async publish(id: string): Promise<PublishResult> {
    const [head, context] = await Promise.all([this.requireJourney(id), this.validationContext()]);
    JourneyCatalog.assertNotArchived(head);
    // Templates and topics may have changed since the draft was saved: validate again.
    const definition = this.deps.language.validate(head.draft, context);
    const status: JourneyStatus = head.status === 'paused' ? 'paused' : 'active';
    const published = head.published;
    // Compiled at the published version number, the same definition gives the same ASL: deploy nothing.
    // The definition is compared too: steps read node settings (templates, URLs…) from the version's
    // definition, which the ASL does not contain.
    if (
      published &&
      head.stateMachineArn &&
      this.aslFor(definition, published.version).sha256 === published.aslSha256 &&
      JSON.stringify(definition) === JSON.stringify(published.definition)
    ) {
      if (head.status !== status) {
        await this.deps.store.saveJourney({ ...head, status, revision: head.revision + 1 }, head.revision, {
          statusChanged: true,
        });
        this.deps.onChange?.(id);
      }
      return {
        journeyId: id,
        version: published.version,
        versionArn: published.versionArn,
        stateMachineArn: head.stateMachineArn,
        status,
        unchanged: true,
      };
    }
    const version = head.latestVersion + 1;
    const { asl, sha256: aslSha256 } = this.aslFor(definition, version);
    const deployed = await this.deps.deployer.deploy({
      journeyId: id,
      definition: asl,
      stateMachineArn: head.stateMachineArn,
      description: `${id} v${version}`,
    });
    const publishedAt = this.now();
    const record: JourneyVersionRecord = {
      journeyId: id,
      version,
      definition,
      asl,
      versionArn: deployed.versionArn,
      stateMachineArn: deployed.stateMachineArn,
      publishedAt,
    };
    const next: JourneyRecord = {
      ...head,
      status,
      latestVersion: version,
      stateMachineArn: deployed.stateMachineArn,
      published: {
        version,
        versionArn: deployed.versionArn,
        ...(deployed.aliasArn && { aliasArn: deployed.aliasArn }),
        stateMachineArn: deployed.stateMachineArn,
        definition,
        publishedAt,
        aslSha256,
      },
      updatedAt: publishedAt,
      revision: head.revision + 1,
    };
    return savePublishedVersion(this.deps, next, head.revision, record, 'journey published');
  }

  private aslFor(definition: Journey, version: number): { asl: string; sha256: string } {
    const compiled = this.deps.language.compile(definition, { version });
    const asl = fillAslPlaceholders(compiled, { StepFunctionArn: this.deps.stepFunctionArn });
    return { asl, sha256: aslSha256(asl) };
  }

  private async setStatus(id: string, change: 'pause' | 'resume' | 'archive'): Promise<JourneyRecord> {
    const head = await this.requireJourney(id);
    if (change === 'archive') {
      if (head.status === 'archived') return head;
    } else {
      JourneyCatalog.assertNotArchived(head);
      if (!head.published)
        throw new ConflictError(`journey ${id} has never been published; publish it first`);
    }
    const status: JourneyStatus = change === 'pause' ? 'paused' : change === 'resume' ? 'active' : 'archived';
    return saveStatus(this.deps, head, status);
  }

  pause(id: string): Promise<JourneyRecord> {
    return this.setStatus(id, 'pause');
  }

  resume(id: string): Promise<JourneyRecord> {
    return this.setStatus(id, 'resume');
  }

  archive(id: string): Promise<JourneyRecord> {
    return this.setStatus(id, 'archive');
  }

  listJourneys(): Promise<JourneyRecord[]> {
    return this.deps.store.listJourneys();
  }

  /** The head, every version (newest first, summaries) and the published version in full. */
  async getJourney(id: string): Promise<{
    journey: JourneyRecord;
    versions: JourneyVersionSummary[];
    published?: JourneyVersionRecord;
  }> {
    const journey = await this.requireJourney(id);
    if (!journey.published) return { journey, versions: [] };
    const [versions, published] = await Promise.all([
      this.deps.store.listVersions(id),
      this.deps.store.getVersion(id, journey.published.version),
    ]);
    return { journey, versions, published };
  }

  getVersion(id: string, version: number): Promise<JourneyVersionRecord | undefined> {
    return this.deps.store.getVersion(id, version);
  }
}
