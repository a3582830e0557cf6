import type { Broadcasts } from '../../shared/broadcasts/service.js';
import type { JourneyCatalog } from '../../shared/catalog/catalog.js';
import type {
  JourneyRecord,
  JourneyVersionRecord,
  JourneyVersionSummary,
  TemplateRecord,
} from '../../shared/catalog/types.js';
import type { UnsubscribeRequest, UnsubscribeResponse } from '../../shared/channels/unsubscribe.js';
import { NotFoundError, NotImplementedError, ValidationError } from '../../shared/errors.js';
import {
  type NormalizedMessage,
  type ParseDeps,
  parseBatch,
  parseMessage,
} from '../../shared/events/index.js';
import type { TokenVerifier, WriteKeyVerifier } from '../../shared/http/auth.js';
import { type EventPublisher, publishMessages } from '../../shared/http/ingestion.js';
import { type HttpRequest, Router } from '../../shared/http/router.js';
import type { Logger } from '../../shared/log.js';
import { type SegmentType, segmentTypes } from '../../shared/routing.js';
import {
  deleteSegment,
  getSegment,
  listMembers,
  listSegments,
  previewSegment,
  putSegment,
  type SegmentServiceDeps,
  segmentsOfProfile,
} from '../../shared/segments/service.js';
import { templateChannel, templateOf } from '../../shared/templates/render.js';
import type { DashboardAssets } from './app/assets.js';
import { type DerivedApi, derivedRoutes } from './derived-routes.js';
import { type MessagingApi, messagingRoutes } from './messaging-routes.js';

/**
 * The HTTP API (README.md and functions/api/README.md): each route parses its input, calls one domain function and returns
 * its result; errors are CairnErrors mapped to responses by shared/http/respond.ts.
 */

/** Profiles (shared/profiles). Each throws NotFoundError when there is no such profile. */
export interface ProfilesApi {
  find(query: { userId?: string; anonymousId?: string; email?: string; phone?: string }): Promise<unknown>;
  get(profileId: string): Promise<unknown>;
  timeline(profileId: string, options: { limit?: number; cursor?: string }): Promise<unknown>;
  erase(profileId: string): Promise<unknown>;
}

/** Journey runtime (shared/runtime): entering customers, stats, messages. */
export interface RuntimeApi {
  enroll(journeyId: string, input: unknown): Promise<unknown>;
  stats(journeyId: string): Promise<unknown>;
  messages(query: {
    profileId?: string;
    journeyId?: string;
    limit?: number;
    cursor?: string;
  }): Promise<unknown>;
  /** Stops the profile's executions of the journey; NotFoundError when it is in none. */
  removeFromJourney(journeyId: string, profileId: string): Promise<unknown>;
}

/** Signed unsubscribe links (shared/channels/unsubscribe.ts `handleUnsubscribe`). */
export type UnsubscribeApi = (request: UnsubscribeRequest) => Promise<UnsubscribeResponse>;

/** Write keys stored hashed (shared/catalog/write-keys.ts). */
export interface WriteKeysApi {
  create(source: string): Promise<{ writeKey: string; keyId: string; source: string }>;
  /** Every key created through the API, newest first: ids and sources, never the key itself. */
  list(): Promise<WriteKeySummary[]>;
  revoke(keyId: string): Promise<void>;
}

export interface WriteKeySummary {
  keyId: string;
  source: string;
  createdAt: string;
  revoked: boolean;
  revokedAt?: string;
}

/** Journey analytics (shared/analytics/api.ts). */
export interface AnalyticsRoutesApi {
  report(journeyId: string, query: Record<string, string>): Promise<unknown>;
  reportCsv(journeyId: string, query: Record<string, string>): Promise<string>;
  paths(journeyId: string, query: Record<string, string>): Promise<unknown>;
}

