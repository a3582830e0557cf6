import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { NormalizedMessage } from '../events/normalize.js';
import { idRules } from '../ids.js';
import type { Logger } from '../log.js';
import { resubscribeTraits, unsubscribeTraits } from '../messaging/consent.js';
import { type Channel, channels, type Topic } from '../messaging/policy.js';
import { commitTraitChange, getProfile, type ProfileStore } from '../profiles/index.js';

/**
 * Signed unsubscribe links (`<CAIRN_UNSUBSCRIBE_URL>?p=<profileId>&t=<token>[&topic=<id>]`, token =
 * HMAC-SHA256(profileId, secret) in base64url) and what `GET|POST /unsubscribe` does with them:
 *
 *   GET        the preference page: the messaging policy's topics as checkboxes, and buttons to
 *              unsubscribe from the message's topic, from the channel, or from all marketing (plain
 *              HTML forms, escaped, no script)
 *   POST       the page's forms (`action`: topic | channel | all | save | resubscribe), or a mail
 *              client's RFC 8058 one-click (`List-Unsubscribe=One-Click`): unsubscribes from the
 *              link's topic, or from all marketing when the link names none
 *
 * Preferences are profile traits (shared/messaging/consent.ts: `unsubscribed`,
 * `unsubscribedChannels`, `unsubscribedTopics`), written like an `identify` from Cairn, and each
 * unsubscribe emits the track event `Unsubscribed` (`properties.channel`, and `topic` or `scope`) on
 * the bus, so `exitOn: [{ event: Unsubscribed }]` and triggers see it like any event. The token
 * signs the profile only: whoever holds the link may change that profile's preferences, nothing
 * else, so the topic in the link needs no signature. An invalid link gets 403 and never tells
 * whether the profile exists.
 */
/** The event every unsubscribe emits onto the bus. */
export const unsubscribedEvent = 'Unsubscribed';
/** The event a subscription renewed on the preference page emits. */
export const subscribedEvent = 'Subscribed';

/** HMAC-SHA256(profileId, secret), base64url without padding (43 characters). */
export function unsubscribeToken(profileId: string, secret: string): string {
  return createHmac('sha256', secret).update(profileId, 'utf8').digest('base64url');
}

/** Whether `token` is the profile's token; compared in constant time. */
export function verifyUnsubscribeToken(profileId: string, token: string, secret: string): boolean {
  const expected = Buffer.from(unsubscribeToken(profileId, secret), 'utf8');
  const given = Buffer.from(token, 'utf8');
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time independent of `token`.
  const same = timingSafeEqual(expected, given.length === expected.length ? given : expected);
  return same && given.length === expected.length && profileId !== '';
}

/** The message a link was sent in: its execution and node (`e`, `n` in the link). */
export interface UnsubscribeMessage {
  executionName: string;
  nodeId: string;
}

/**
 * The signed link for one profile: `base` + `?p=<profileId>&t=<token>` (or `&` when base has a
 * query), + `&topic=<id>` for a message of that topic (its one-click unsubscribes from the topic),
 * + `&e=<execution>&n=<node>` naming the message it is sent in, so an unsubscribe counts for that
 * message's node (report `messages.<node>.unsubscribed`). Only `p` is signed: `e`/`n` can only
 * point at another message of the same profile, which is checked when it is counted.
 */
export function unsubscribeLink(
  base: string,
  profileId: string,
  secret: string,
  topic?: string,
  message?: UnsubscribeMessage,
): string {
  const query = `p=${encodeURIComponent(profileId)}&t=${unsubscribeToken(profileId, secret)}`;
  return `${base}${base.includes('?') ? '&' : '?'}${query}${linkContext({ topic, message })}`;
}

/** The unsigned parts of a link: `&topic=…&e=…&n=…`, each when present. */
function linkContext(link: { topic?: string; message?: UnsubscribeMessage }): string {
  const topic = link.topic ? `&topic=${encodeURIComponent(link.topic)}` : '';
  const message = link.message
    ? `&e=${encodeURIComponent(link.message.executionName)}&n=${encodeURIComponent(link.message.nodeId)}`
    : '';
  return `${topic}${message}`;
}

