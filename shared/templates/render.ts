import { Liquid, LiquidError, type Template } from 'liquidjs';
import { type Issue, ValidationError } from '../errors.js';
import { stableHash } from '../ids.js';
import type { RenderedEmail, TemplateVariables } from '../journeys/nodes/email.js';

/**
 * Liquid rendering of message templates (liquidjs: the language Braze, Customer.io and Shopify users
 * know). Strict filters so a typo in a filter name is an error instead of silent output; no file
 * system: `templates: {}` makes `include`/`render`/`layout` resolve against an empty in-memory map.
 * Only `html` is HTML-escaped on output; subject and text are plain text.
 */

/** An email template body as stored by the catalog (`PUT /templates/{id}`). */
export interface EmailTemplate {
  subject: string;
  html?: string;
  text?: string;
}

/** What templates see; defined by the email node, which is the port this renderer implements. */
export type TemplateContext = TemplateVariables;
export type { RenderedEmail };

const fields = ['subject', 'html', 'text'] as const;
type Field = (typeof fields)[number];

const limits = { parseLimit: 200_000, renderLimit: 1_000, memoryLimit: 10_000_000 };
const common = { strictFilters: true, ownPropertyOnly: true, templates: {}, ...limits };
const plainEngine = new Liquid({ ...common });
const htmlEngine = new Liquid({ ...common, outputEscape: 'escape' });

/** Schemes a link in a message may use; anything else (`javascript:`, `data:`, `vbscript:`) is refused. */
const safeSchemes = new Set(['http', 'https', 'mailto', 'tel']);
/** What `safe_url` gives for a refused URL: a link that goes nowhere. */
export const refusedUrl = '#';

/**
 * `{{ profile.website | safe_url }}`: the URL when it is http(s), mailto, tel or relative, else `#`.
 * Browsers ignore tabs and newlines in a URL and leading spaces or control characters, so
 * `java\nscript:` is `javascript:`: they are removed before the scheme is read. HTML escaping (in
 * `html`) still applies after the filter, so the URL cannot leave the attribute either.
 */
export function safeUrl(value: unknown): string {
  if (value === undefined || value === null) return '';
  let url = String(value).replace(/[\t\n\r]/g, '');
  let start = 0;
  while (start < url.length && url.charCodeAt(start) <= 0x20) start++;
  url = url.slice(start);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return url.startsWith('\\') ? refusedUrl : url;
  return safeSchemes.has(scheme) ? url : refusedUrl;
}

for (const engine of [plainEngine, htmlEngine]) engine.registerFilter('safe_url', safeUrl);

function engineFor(field: Field): Liquid {
  return field === 'html' ? htmlEngine : plainEngine;
}

/** Parsed templates by content: the same template renders many times per container. */
const parsed = new Map<string, Template[]>();
const maxCached = 500;

function parse(field: Field, source: string): Template[] {
  const key = stableHash(field, source);
  const hit = parsed.get(key);
  if (hit) return hit;
  const templates = engineFor(field).parse(source);
  if (parsed.size >= maxCached) parsed.delete(parsed.keys().next().value as string);
  parsed.set(key, templates);
  return templates;
}

/** A Liquid error as one issue with the field path and the line/column the engine reports. */
function issueFor(field: Field, error: unknown): Issue {
  if (LiquidError.is(error)) {
    const [line, col] = error.token?.getPosition?.() ?? [];
    const where = line ? ` (line ${line}, column ${col})` : '';
    let message = (error.originalError?.message ?? error.message).replace(/, line:\d+, col:\d+$/, '');
    if (message.startsWith('ENOENT')) message = 'templates cannot include other templates or files';
    return { path: [field], message: `${message}${where}` };
  }
  return { path: [field], message: error instanceof Error ? error.message : String(error) };
}

/**
 * Checks that every field of a template parses (syntax, unknown filters, unknown tags); throws a
 * ValidationError listing every problem with its field. For `PUT /templates/{id}`.
 */
export function validateTemplate(template: EmailTemplate): void {
  const issues: Issue[] = [];
  if (typeof template.subject !== 'string' || template.subject.trim() === '') {
    issues.push({ path: ['subject'], message: 'subject is required' });
  }
  if (template.html === undefined && template.text === undefined) {
    issues.push({ path: ['html'], message: 'a template needs html or text' });
  }
  for (const field of fields) {
    const source = template[field];
    if (source === undefined) continue;
    if (typeof source !== 'string') {
      issues.push({ path: [field], message: 'must be a string' });
      continue;
    }
    try {
      parse(field, source);
    } catch (error) {
      issues.push(issueFor(field, error));
    }
  }
  if (issues.length) throw new ValidationError(issues);
}

/** Renders every present field; throws a ValidationError naming each field that failed and why. */
export async function renderEmail(template: EmailTemplate, context: TemplateContext): Promise<RenderedEmail> {
  const issues: Issue[] = [];
  const out: Partial<Record<Field, string>> = {};
  const scope = context as unknown as Record<string, unknown>;
  for (const field of fields) {
    const source = template[field];
    if (source === undefined) continue;
    try {
      out[field] = await engineFor(field).render(parse(field, source), scope);
    } catch (error) {
      issues.push(issueFor(field, error));
    }
  }
  if (issues.length) throw new ValidationError(issues);
  // A subject is one line: newlines from the template or the data would break the header.
  const subject = (out.subject ?? '').replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return {
    subject,
    ...(out.html !== undefined && { html: out.html }),
    ...(out.text !== undefined && { text: out.text }),
  };
}