export interface ApiDeps {
  catalog: JourneyCatalog;
  publisher: EventPublisher;
  parse: ParseDeps;
  writeKeys: WriteKeyVerifier;
  tokens: TokenVerifier;
  /** Missing while that part of Cairn is not wired: the routes answer 501. */
  profiles?: ProfilesApi;
  runtime?: RuntimeApi;
  analytics?: AnalyticsRoutesApi;
  /** The dashboard's built files (`GET /app/`); missing: 501. */
  dashboard?: DashboardAssets;
  writeKeyAdmin?: WriteKeysApi;
  unsubscribe?: UnsubscribeApi;
  /** Computed traits, scores, lifecycle (functions/api/derived-routes.ts). */
  derived?: DerivedApi;
  /** Messaging policy, suppressions, inbound SMS (functions/api/messaging-routes.ts). */
  messaging?: MessagingApi;
  segments?: SegmentServiceDeps;
  /** Scheduled and recurring broadcasts (shared/broadcasts). */
  broadcasts?: Pick<Broadcasts, 'create' | 'get' | 'list' | 'cancel'>;
  log?: Logger;
}

function journeySummary(journey: JourneyRecord) {
  return {
    id: journey.id,
    name: journey.name,
    status: journey.status,
    latestVersion: journey.latestVersion,
    publishedVersion: journey.published?.version ?? null,
    draftUpdatedAt: journey.draftUpdatedAt,
    createdAt: journey.createdAt,
    updatedAt: journey.updatedAt,
  };
}

function journeyDetail(
  journey: JourneyRecord,
  versions: JourneyVersionSummary[],
  latest: JourneyVersionRecord | undefined,
) {
  return {
    ...journeySummary(journey),
    definition: journey.draft,
    stateMachineArn: journey.stateMachineArn ?? null,
    published: journey.published
      ? {
          version: journey.published.version,
          versionArn: journey.published.versionArn,
          aliasArn: journey.published.aliasArn ?? null,
          publishedAt: journey.published.publishedAt,
          definition: journey.published.definition,
        }
      : null,
    versions: versions.map((version) => ({
      version: version.version,
      versionArn: version.versionArn,
      publishedAt: version.publishedAt,
    })),
    asl: latest ? JSON.parse(latest.asl) : null,
  };
}

function templateView(template: TemplateRecord) {
  const { id, createdAt, updatedAt, revision } = template;
  const body = templateOf(template);
  return { id, channel: templateChannel(template), ...body, createdAt, updatedAt, revision };
}

function intParam(request: HttpRequest, name: string): number | undefined {
  const raw = request.query[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new ValidationError([{ path: [name], message: `${name} must be an integer from 1 to 1000` }]);
  }
  return value;
}

function need<T>(part: T | undefined, what: string): T {
  if (!part) throw new NotImplementedError(`${what} is not available in this deployment yet`);
  return part;
}

