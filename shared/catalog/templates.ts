import type { Clock } from '../clock.js';
import { isoAt } from '../clock.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { assertId } from '../ids.js';
import { isObject } from '../json.js';
import {
  type MessageTemplate,
  pickTemplate,
  type TemplateWithId,
  templateChannel,
  templateFields,
  templateOf,
  type UncheckedTemplate,
  validateTemplate,
} from '../templates/render.js';
import type { CatalogStore, TemplateRecord } from './types.js';

/** Message templates: `PUT /templates/{id}` and the templates a CDK-deployed journey brings along. */
export class TemplateCatalog {
  constructor(private readonly deps: { store: CatalogStore; clock: Clock }) {}

  /** `PUT /templates/{id}`: Liquid syntax checked with liquidjs; 400 names the field and line. */
  async put(id: string, input: unknown): Promise<{ template: TemplateRecord; created: boolean }> {
    assertId(id, 'template');
    if (!isObject(input)) throw new ValidationError([{ path: [], message: 'template must be an object' }]);
    if (input.id !== undefined && input.id !== id) {
      throw new ValidationError([{ path: ['id'], message: `id must be ${id} (the id in the URL)` }]);
    }
    if (input.channel !== undefined && !['email', 'sms', 'push'].includes(input.channel as string)) {
      throw new ValidationError([{ path: ['channel'], message: 'must be email, sms or push' }]);
    }
    const channel = templateChannel(input);
    const allowed: readonly string[] = ['id', 'channel', ...templateFields[channel]];
    const unknown = Object.keys(input).filter((key) => !allowed.includes(key));
    if (unknown.length) {
      const fields = templateFields[channel].join(', ');
      throw new ValidationError(
        unknown.map((key) => ({
          path: [key],
          message: `unknown field; a ${channel} template has ${fields}`,
        })),
      );
    }
    const body = pickTemplate(input);
    validateTemplate(body);
    const existing = await this.deps.store.getTemplate(id);
    const template = await this.save(id, body, existing, isoAt(this.deps.clock));
    return { template, created: !existing };
  }

  async get(id: string): Promise<TemplateRecord> {
    assertId(id, 'template');
    const template = await this.deps.store.getTemplate(id);
    if (!template) throw new NotFoundError(`template ${id} not found`);
    return template;
  }

  list(): Promise<TemplateRecord[]> {
    return this.deps.store.listTemplates();
  }

  /**
   * Writes the given templates where they differ from the stored ones (one PutItem each); returns
   * every stored template id, the written ones included.
   */
  async saveChanged(templates: TemplateWithId[], stored: TemplateRecord[]): Promise<Set<string>> {
    const now = isoAt(this.deps.clock);
    const existing = new Map(stored.map((template) => [template.id, template]));
    for (const template of templates) {
      assertId(template.id, 'template');
      const before = existing.get(template.id);
      const body = pickTemplate(template);
      if (before && sameTemplate(before, body)) continue;
      validateTemplate(body);
      existing.set(template.id, await this.save(template.id, body, before, now));
    }
    return new Set(existing.keys());
  }

  /** Writes a validated template as the next revision of `before` (one PutItem). */
  private async save(
    id: string,
    body: MessageTemplate,
    before: TemplateRecord | undefined,
    now: string,
  ): Promise<TemplateRecord> {
    const record: TemplateRecord = {
      id,
      ...body,
      createdAt: before?.createdAt ?? now,
      updatedAt: now,
      revision: (before?.revision ?? 0) + 1,
    };
    await this.deps.store.saveTemplate(record);
    return record;
  }
}

/** Whether a stored template has exactly these fields (a deploy rewrites only what changed). */
function sameTemplate(before: TemplateRecord, body: UncheckedTemplate): boolean {
  return JSON.stringify(templateOf(before)) === JSON.stringify(body);
}