/**
 * Sends one message onto the bus as Cairn's own (shared/http/ingestion.ts `publishMessages` with
 * source `cairn`); throws when it could not, so the caller answers 5xx and the user can retry.
 */
export type PublishMessage = (message: NormalizedMessage) => Promise<void>;

/** What a preference change is about: all marketing, one channel, or one topic. */
export type SubscriptionScope = { all: true } | { channel: Channel } | { topic: string };

export interface SubscriptionChange {
  unsubscribe?: SubscriptionScope[];
  resubscribe?: SubscriptionScope[];
  /** The channel the link came by (the `Unsubscribed` event's `properties.channel`), default email. */
  via?: Channel;
}

/** The traits `change` writes onto `traits`, or undefined when it changes nothing. */
function changedTraits(
  traits: Record<string, unknown>,
  change: SubscriptionChange,
):
  | { traits: Record<string, unknown>; unsubscribed: SubscriptionScope[]; resubscribed: SubscriptionScope[] }
  | undefined {
  let current = { ...traits };
  const written: Record<string, unknown> = {};
  const apply = (scopes: SubscriptionScope[] | undefined, rule: typeof unsubscribeTraits) =>
    (scopes ?? []).filter((scope) => {
      const delta = rule(current, scope);
      // resubscribeTraits answers `unsubscribed: false` even when it was not set: no change then.
      const changes = Object.entries(delta).filter(([name, value]) =>
        name === 'unsubscribed' ? (current.unsubscribed === true) !== (value === true) : true,
      );
      if (changes.length === 0) return false;
      Object.assign(written, Object.fromEntries(changes));
      current = { ...current, ...Object.fromEntries(changes) };
      return true;
    });
  const resubscribed = apply(change.resubscribe, resubscribeTraits);
  const unsubscribed = apply(change.unsubscribe, unsubscribeTraits);
  return Object.keys(written).length > 0 ? { traits: written, unsubscribed, resubscribed } : undefined;
}

function scopeProperties(scope: SubscriptionScope, via: Channel): Record<string, unknown> {
  if ('topic' in scope) return { channel: via, topic: scope.topic, scope: 'topic' };
  if ('channel' in scope) return { channel: scope.channel, scope: 'channel' };
  return { channel: via, scope: 'all' };
}

function scopeSuffix(scope: SubscriptionScope): string {
  if ('topic' in scope) return `-topic-${scope.topic}`;
  if ('channel' in scope) return `-channel-${scope.channel}`;
  return '';
}

/**
 * Changes a profile's subscriptions (following merges): emits `Unsubscribed` for each scope it
 * unsubscribes from (and `Subscribed` for each it subscribes again to), then writes the traits
 * through the profile store like an `identify` from Cairn (the timeline shows it,
 * `context.cairn.unsubscribe`). The events go first and their messageIds are the same for every
 * try until the traits are set (`cairn-unsubscribed-<profileId>-<version>[-topic-<id>]`): a retry
 * after a failure in between sends them again and ingest drops the copies; once the traits are set,
 * nothing is sent again. Idempotent: a change already in place, or an unknown profile, writes and
 * emits nothing. Returns whether it wrote.
 */