export function createRouter(deps: ApiDeps): Router {
  const { catalog } = deps;
  const router = new Router({ writeKeys: deps.writeKeys, tokens: deps.tokens, log: deps.log });

  // Ingestion (Segment HTTP API). A batch with any invalid message is rejected whole (400 listing
  // every bad entry), as Segment does: nothing is half-sent.
  const ingest = (type?: SegmentType) => async (request: HttpRequest) => {
    const messages: NormalizedMessage[] = type
      ? [parseMessage(request.body(), deps.parse, { type })]
      : parseBatch(request.body(), deps.parse);
    const source = request.principal.kind === 'writeKey' ? request.principal.source : 'cairn.http';
    await publishMessages(messages, { publisher: deps.publisher, source });
    return { body: { success: true } };
  };
  for (const type of segmentTypes) router.on('POST', `/v1/${type}`, 'writeKey', ingest(type));
  router.on('POST', '/v1/batch', 'writeKey', ingest());

  // Journeys.
  router.on('GET', '/journeys', 'marketer', async () => ({
    body: { journeys: (await catalog.listJourneys()).map(journeySummary) },
  }));
  router.on('GET', '/journeys/{id}', 'marketer', async (request) => {
    const { journey, versions, published } = await catalog.getJourney(request.params.id!);
    return { body: journeyDetail(journey, versions, published) };
  });
  router.on('PUT', '/journeys/{id}', 'marketer', async (request) => {
    const { journey, created } = await catalog.saveDraft(request.params.id!, request.body());
    return { status: created ? 201 : 200, body: journeySummary(journey) };
  });
  router.on('DELETE', '/journeys/{id}', 'marketer', async (request) => ({
    body: journeySummary(await catalog.archive(request.params.id!)),
  }));
  router.on('POST', '/journeys/{id}/publish', 'marketer', async (request) => ({
    body: await catalog.publish(request.params.id!),
  }));
  router.on('POST', '/journeys/{id}/pause', 'marketer', async (request) => ({
    body: journeySummary(await catalog.pause(request.params.id!)),
  }));
  router.on('POST', '/journeys/{id}/resume', 'marketer', async (request) => ({
    body: journeySummary(await catalog.resume(request.params.id!)),
  }));
  router.on('POST', '/journeys/{id}/enrollments', 'marketer', async (request) => ({
    status: 202,
    body: await need(deps.runtime, 'enrollment').enroll(request.params.id!, request.body()),
  }));
  router.on('DELETE', '/journeys/{id}/enrollments/{profileId}', 'marketer', async (request) => ({
    body: await need(deps.runtime, 'enrollment').removeFromJourney(
      request.params.id!,
      request.params.profileId!,
    ),
  }));
  router.on('GET', '/journeys/{id}/stats', 'marketer', async (request) => ({
    body: await need(deps.runtime, 'journey stats').stats(request.params.id!),
  }));
  router.on('GET', '/journeys/{id}/report', 'marketer', async (request) => {
    const analytics = need(deps.analytics, 'journey reports');
    if (request.query.format === 'csv') {
      const table = request.query.table ?? 'nodes';
      return {
        contentType: 'text/csv; charset=utf-8',
        headers: {
          'content-disposition': `attachment; filename="${request.params.id!}-${table.replace(/[^a-z]/g, '')}.csv"`,
        },
        body: await analytics.reportCsv(request.params.id!, request.query),
      };
    }
    if (request.query.format !== undefined && request.query.format !== 'json') {
      throw new ValidationError([{ path: ['format'], message: 'format must be json or csv' }]);
    }
    return { body: await analytics.report(request.params.id!, request.query) };
  });
  // The dashboard: static files, no data (every number comes from the API with the user's token).
  const dashboardFile = async (name: string) => {
    const dashboard = need(deps.dashboard, 'the dashboard');
    const file = await dashboard.get(name);
    if (!file) throw new NotFoundError(`no dashboard file ${name}`);
    return {
      contentType: file.contentType,
      headers: {
        'content-security-policy': dashboard.csp,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-cache',
      },
      body: file.body,
    };
  };
  router.on('GET', '/app', 'none', () => dashboardFile('index.html'));
  router.on('GET', '/app/{file}', 'none', (request) => dashboardFile(request.params.file!));
  router.on('GET', '/journeys/{id}/paths', 'marketer', async (request) => ({
    body: await need(deps.analytics, 'journey paths').paths(request.params.id!, request.query),
  }));
  router.on('POST', '/journeys/{id}/broadcasts', 'marketer', async (request) => ({
    status: 202,
    body: await need(deps.broadcasts, 'broadcasts').create(request.params.id!, request.body()),
  }));
  router.on('GET', '/journeys/{id}/broadcasts', 'marketer', async (request) => ({
    body: await need(deps.broadcasts, 'broadcasts').list(request.params.id!),
  }));
  router.on('GET', '/broadcasts/{id}', 'marketer', async (request) => ({
    body: await need(deps.broadcasts, 'broadcasts').get(request.params.id!),
  }));
  router.on('DELETE', '/broadcasts/{id}', 'marketer', async (request) => ({
    body: await need(deps.broadcasts, 'broadcasts').cancel(request.params.id!),
  }));

  // Templates.
  router.on('GET', '/templates', 'marketer', async () => ({
    body: { templates: (await catalog.templates.list()).map(templateView) },
  }));
  router.on('GET', '/templates/{id}', 'marketer', async (request) => ({
    body: templateView(await catalog.templates.get(request.params.id!)),
  }));
  router.on('PUT', '/templates/{id}', 'marketer', async (request) => {
    const { template, created } = await catalog.templates.put(request.params.id!, request.body());
    return { status: created ? 201 : 200, body: templateView(template) };
  });

  // Segments: not built yet.
  // Segments (shared/segments): definitions, status and count, members page by page, preview.
  const segments = () => need(deps.segments, 'segments');
  router.on('GET', '/segments', 'marketer', async () => ({ body: await listSegments(segments()) }));
  router.on('POST', '/segments/preview', 'marketer', async (request) => ({
    body: await previewSegment(segments(), request.body()),
  }));
  router.on('PUT', '/segments/{id}', 'marketer', async (request) => {
    const segment = await putSegment(segments(), request.params.id!, request.body());
    return { status: segment.revision === 1 ? 201 : 200, body: segment };
  });
  router.on('GET', '/segments/{id}', 'marketer', async (request) => ({
    body: await getSegment(segments(), request.params.id!),
  }));
  router.on('GET', '/segments/{id}/members', 'marketer', async (request) => ({
    body: await listMembers(segments(), request.params.id!, {
      ...(request.query.limit !== undefined && { limit: request.query.limit }),
      ...(request.query.cursor !== undefined && { cursor: request.query.cursor }),
    }),
  }));
  router.on('DELETE', '/segments/{id}', 'marketer', async (request) => {
    await deleteSegment(segments(), request.params.id!);
    return { body: { id: request.params.id!, deleted: true } };
  });

  // Write keys: created for a source (the plaintext is in this answer only), revoked by id.
  router.on('POST', '/write-keys', 'marketer', async (request) => {
    const body = request.body() as { source?: unknown } | undefined;
    const source = body?.source ?? 'cairn.http';
    return { status: 201, body: await need(deps.writeKeyAdmin, 'write keys').create(source as string) };
  });
  router.on('GET', '/write-keys', 'marketer', async () => ({
    body: { writeKeys: await need(deps.writeKeyAdmin, 'write keys').list() },
  }));
  router.on('DELETE', '/write-keys/{keyId}', 'marketer', async (request) => {
    await need(deps.writeKeyAdmin, 'write keys').revoke(request.params.keyId!);
    return { body: { keyId: request.params.keyId, revoked: true } };
  });

  // Profiles.
  router.on('GET', '/profiles', 'marketer', async (request) => {
    const { userId, anonymousId, email, phone } = request.query;
    const given = [userId, anonymousId, email, phone].filter((value) => value !== undefined && value !== '');
    if (given.length !== 1) {
      throw new ValidationError([
        { path: ['userId'], message: 'give exactly one of userId, anonymousId, email, phone' },
      ]);
    }
    return {
      body: await need(deps.profiles, 'profile lookup').find({ userId, anonymousId, email, phone }),
    };
  });
  router.on('GET', '/profiles/{id}', 'marketer', async (request) => {
    const profile = (await need(deps.profiles, 'profiles').get(request.params.id!)) as { profileId: string };
    if (!deps.segments) return { body: profile };
    // The segments of the profile this id lives in now (reads follow merges).
    return {
      body: { ...profile, segments: await segmentsOfProfile(deps.segments.store, profile.profileId) },
    };
  });
  router.on('GET', '/profiles/{id}/timeline', 'marketer', async (request) => ({
    body: await need(deps.profiles, 'timelines').timeline(request.params.id!, {
      limit: intParam(request, 'limit'),
      cursor: request.query.cursor,
    }),
  }));
  router.on('DELETE', '/profiles/{id}', 'marketer', async (request) => ({
    body: await need(deps.profiles, 'erasure').erase(request.params.id!),
  }));

  derivedRoutes(router, deps.derived);
  messagingRoutes(router, deps.messaging);

  // Messages.
  router.on('GET', '/messages', 'marketer', async (request) => {
    const { profileId, journeyId, cursor } = request.query;
    return {
      body: await need(deps.runtime, 'messages').messages({
        profileId,
        journeyId,
        limit: intParam(request, 'limit'),
        cursor,
      }),
    };
  });

  // The page holds the token: never cached, never sent on as a referrer, never framed, no scripts.
  const unsubscribeHeaders = {
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  };
  // The link in every email (GET: confirmation page; POST: the form or RFC 8058 one-click). No sign-in:
  // the signed token in the link is the authority (shared/channels/unsubscribe.ts).
  for (const method of ['GET', 'POST']) {
    router.on(
      method,
      '/unsubscribe',
      'none',
      async (request) => {
        const { status, contentType, body } = await need(
          deps.unsubscribe,
          'unsubscribe',
        )({
          method: request.method,
          query: request.query,
          body: request.text(),
          headers: request.headers,
        });
        return { status, contentType, body, headers: unsubscribeHeaders };
      },
      { anyContentType: true, maxBodyBytes: 4096 },
    );
  }

  return router;
}
