import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoAnalyticsReader } from '../../shared/analytics/store.js';
import { getActiveJourney, listActiveJourneys } from '../../shared/catalog/active.js';
import { DynamoCatalogStore } from '../../shared/catalog/dynamodb.js';
import { sesEmailSender } from '../../shared/channels/email.js';
import { snsMobilePush } from '../../shared/channels/push/sender.js';
import { endUserMessagingSms } from '../../shared/channels/sms/sender.js';
import { type UnsubscribeMessage, unsubscribeLink } from '../../shared/channels/unsubscribe.js';
import type { Clock } from '../../shared/clock.js';
import { integerFromEnv } from '../../shared/config.js';
import { dynamoDeriver } from '../../shared/derived/index.js';
import { ValidationError } from '../../shared/errors.js';
import { eventBridgePublisher, publishMessages } from '../../shared/http/ingestion.js';
import { randomIds } from '../../shared/ids.js';
import { executionName } from '../../shared/journeys/compile.js';
import { type Journey, journeySchema } from '../../shared/journeys/schema.js';
import type { Logger } from '../../shared/log.js';
import { DynamoMessagingStore } from '../../shared/messaging/dynamodb.js';
import { cachedPolicy } from '../../shared/messaging/service.js';
import {
  DynamoProfileStore,
  findProfile,
  getProfile,
  type JourneyErasure,
} from '../../shared/profiles/index.js';
import { busName } from '../../shared/routing.js';
import { dynamoMessageErasure, journeyErasure } from '../../shared/runtime/erasure.js';
import { sfnExecutionService } from '../../shared/runtime/executions.js';
import type { FeedbackDeps } from '../../shared/runtime/feedback.js';
import { profileAccess } from '../../shared/runtime/profiles.js';
import { getJourneyStats, listJourneyMessages, listMessages } from '../../shared/runtime/queries.js';
import { createJourneyReactor, type JourneyReactor } from '../../shared/runtime/reactor.js';
import type { StepDeps } from '../../shared/runtime/step.js';
import { stopFor } from '../../shared/runtime/stop.js';
import { dynamoRuntimeStore, type RuntimeStore } from '../../shared/runtime/store.js';
import type { ExecutionService, JourneySource, RuntimeProfile } from '../../shared/runtime/types.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { type MessageTemplate, templateOf } from '../../shared/templates/render.js';
import type { RuntimeApi } from '../api/routes.js';
import { edgeLogger, handlerClock, tableNames } from '../config.js';
import { defaultUnsubscribeUrl, unsubscribeSecret } from './unsubscribe-secret.js';

/**
 * Wires the runtime (shared/runtime) with its real dependencies, from the environment: the edge's
 * one place for the runtime's configuration. Called once per Lambda
 * container by the adapters (functions/ingest, step, feedback, api); creates its clients on call,
 * never at import. Configuration:
 *   CAIRN_EMAIL_FROM              From address, default `Cairn <no-reply@example.com>`
 *   CAIRN_SES_CONFIGURATION_SET   SES configuration set (delivery/bounce/open/click events), optional
 *   CAIRN_UNSUBSCRIBE_URL         base of the unsubscribe link, default `http://localhost:3000/unsubscribe`
 *   CAIRN_UNSUBSCRIBE_SECRET      signs the link (`?p=<profileId>&t=<HMAC>`); locally a fixed dev default
 *   CAIRN_JOURNEY_CACHE_MS        how long ingest uses its active journeys before asking the catalog's
 *                                 change stamp again (one GetItem), default 0: every event
 *   CAIRN_TEMPLATE_CACHE_MS       how long the step caches a template, default 1000
 *   CAIRN_SMS_ORIGINATION         SMS origination identity (phone number, sender id, pool), optional
 *   CAIRN_SMS_CONFIGURATION_SET   End User Messaging SMS configuration set (delivery receipts), optional
 *   CAIRN_PUSH_IOS_APP_ARN, CAIRN_PUSH_ANDROID_APP_ARN   SNS platform applications (push needs one)
 *   CAIRN_POLICY_CACHE_MS         how long the step caches the messaging policy, default 1000
 *   CAIRN_STEP_WRITES             `separate`: a step's writes as one request each instead of one transaction
 *   CAIRN_BUS_NAME                where an update node's stage change or threshold crossed is published (default `cairn`)
 *   CAIRN_PROFILES_TABLE, CAIRN_JOURNEYS_TABLE
 */
export interface RuntimeOptions {
  /** Who uses this runtime (`reactor`, `step`, `feedback`, `api`): the key of its `runtimeCalls`. */
  role?: string;
  env?: NodeJS.ProcessEnv;
  documentClient?: DynamoDBDocumentClient;
  sfn?: SFNClient;
  ses?: SESv2Client;
  sms?: PinpointSMSVoiceV2Client;
  sns?: SNSClient;
  clock?: Clock;
  log?: Logger;
  fetch?: typeof fetch;
}