export async function changeSubscriptions(
  store: ProfileStore,
  clock: Clock,
  profileId: string,
  change: SubscriptionChange,
  publish?: PublishMessage,
): Promise<boolean> {
  const live = await getProfile(store, profileId, true);
  if (!live) return false;
  const planned = changedTraits(live.traits, change);
  if (!planned) return false;
  if (publish) {
    const userId = live.identities.userId[0];
    const anonymousId = live.identities.anonymousId[0];
    const now = new Date(clock.now()).toISOString();
    const via = change.via ?? 'email';
    const events = [
      ...planned.unsubscribed.map((scope) => ({ scope, event: unsubscribedEvent, id: 'unsubscribed' })),
      ...planned.resubscribed.map((scope) => ({ scope, event: subscribedEvent, id: 'subscribed' })),
    ];
    for (const { scope, event, id } of events)
      await publish({
        type: 'track',
        messageId: `cairn-${id}-${live.profileId}-${live.version}${scopeSuffix(scope)}`,
        ...(userId !== undefined && { userId }),
        ...(anonymousId !== undefined && { anonymousId }),
        event,
        properties: scopeProperties(scope, via),
        traits: {},
        context: { cairn: { unsubscribe: true } },
        timestamp: now,
        receivedAt: now,
      });
  }
  return commitTraitChange(store, clock, profileId, {
    traits: (profile) => changedTraits(profile.traits, change)?.traits,
    messageId: (profile) => `cairn-unsubscribe-${profile.profileId}-${profile.version}`,
    context: { cairn: { unsubscribe: true } },
  });
}

/** Unsubscribes a profile from all marketing (`changeSubscriptions` with `{ all: true }`). */
export function unsubscribeProfile(
  store: ProfileStore,
  clock: Clock,
  profileId: string,
  publish?: PublishMessage,
): Promise<boolean> {
  return changeSubscriptions(store, clock, profileId, { unsubscribe: [{ all: true }] }, publish);
}

export interface UnsubscribeRequest {
  method: string;
  query: Record<string, string>;
  /** The raw body: a form post (`p`, `t`, `action`, …) or RFC 8058's `List-Unsubscribe=One-Click`. */
  body: string;
  headers: Record<string, string>;
}

export interface UnsubscribeResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface UnsubscribeDeps {
  secret: string;
  store: ProfileStore;
  clock: Clock;
  /** Emits the `Unsubscribed` / `Subscribed` events onto the bus. */
  publish?: PublishMessage;
  /** The messaging policy's topics, listed on the preference page (none when absent). */
  topics?: () => Promise<readonly Topic[]>;
  /** Counts an unsubscribe that changed something for the message its link came from (`detail`: the scopes). */
  fromMessage?: (message: UnsubscribeMessage, profileId: string, detail: string) => Promise<unknown>;
  log?: Logger;
}

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => escapes[char]!);
}

