import { Liquid, LiquidError, type Template } from 'liquidjs';
import { type Issue, ValidationError } from '../errors.js';
import { stableHash } from '../ids.js';
import type { TemplateVariables } from '../journeys/nodes/message.js';
import { isObject } from '../json.js';

/**
 * Liquid rendering of message templates (liquidjs: the language Braze, Customer.io and Shopify users
 * know). Strict filters so a typo in a filter name is an error instead of silent output; no file
 * system: `templates: {}` makes `include`/`render`/`layout` resolve against an empty in-memory map.
 * Only `html` is HTML-escaped on output; subject and text are plain text. What templates see is the
 * message nodes' `TemplateVariables` (shared/journeys/nodes/message.ts): the port this implements.
 */

/** An email template body as stored by the catalog (`PUT /templates/{id}`); `channel` may be left out. */
export interface EmailTemplate {
  channel?: 'email';
  subject: string;
  html?: string;
  text?: string;
}

/** An SMS template: `{ "channel": "sms", "text" }`. */
export interface SmsTemplate {
  channel: 'sms';
  text: string;
}

/** A push template: `{ "channel": "push", "title", "body", "data"? }`; each data value is Liquid too. */
export interface PushTemplate {
  channel: 'push';
  title: string;
  body: string;
  data?: Record<string, string>;
}

/** Any message template: one shape per channel, told apart by `channel` (email when absent). */
export type MessageTemplate = EmailTemplate | SmsTemplate | PushTemplate;
export type TemplateChannel = 'email' | 'sms' | 'push';

/** A template with its id: a template file (`<id>.template.yaml`), a deployed journey's template. */
export type TemplateWithId<T extends MessageTemplate = MessageTemplate> = { id: string } & T;

/**
 * What a template renders to, per channel: the content a channel adapter sends (shared/channels).
 * The email template's fields without `channel`, rendered (plain-text subject, escaped html, text).
 */
export type RenderedEmail = Omit<EmailTemplate, 'channel'>;
/** The SMS template's fields without `channel`, rendered. */
export type RenderedSms = Omit<SmsTemplate, 'channel'>;
/** The push template's fields without `channel`, rendered (each data value too). */
export type RenderedPush = Omit<PushTemplate, 'channel'>;

/** A field of some channel's template, besides `channel`. */
export type TemplateField = 'subject' | 'html' | 'text' | 'title' | 'body' | 'data';

/**
 * A template's fields before they are checked (a request body, a file): any of every channel's,
 * values of any type. validateTemplate turns it into a MessageTemplate or says what is wrong.
 */
export type UncheckedTemplate = { channel?: unknown } & { [F in TemplateField]?: unknown };

/** The fields each channel's template has, besides `channel`. */
export const templateFields: Record<TemplateChannel, readonly TemplateField[]> = {
  email: ['subject', 'html', 'text'],
  sms: ['text'],
  push: ['title', 'body', 'data'],
};

/** The channel a template is for: its `channel` field, email when absent. */
export function templateChannel(template: { channel?: unknown }): TemplateChannel {
  return template.channel === 'sms' || template.channel === 'push' ? template.channel : 'email';
}

/** Only a template's own fields (by its channel), from a request body or a file, still unchecked. */
export function pickTemplate(input: UncheckedTemplate): UncheckedTemplate {
  const channel = templateChannel(input);
  const picked: UncheckedTemplate = channel === 'email' ? {} : { channel };
  for (const field of templateFields[channel]) if (input[field] !== undefined) picked[field] = input[field];
  return picked;
}

/**
 * A checked template's own fields, without what a stored record or a template file adds (id,
 * timestamps, revision): the same fields, in the same order, as pickTemplate keeps.
 */
export function templateOf(template: MessageTemplate): MessageTemplate {
  if (template.channel === 'sms') return { channel: 'sms', text: template.text };
  if (template.channel === 'push') {
    const { title, body, data } = template;
    return { channel: 'push', title, body, ...(data !== undefined && { data }) };
  }
  const { subject, html, text } = template;
  return { subject, ...(html !== undefined && { html }), ...(text !== undefined && { text }) };
}

const fields = ['subject', 'html', 'text'] as const;
type Field = (typeof fields)[number] | 'title' | 'body' | `data.${string}`;

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