export interface Runtime {
  store: RuntimeStore;
  executions: ExecutionService;
  /** Published journeys from the catalog (broadcasts enter members with it). */
  journeys: JourneySource;
  reactor: JourneyReactor;
  step: StepDeps;
  feedback: FeedbackDeps;
  /** The journey part of an erasure (stops executions, deletes message records). */
  erasure: JourneyErasure;
  /** What `functions/api` routes call. */
  api: RuntimeApi;
}

/**
 * AWS requests sent by the clients createRuntime made, per role and `<Service>.<Command>` (every
 * attempt, retries included): what an event or a step costs, read by the benchmark.
 */
export const runtimeCalls: Record<string, Record<string, number>> = {};

interface Countable {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string; clientName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'deserialize'; name: string; override: boolean },
    ): void;
  };
}

/** Counts the requests `client` sends under `role` in runtimeCalls (the benchmarks read them). */
export function countCalls<T>(client: T, role: string, service: string): T {
  runtimeCalls[role] ??= {};
  const calls = runtimeCalls[role];
  (client as unknown as Countable).middlewareStack.add(
    (next, context) => (args) => {
      const name = `${service}.${String(context.commandName ?? 'unknown').replace(/Command$/, '')}`;
      calls[name] = (calls[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'deserialize', name: 'cairnRuntimeCallCounter', override: true },
  );
  return client;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const env = options.env ?? process.env;
  const clock = options.clock ?? handlerClock;
  const log = options.log ?? edgeLogger({ component: 'runtime' });
  const role = options.role ?? 'runtime';
  const client = options.documentClient ?? countCalls(createDocumentClient(), role, 'DynamoDB');
  const sfn = options.sfn ?? countCalls(new SFNClient({ maxAttempts: 5 }), role, 'StepFunctions');
  const ses = options.ses ?? countCalls(new SESv2Client({ maxAttempts: 3 }), role, 'SES');
  const tables = tableNames(env);
  const store = dynamoRuntimeStore(client, {
    profilesTableName: tables.profiles,
    journeysTableName: tables.journeys,
    now: () => clock.now(),
    stepWrites: env.CAIRN_STEP_WRITES === 'separate' ? 'separate' : 'transaction',
  });
  const analytics = dynamoAnalyticsReader(client, {
    journeysTableName: tables.journeys,
    profilesTableName: tables.profiles,
  });
  const executions = sfnExecutionService(sfn);
  const catalogStore = new DynamoCatalogStore(client, tables.journeys);
  const profiles = new DynamoProfileStore({ client, clock, tableName: tables.profiles });
  const unsubscribeBase = env.CAIRN_UNSUBSCRIBE_URL || defaultUnsubscribeUrl;
  // Signed links (shared/channels/unsubscribe.ts); the secret is needed only when an email is sent.
  let secret: string | undefined;
  const unsubscribeUrl = (profileId: string, message?: UnsubscribeMessage, topic?: string) => {
    secret ??= unsubscribeSecret(env);
    return unsubscribeLink(unsubscribeBase, profileId, secret, topic, message);
  };

  // Published versions never change: cache their parsed definitions for the container's life.
  const versions = new Map<string, Promise<Journey | undefined>>();
  const getJourneyVersion = (journeyId: string, version: number) => {
    const key = `${journeyId}@${version}`;
    let found = versions.get(key);
    if (!found) {
      found = catalogStore
        .getVersion(journeyId, version)
        .then((record) => record && journeySchema.parse(record.definition));
      versions.set(key, found);
      found.then(
        (journey) => journey ?? versions.delete(key),
        () => versions.delete(key),
      );
    }
    return found;
  };
  const templateTtl = integerFromEnv(env, 'CAIRN_TEMPLATE_CACHE_MS', 1000);
  const templates = new Map<string, { at: number; template: Promise<MessageTemplate | undefined> }>();
  const getTemplate = (templateId: string) => {
    const now = Date.now();
    const hit = templates.get(templateId);
    if (hit && now - hit.at < templateTtl) return hit.template;
    const template = catalogStore.getTemplate(templateId).then((record) => record && templateOf(record));
    templates.set(templateId, { at: now, template });
    template.catch(() => templates.delete(templateId));
    return template;
  };

  const toRuntimeProfile = (profile: Awaited<ReturnType<typeof getProfile>>): RuntimeProfile | undefined =>
    profile ? { profileId: profile.profileId } : undefined;

  const journeys = {
    listActiveJourneys: () => listActiveJourneys(catalogStore),
    catalogStamp: () => catalogStore.catalogStamp(),
    getJourney: (journeyId: string) => getActiveJourney(catalogStore, journeyId),
    getVersion: (journeyId: string, version: number) => getJourneyVersion(journeyId, version),
  };
  const reactor = createJourneyReactor({
    journeys,
    executions,
    store,
    clock,
    ids: randomIds,
    executionName,
    async findProfile(who) {
      if (who.profileId) return toRuntimeProfile(await getProfile(profiles, who.profileId));
      if (who.userId) return toRuntimeProfile(await findProfile(profiles, { userId: who.userId }));
      if (who.anonymousId)
        return toRuntimeProfile(await findProfile(profiles, { anonymousId: who.anonymousId }));
      return undefined;
    },
    analytics,
    log: log.child({ component: 'reactor' }),
    cacheTtlMs: integerFromEnv(env, 'CAIRN_JOURNEY_CACHE_MS', 0),
  });

  const messagingStore = new DynamoMessagingStore({
    client,
    profilesTable: tables.profiles,
    journeysTable: tables.journeys,
  });
  let publisher: ReturnType<typeof eventBridgePublisher> | undefined;
  const bus = () =>
    (publisher ??= eventBridgePublisher(
      countCalls(new EventBridgeClient({ maxAttempts: 5 }), role, 'EventBridge'),
      env.CAIRN_BUS_NAME || busName,
    ));
  const step: StepDeps = {
    getJourneyVersion,
    getTemplate,
    // An update node's change keeps computed traits, stage and scores current (definitions cached).
    profiles: profileAccess({
      store: profiles,
      clock,
      deriver: dynamoDeriver(client, tables.journeys),
      // A stage change or a threshold the change crosses goes onto the bus as from ingest.
      publish: (messages) => publishMessages(messages, { publisher: bus(), source: 'cairn' }),
    }),
    store,
    messaging: {
      store: messagingStore,
      policy: cachedPolicy(
        () => messagingStore.getPolicy(),
        integerFromEnv(env, 'CAIRN_POLICY_CACHE_MS', 1000),
      ),
      sms: endUserMessagingSms(
        options.sms ?? countCalls(new PinpointSMSVoiceV2Client({ maxAttempts: 3 }), role, 'SMS'),
        {
          originationIdentity: env.CAIRN_SMS_ORIGINATION || undefined,
          configurationSetName: env.CAIRN_SMS_CONFIGURATION_SET || undefined,
        },
      ),
      push: snsMobilePush(options.sns ?? countCalls(new SNSClient({ maxAttempts: 3 }), role, 'SNS'), {
        applications: {
          ...(env.CAIRN_PUSH_IOS_APP_ARN && { ios: env.CAIRN_PUSH_IOS_APP_ARN }),
          ...(env.CAIRN_PUSH_ANDROID_APP_ARN && { android: env.CAIRN_PUSH_ANDROID_APP_ARN }),
        },
      }),
    },
    email: sesEmailSender(ses, {
      from: env.CAIRN_EMAIL_FROM || undefined,
      configurationSetName: env.CAIRN_SES_CONFIGURATION_SET || undefined,
    }),
    fetch: options.fetch ?? fetch,
    clock,
    unsubscribeUrl,
    analytics,
    log: log.child({ component: 'step' }),
  };

  return {
    store,
    executions,
    journeys,
    reactor,
    step,
    feedback: {
      store,
      suppressions: messagingStore,
      clock,
      log: log.child({ component: 'feedback' }),
    },
    erasure: journeyErasure({
      store,
      messages: dynamoMessageErasure(client, tables.journeys),
      stop: (presence) =>
        stopFor(
          { journeys, executions, store, clock, log: log.child({ component: 'erasure' }) },
          presence,
          'erased',
        ),
    }),
    api: {
      async enroll(journeyId, input) {
        if (!isObject(input)) throw new ValidationError([{ path: [], message: 'body must be an object' }]);
        const ids = ['userId', 'anonymousId', 'profileId'].filter((key) => input[key] !== undefined);
        if (ids.length !== 1) {
          throw new ValidationError([
            { path: [], message: 'give exactly one of userId, anonymousId, profileId' },
          ]);
        }
        const id = ids[0]!;
        if (typeof input[id] !== 'string' || input[id] === '') {
          throw new ValidationError([{ path: [id], message: `${id} must be a non-empty string` }]);
        }
        if (input.context !== undefined && !isObject(input.context)) {
          throw new ValidationError([{ path: ['context'], message: 'context must be an object' }]);
        }
        return reactor.enrollProfile(journeyId, {
          [id]: input[id] as string,
          ...(isObject(input.context) && { context: input.context }),
          ...(typeof input.idempotencyKey === 'string' && { idempotencyKey: input.idempotencyKey }),
        });
      },
      async stats(journeyId) {
        const active = await getActiveJourney(catalogStore, journeyId);
        const definition = active ? await getJourneyVersion(journeyId, active.version) : undefined;
        return getJourneyStats(store, journeyId, definition);
      },
      async messages(query) {
        if (!query.profileId && query.journeyId) {
          return listJourneyMessages(store, {
            journeyId: query.journeyId,
            ...(query.limit !== undefined && { limit: query.limit }),
            ...(query.cursor !== undefined && { cursor: query.cursor }),
          });
        }
        const profile = query.profileId ? await getProfile(profiles, query.profileId) : null;
        const profileIds = profile
          ? [profile.profileId, ...profile.mergedFrom]
          : query.profileId
            ? [query.profileId]
            : [];
        return listMessages(store, { profileIds, ...(query.journeyId && { journeyId: query.journeyId }) });
      },
      removeFromJourney: (journeyId, profileId) => reactor.removeProfile(journeyId, profileId),
    },
  };
}