function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}button{font:inherit;padding:.5rem 1rem}form{margin:1rem 0}fieldset{border:1px solid #ccc;padding:.5rem 1rem}label{display:block;margin:.5rem 0}small{display:block;color:#555;margin-left:1.6rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>${content}</body></html>
`;
}

const html = (status: number, body: string): UnsubscribeResponse => ({
  status,
  contentType: 'text/html; charset=utf-8',
  body,
});
const json = (status: number, body: unknown): UnsubscribeResponse => ({
  status,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(body),
});

function formFields(request: UnsubscribeRequest): URLSearchParams {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded' || type === '' || type === 'text/plain') {
    try {
      return new URLSearchParams(request.body);
    } catch {
      return new URLSearchParams();
    }
  }
  return new URLSearchParams();
}

const channelNames: Record<Channel, string> = {
  email: 'emails',
  sms: 'text messages',
  push: 'push notifications',
};

function channelOf(value: string | null | undefined): Channel {
  return channels.includes(value as Channel) ? (value as Channel) : 'email';
}

function topicOf(value: string | null | undefined): string | undefined {
  return value && idRules.topic.pattern.test(value) ? value : undefined;
}

/** The preference page: every form posts back to the same signed link. */
function preferencePage(
  link: { profileId: string; token: string; topic?: string; channel: Channel; message?: UnsubscribeMessage },
  traits: Record<string, unknown>,
  topics: readonly Topic[],
  notice?: string,
): string {
  const action = `?p=${encodeURIComponent(link.profileId)}&t=${encodeURIComponent(link.token)}${linkContext(
    link,
  )}${link.channel === 'email' ? '' : `&channel=${link.channel}`}`;
  const form = (fields: Record<string, string>, inner: string) =>
    `<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="p" value="${escapeHtml(link.profileId)}"><input type="hidden" name="t" value="${escapeHtml(link.token)}">${Object.entries(
      fields,
    )
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
      .join('')}
${inner}</form>`;
  const off = new Set(
    Array.isArray(traits.unsubscribedTopics) ? (traits.unsubscribedTopics as string[]) : [],
  );
  const offChannels = Array.isArray(traits.unsubscribedChannels)
    ? (traits.unsubscribedChannels as string[])
    : [];
  const parts: string[] = [];
  if (notice) parts.push(`<p role="status"><strong>${escapeHtml(notice)}</strong></p>`);
  const own = link.topic ? topics.find((topic) => topic.id === link.topic) : undefined;
  if (traits.unsubscribed === true)
    parts.push(
      `<p>You are unsubscribed from all marketing messages.</p>`,
      form({ action: 'resubscribe' }, '<button type="submit">Subscribe again</button>'),
    );
  else if (own && !off.has(own.id))
    parts.push(
      `<p>You received this as part of <strong>${escapeHtml(own.name)}</strong>.</p>`,
      form(
        { action: 'topic', topic: own.id },
        `<button type="submit">Unsubscribe from ${escapeHtml(own.name)}</button>`,
      ),
    );
  if (topics.length > 0) {
    const boxes = topics
      .map(
        (topic) =>
          `<label><input type="checkbox" name="subscribed" value="${escapeHtml(topic.id)}"${
            off.has(topic.id) ? '' : ' checked'
          }> ${escapeHtml(topic.name)}${
            topic.description ? `<small>${escapeHtml(topic.description)}</small>` : ''
          }</label>`,
      )
      .join('\n');
    parts.push(
      '<h2>Topics</h2>',
      form(
        { action: 'save' },
        `<fieldset><legend>Send me</legend>\n${boxes}\n</fieldset>\n<button type="submit">Save</button>`,
      ),
    );
  }
  parts.push('<h2>Everything</h2>');
  if (!offChannels.includes(link.channel))
    parts.push(
      form(
        { action: 'channel', channel: link.channel },
        `<button type="submit">Unsubscribe from all ${channelNames[link.channel]}</button>`,
      ),
    );
  if (traits.unsubscribed !== true)
    parts.push(form({ action: 'all' }, '<button type="submit">Unsubscribe from all marketing</button>'));
  parts.push('<p><small>Messages about your account and your orders are still sent.</small></p>');
  return page('Your subscriptions', parts.join('\n'));
}

/** What a POST asks for; undefined when it names a scope that is not one. */
function requestedChange(
  form: URLSearchParams,
  link: { topic?: string; channel: Channel },
  topics: readonly Topic[],
): (SubscriptionChange & { said: string }) | undefined {
  const via = link.channel;
  // RFC 8058: the mail client posts `List-Unsubscribe=One-Click` to the link in the header.
  if (form.get('List-Unsubscribe') === 'One-Click')
    return link.topic
      ? { unsubscribe: [{ topic: link.topic }], via, said: 'You are unsubscribed from this topic.' }
      : { unsubscribe: [{ all: true }], via, said: 'You are unsubscribed.' };
  const action = form.get('action');
  switch (action) {
    case 'topic': {
      const topic = topicOf(form.get('topic'));
      return topic
        ? { unsubscribe: [{ topic }], via, said: 'You are unsubscribed from this topic.' }
        : undefined;
    }
    case 'channel': {
      const channel = form.get('channel');
      if (!channels.includes(channel as Channel)) return undefined;
      return {
        unsubscribe: [{ channel: channel as Channel }],
        via,
        said: `You are unsubscribed from all ${channelNames[channel as Channel]}.`,
      };
    }
    case 'save': {
      const wanted = new Set(form.getAll('subscribed'));
      return {
        resubscribe: topics.filter((t) => wanted.has(t.id)).map((t) => ({ topic: t.id })),
        unsubscribe: topics.filter((t) => !wanted.has(t.id)).map((t) => ({ topic: t.id })),
        via,
        said: 'Your preferences are saved.',
      };
    }
    case 'resubscribe':
      return {
        resubscribe: [{ all: true }, { channel: via }],
        via,
        said: 'You are subscribed again.',
      };
    case 'all':
    case null:
      // The form of earlier emails posted no action: it meant everything.
      return { unsubscribe: [{ all: true }], via, said: 'You are unsubscribed.' };
    default:
      return undefined;
  }
}

/**
 * `GET /unsubscribe?p&t[&topic][&channel]`: the preference page. `POST` the same link: the page's
 * forms, or RFC 8058 one-click; then the page again with what changed (HTML when the caller
 * accepts it, JSON otherwise). A wrong or missing token: 403, the same answer whether or not the
 * profile exists.
 */
export async function handleUnsubscribe(
  deps: UnsubscribeDeps,
  request: UnsubscribeRequest,
): Promise<UnsubscribeResponse> {
  const method = request.method.toUpperCase();
  const form = method === 'POST' ? formFields(request) : new URLSearchParams();
  const profileId = request.query.p ?? form.get('p') ?? '';
  const token = request.query.t ?? form.get('t') ?? '';
  const wantsHtml = method === 'GET' || (request.headers.accept ?? '').includes('text/html');
  if (!verifyUnsubscribeToken(profileId, token, deps.secret)) {
    deps.log?.info('unsubscribe link rejected', { method });
    return wantsHtml
      ? html(
          403,
          page(
            'Link not valid',
            '<p>This unsubscribe link is not valid. Use the link in the latest message you received.</p>',
          ),
        )
      : json(403, { error: { code: 'forbidden', message: 'this unsubscribe link is not valid' } });
  }
  const topic = topicOf(request.query.topic);
  const executionName = request.query.e;
  const nodeId = request.query.n;
  const message = executionName && nodeId ? { executionName, nodeId } : undefined;
  const link = {
    profileId,
    token,
    channel: channelOf(request.query.channel),
    ...(topic && { topic }),
    ...(message && { message }),
  };
  const topics = (await deps.topics?.()) ?? [];
  const traitsNow = async () => (await getProfile(deps.store, profileId))?.traits ?? {};
  if (method === 'GET') return html(200, preferencePage(link, await traitsNow(), topics));

  const change = requestedChange(form, link, topics);
  if (!change) {
    const message = 'the form asks for a change that is not one (action, topic or channel)';
    return wantsHtml
      ? html(400, page('Not changed', `<p>${escapeHtml(message)}.</p>`))
      : json(400, { error: { code: 'validation', message } });
  }
  const changed = await changeSubscriptions(deps.store, deps.clock, profileId, change, deps.publish);
  const unsubscribed = change.unsubscribe ?? [];
  if (changed && message && deps.fromMessage && unsubscribed.length > 0) {
    const detail = unsubscribed
      .map((scope) =>
        'topic' in scope ? `topic:${scope.topic}` : 'channel' in scope ? `channel:${scope.channel}` : 'all',
      )
      .join(',');
    // The change is made: counting it must not turn it into an error page.
    await deps.fromMessage(message, profileId, detail).catch((error: unknown) => {
      deps.log?.warn('unsubscribe not counted for its message', { error: (error as Error).message });
    });
  }
  deps.log?.info('subscriptions changed', {
    changed,
    oneClick: form.get('List-Unsubscribe') === 'One-Click',
    action: form.get('action') ?? 'all',
  });
  if (!wantsHtml) {
    const scope = change.unsubscribe?.[0];
    return json(200, {
      unsubscribed: (change.unsubscribe?.length ?? 0) > 0,
      ...(scope && 'topic' in scope && change.unsubscribe!.length === 1 && { topic: scope.topic }),
      ...(scope && 'channel' in scope && { channel: scope.channel }),
    });
  }
  return html(200, preferencePage(link, await traitsNow(), topics, change.said));
}
