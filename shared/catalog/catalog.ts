import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { isoAt } from '../clock.js';
import { ConflictError, NotFoundError, PayloadTooLargeError, ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import type { JourneyEntryRules } from '../runtime/types.js';
import { type EmailTemplate, validateTemplate } from '../templates/render.js';
import type { StateMachineDeployer } from './deployer.js';
import type {
  CatalogStore,
  JourneyDocument,
  JourneyRecord,
  JourneyStatus,
  JourneyVersionRecord,
  JourneyVersionSummary,
  TemplateRecord,
} from './types.js';

/**
 * The journey language as the catalog uses it (shared/journeys provides it; tests pass fakes):
 * validation that lists every problem, and compilation to ASL.
 */
export interface JourneyLanguage {
  /** Returns the definition to store, or throws ValidationError listing every problem with its path. */
  validate(input: unknown, context: { templateIds: ReadonlySet<string> }): JourneyDocument;
  /** ASL for one version, as an object or JSON text, with `${StepFunctionArn}` placeholders. */
  compile(definition: JourneyDocument, context: { version: number }): unknown;
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
}

/** What the runtime needs of a published journey, plus the whole definition. */
export interface ActiveJourney extends JourneyEntryRules {
  definition: JourneyDocument;
  publishedAt: string;
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

/** A journey CloudFormation deployed from `statemachines/` (see `registerDeployed`). */
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
  templates?: { id: string; subject: string; html?: string; text?: string }[];
}

/**
 * A journey head holds the draft and the published definition in one DynamoDB item (400 KB limit),
 * so each definition is kept under this. 200 nodes with generous patterns fit in a fraction of it.
 */
export const maxDefinitionBytes = 128 * 1024;

const idPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function assertId(id: string, what: 'journey' | 'template'): void {
  if (!idPattern.test(id)) {
    throw new ValidationError([
      {
        path: ['id'],
        message: `${what} id must be 1-64 letters, digits, '-' or '_', starting with a letter or digit`,
      },
    ]);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Fills the deploy-time placeholders of compiled ASL (the same ones CDK substitutes). */
export function substituteAsl(asl: string, values: Record<string, string>): string {
  return asl.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => values[name] ?? whole);
}

function entryRules(head: JourneyRecord): ActiveJourney | undefined {
  const published = head.published;
  if (!published || head.status === 'archived' || head.status === 'draft') return undefined;
  const d = published.definition as {
    trigger?: JourneyEntryRules['trigger'];
    reentry?: JourneyEntryRules['reentry'];
    goal?: JourneyEntryRules['goal'];
    exitOn?: JourneyEntryRules['exitOn'];
  };
  return {
    id: head.id,
    version: published.version,
    status: head.status,
    stateMachineArn: published.versionArn,
    trigger: d.trigger,
    reentry: d.reentry ?? 'never',
    goal: d.goal,
    exitOn: d.exitOn,
    definition: published.definition,
    publishedAt: published.publishedAt,
  };
}

/**
 * Journeys and templates: drafts, publishing (compile → deploy a new state machine version →
 * record it), status changes, and the read side the API and the runtime use.
 *
 * Statuses: `draft` (never published) → `active` (publish) ⇄ `paused` (pause/resume: no new entries;
 * goals and exits still apply) → `archived` (DELETE: terminal, no new entries; executions already
 * inside finish on their version). Archived journeys answer 409 to every change.
 */
export class JourneyCatalog {
  constructor(private readonly deps: CatalogDeps) {}

  private now(): string {
    return isoAt(this.deps.clock);
  }

  private async templateIds(): Promise<Set<string>> {
    return new Set((await this.deps.store.listTemplates()).map((template) => template.id));
  }

  private async requireJourney(id: string): Promise<JourneyRecord> {
    assertId(id, 'journey');
    const head = await this.deps.store.getJourney(id);
    if (!head) throw new NotFoundError(`journey ${id} not found`);
    return head;
  }

  private static assertNotArchived(head: JourneyRecord): void {
    if (head.status === 'archived') throw new ConflictError(`journey ${head.id} is archived`);
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
    const [existing, templateIds] = await Promise.all([this.deps.store.getJourney(id), this.templateIds()]);
    if (existing) JourneyCatalog.assertNotArchived(existing);
    const draft = this.deps.language.validate({ ...input, id }, { templateIds });
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
    const [head, templateIds] = await Promise.all([this.requireJourney(id), this.templateIds()]);
    JourneyCatalog.assertNotArchived(head);
    // Templates may have changed since the draft was saved: validate again.
    const definition = this.deps.language.validate(head.draft, { templateIds });
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
        await this.deps.store.saveJourney({ ...head, status, revision: head.revision + 1 }, head.revision);
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
    await this.deps.store.savePublished(next, head.revision, record);
    this.deps.log?.info('journey published', { journeyId: id, version });
    this.deps.onChange?.(id);
    return {
      journeyId: id,
      version,
      versionArn: deployed.versionArn,
      stateMachineArn: deployed.stateMachineArn,
      status,
      unchanged: false,
    };
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
  async registerDeployed(input: DeployedJourneyInput): Promise<PublishResult> {
    const id = input.journeyId;
    assertId(id, 'journey');
    const [head, stored] = await Promise.all([
      this.deps.store.getJourney(id),
      this.deps.store.listTemplates(),
    ]);
    const now = this.now();
    const existing = new Map(stored.map((template) => [template.id, template]));
    for (const template of input.templates ?? []) {
      assertId(template.id, 'template');
      const before = existing.get(template.id);
      const body = { subject: template.subject, html: template.html, text: template.text } as EmailTemplate;
      if (before && before.subject === body.subject && before.html === body.html && before.text === body.text)
        continue;
      validateTemplate(body);
      const record: TemplateRecord = {
        id: template.id,
        subject: body.subject,
        ...(body.html !== undefined && { html: body.html }),
        ...(body.text !== undefined && { text: body.text }),
        createdAt: before?.createdAt ?? now,
        updatedAt: now,
        revision: (before?.revision ?? 0) + 1,
      };
      await this.deps.store.saveTemplate(record);
      existing.set(template.id, record);
    }
    if (!isObject(input.definition))
      throw new ValidationError([{ path: [], message: 'journey definition must be an object' }]);
    const definition = this.deps.language.validate(
      { ...input.definition, id },
      { templateIds: new Set(existing.keys()) },
    );
    const aslSha256 = sha256(input.asl);
    const status: JourneyStatus = head?.status === 'paused' ? 'paused' : 'active';
    const published = head?.published;
    if (
      head &&
      published &&
      published.versionArn === input.versionArn &&
      published.aslSha256 === aslSha256 &&
      JSON.stringify(published.definition) === JSON.stringify(definition)
    ) {
      if (head.status !== status) {
        await this.deps.store.saveJourney(
          { ...head, status, updatedAt: now, revision: head.revision + 1 },
          head.revision,
        );
        this.deps.onChange?.(id);
      }
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
        aslSha256,
      },
      createdAt: head?.createdAt ?? now,
      updatedAt: now,
      revision: (head?.revision ?? 0) + 1,
    };
    await this.deps.store.savePublished(next, head?.revision, record);
    this.deps.log?.info('deployed journey registered', { journeyId: id, version });
    this.deps.onChange?.(id);
    return {
      journeyId: id,
      version,
      versionArn: input.versionArn,
      stateMachineArn: input.stateMachineArn,
      status,
      unchanged: false,
    };
  }

  /**
   * The stack no longer deploys this journey (its custom resource was deleted): archived, unless the
   * head now points at another state machine (e.g. published through the API since). Missing: no-op.
   */
  async archiveDeployed(journeyId: string, stateMachineArn: string): Promise<JourneyRecord | undefined> {
    const head = await this.deps.store.getJourney(journeyId);
    if (!head || head.status === 'archived' || head.stateMachineArn !== stateMachineArn) return head;
    return this.archive(journeyId);
  }

  private aslFor(definition: JourneyDocument, version: number): { asl: string; sha256: string } {
    const compiled = this.deps.language.compile(definition, { version });
    const asl = substituteAsl(typeof compiled === 'string' ? compiled : JSON.stringify(compiled), {
      StepFunctionArn: this.deps.stepFunctionArn,
    });
    return { asl, sha256: sha256(asl) };
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
    if (head.status === status) return head;
    const next = { ...head, status, updatedAt: this.now(), revision: head.revision + 1 };
    await this.deps.store.saveJourney(next, head.revision);
    this.deps.log?.info('journey status changed', { journeyId: id, status });
    this.deps.onChange?.(id);
    return next;
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

  /**
   * Published journeys that are active or paused, at their latest version, with definitions: what
   * ingest checks every event against (paused ones too: their goals and exits still apply; only
   * `status: 'active'` journeys accept new entries). One Query; callers cache it for a few seconds.
   */
  async listActiveJourneys(): Promise<ActiveJourney[]> {
    return (await this.deps.store.listJourneys()).flatMap((head) => entryRules(head) ?? []);
  }

  /** One journey's current published version as the runtime sees it, or undefined. */
  async getActiveJourney(id: string): Promise<ActiveJourney | undefined> {
    const head = await this.deps.store.getJourney(id);
    return head ? entryRules(head) : undefined;
  }

  /** `PUT /templates/{id}`: Liquid syntax checked with liquidjs; 400 names the field and line. */
  async putTemplate(id: string, input: unknown): Promise<{ template: TemplateRecord; created: boolean }> {
    assertId(id, 'template');
    if (!isObject(input)) throw new ValidationError([{ path: [], message: 'template must be an object' }]);
    if (input.id !== undefined && input.id !== id) {
      throw new ValidationError([{ path: ['id'], message: `id must be ${id} (the id in the URL)` }]);
    }
    const unknown = Object.keys(input).filter((key) => !['id', 'subject', 'html', 'text'].includes(key));
    if (unknown.length) {
      throw new ValidationError(
        unknown.map((key) => ({ path: [key], message: 'unknown field; a template has subject, html, text' })),
      );
    }
    const body = { subject: input.subject, html: input.html, text: input.text } as EmailTemplate;
    validateTemplate(body);
    const existing = await this.deps.store.getTemplate(id);
    const now = this.now();
    const template: TemplateRecord = {
      id,
      subject: body.subject,
      ...(body.html !== undefined && { html: body.html }),
      ...(body.text !== undefined && { text: body.text }),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      revision: (existing?.revision ?? 0) + 1,
    };
    await this.deps.store.saveTemplate(template);
    return { template, created: !existing };
  }

  async getTemplate(id: string): Promise<TemplateRecord> {
    assertId(id, 'template');
    const template = await this.deps.store.getTemplate(id);
    if (!template) throw new NotFoundError(`template ${id} not found`);
    return template;
  }

  listTemplates(): Promise<TemplateRecord[]> {
    return this.deps.store.listTemplates();
  }
}