/** The Liquid sources of an SMS or push template, by field (`data.<key>` for push data). */
function sourcesOf(template: UncheckedTemplate & { channel: 'sms' | 'push' }): [Field, unknown][] {
  if (template.channel === 'sms') return [['text', template.text]];
  const data = template.data;
  const entries = isObject(data)
    ? Object.entries(data).map(([key, value]): [Field, unknown] => [`data.${key}`, value])
    : [];
  return [['title', template.title], ['body', template.body], ...entries];
}

/** SMS and push: every field required except push `data`, which must map names to strings. */
function channelIssues(template: UncheckedTemplate & { channel: 'sms' | 'push' }): Issue[] {
  const issues: Issue[] = [];
  const required = template.channel === 'sms' ? (['text'] as const) : (['title', 'body'] as const);
  for (const field of required) {
    const value = template[field];
    if (typeof value !== 'string' || value.trim() === '')
      issues.push({ path: [field], message: `${field} is required (a ${template.channel} template)` });
  }
  if (template.channel === 'push' && template.data !== undefined && !isObject(template.data))
    issues.push({ path: ['data'], message: 'must be an object of strings' });
  return issues;
}

/**
 * Checks that every field of a template parses (syntax, unknown filters, unknown tags); throws a
 * ValidationError listing every problem with its field. For `PUT /templates/{id}`, files and deploys.
 */
export function validateTemplate(template: UncheckedTemplate): asserts template is MessageTemplate {
  const issues: Issue[] = [];
  const sources: [Field, unknown][] = [];
  const { channel } = template;
  if (channel === 'sms' || channel === 'push') {
    issues.push(...channelIssues({ ...template, channel }));
    sources.push(...sourcesOf({ ...template, channel }));
  } else {
    if (typeof template.subject !== 'string' || template.subject.trim() === '') {
      issues.push({ path: ['subject'], message: 'subject is required' });
    }
    if (template.html === undefined && template.text === undefined) {
      issues.push({ path: ['html'], message: 'a template needs html or text' });
    }
    for (const field of fields) sources.push([field, template[field]]);
  }
  for (const [field, source] of sources) {
    if (source === undefined) continue;
    if (typeof source !== 'string') {
      if (!issues.some((issue) => issue.path[0] === field))
        issues.push({
          path: field.startsWith('data.') ? ['data', field.slice(5)] : [field],
          message: 'must be a string',
        });
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

/** Renders each field of an SMS or push template (plain text, no escaping). */
async function renderPlain(
  template: SmsTemplate | PushTemplate,
  context: TemplateVariables,
): Promise<Record<string, string>> {
  const issues: Issue[] = [];
  const out: Record<string, string> = {};
  for (const [field, source] of sourcesOf(template)) {
    if (typeof source !== 'string') continue;
    try {
      out[field] = await plainEngine.render(parse(field, source), context);
    } catch (error) {
      issues.push(issueFor(field, error));
    }
  }
  if (issues.length) throw new ValidationError(issues);
  return out;
}

/** An SMS: the rendered text, trimmed (a trailing newline would cost a character, maybe a part). */
export async function renderSms(template: SmsTemplate, context: TemplateVariables): Promise<RenderedSms> {
  const out = await renderPlain(template, context);
  return { text: (out.text ?? '').trim() };
}

/** A push notification: title and body on one line each, data values rendered. */
export async function renderPush(template: PushTemplate, context: TemplateVariables): Promise<RenderedPush> {
  const out = await renderPlain(template, context);
  const oneLine = (value: string | undefined) => (value ?? '').replace(/\s*[\r\n]+\s*/g, ' ').trim();
  const data = Object.fromEntries(
    Object.entries(out)
      .filter(([field]) => field.startsWith('data.'))
      .map(([field, value]) => [field.slice('data.'.length), value]),
  );
  return {
    title: oneLine(out.title),
    body: out.body?.trim() ?? '',
    ...(Object.keys(data).length > 0 && { data }),
  };
}

/** Renders every present field; throws a ValidationError naming each field that failed and why. */
export async function renderEmail(
  template: EmailTemplate,
  context: TemplateVariables,
): Promise<RenderedEmail> {
  const issues: Issue[] = [];
  const out: Partial<Record<Field, string>> = {};
  for (const field of fields) {
    const source = template[field];
    if (source === undefined) continue;
    try {
      out[field] = await engineFor(field).render(parse(field, source), context);
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
