import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { NormalizedMessage } from '../events/normalize.js';
import type { Logger } from '../log.js';
import { commitTraitChange, getProfile, type ProfileStore } from '../profiles/index.js';

/**
 * Signed unsubscribe links (`<CAIRN_UNSUBSCRIBE_URL>?p=<profileId>&t=<token>`, token =
 * HMAC-SHA256(profileId, secret) in base64url) and what `GET|POST /unsubscribe` does with them:
 * a confirmation page, then the profile trait `unsubscribed: true` (the email node skips such
 * profiles) and a track event `Unsubscribed` on the bus (so `exitOn: [{ event: Unsubscribed }]` and
 * triggers see it like any event). An invalid link gets 403 and never tells whether the profile exists.
 */

/** The event every unsubscribe emits onto the bus. */
export const unsubscribedEvent = 'Unsubscribed';

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

/** The signed link for one profile: `base` + `?p=<profileId>&t=<token>` (or `&` when base has a query). */
export function unsubscribeLink(base: string, profileId: string, secret: string): string {
  const query = `p=${encodeURIComponent(profileId)}&t=${unsubscribeToken(profileId, secret)}`;
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}

/**
 * Sends one message onto the bus as Cairn's own (shared/http/ingestion.ts `publishMessages` with
 * source `cairn`); throws when it could not, so the caller answers 5xx and the user can retry.
 */
export type PublishMessage = (message: NormalizedMessage) => Promise<void>;

/**
 * Unsubscribes a profile (following merges): emits the track event `Unsubscribed` for it, then sets
 * `unsubscribed: true` through the profile store like an `identify` from Cairn (the timeline shows
 * it, `context.cairn.unsubscribe`). The event goes first and its messageId is the same for every try
 * until the trait is set (`cairn-unsubscribed-<profileId>-<version>`): a retry after a failure in
 * between sends it again and ingest drops the copy; once the trait is set, nothing is sent again.
 * Idempotent: an already unsubscribed or unknown profile writes and emits nothing. Returns whether
 * it wrote.
 */
export async function unsubscribeProfile(
  store: ProfileStore,
  clock: Clock,
  profileId: string,
  publish?: PublishMessage,
): Promise<boolean> {
  const live = await getProfile(store, profileId, true);
  if (!live || live.traits.unsubscribed === true) return false;
  if (publish) {
    const userId = live.identities.userId[0];
    const anonymousId = live.identities.anonymousId[0];
    const now = new Date(clock.now()).toISOString();
    await publish({
      type: 'track',
      messageId: `cairn-unsubscribed-${live.profileId}-${live.version}`,
      ...(userId !== undefined && { userId }),
      ...(anonymousId !== undefined && { anonymousId }),
      event: unsubscribedEvent,
      properties: { channel: 'email' },
      traits: {},
      context: { cairn: { unsubscribe: true } },
      timestamp: now,
      receivedAt: now,
    });
  }
  return commitTraitChange(store, clock, profileId, {
    traits: (profile) => (profile.traits.unsubscribed === true ? undefined : { unsubscribed: true }),
    messageId: (profile) => `cairn-unsubscribe-${profile.profileId}-${profile.version}`,
    context: { cairn: { unsubscribe: true } },
  });
}

export interface UnsubscribeRequest {
  method: string;
  query: Record<string, string>;
  /** The raw body: a form post (`p`, `t`) or RFC 8058's `List-Unsubscribe=One-Click`. */
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
  /** Emits the `Unsubscribed` event onto the bus. */
  publish?: PublishMessage;
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
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}button{font:inherit;padding:.5rem 1rem}</style>
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

/**
 * `GET /unsubscribe?p&t`: a confirmation page whose form POSTs the same link. `POST /unsubscribe?p&t`
 * (the form, or a mail client's RFC 8058 one-click POST with `List-Unsubscribe=One-Click`):
 * unsubscribes, then a confirmation page (HTML when the caller accepts it, JSON otherwise). A wrong
 * or missing token: 403, the same answer whether or not the profile exists.
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
            '<p>This unsubscribe link is not valid. Use the link in the latest email you received.</p>',
          ),
        )
      : json(403, { error: { code: 'forbidden', message: 'this unsubscribe link is not valid' } });
  }
  if (method === 'GET') {
    const action = `?p=${encodeURIComponent(profileId)}&t=${encodeURIComponent(token)}`;
    return html(
      200,
      page(
        'Unsubscribe',
        `<p>Stop receiving these emails?</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="p" value="${escapeHtml(profileId)}"><input type="hidden" name="t" value="${escapeHtml(token)}">
<button type="submit">Unsubscribe</button></form>`,
      ),
    );
  }
  const changed = await unsubscribeProfile(deps.store, deps.clock, profileId, deps.publish);
  deps.log?.info('unsubscribe', { changed, oneClick: form.get('List-Unsubscribe') === 'One-Click' });
  return wantsHtml
    ? html(200, page('You are unsubscribed', '<p>You will not receive these emails any more.</p>'))
    : json(200, { unsubscribed: true });
}
