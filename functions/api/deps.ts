import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAnalyticsApi } from '../../shared/analytics/api.js';
import { dynamoAnalyticsReader } from '../../shared/analytics/store.js';
import { JourneyCatalog, type JourneyLanguage } from '../../shared/catalog/catalog.js';
import { sfnDeployer } from '../../shared/catalog/deployer.js';
import { DynamoCatalogStore } from '../../shared/catalog/dynamodb.js';
import { DynamoWriteKeyStore } from '../../shared/catalog/write-keys.js';
import { endUserMessagingSms } from '../../shared/channels/sms/sender.js';
import { handleUnsubscribe } from '../../shared/channels/unsubscribe.js';
import type { Clock } from '../../shared/clock.js';
import {
  DerivedCatalog,
  DynamoDefinitionStore,
  definitionsChanged,
  dynamoDeriver,
  lifecycleRemoval,
  lifecycleReport,
  readLifecycleCounters,
} from '../../shared/derived/index.js';
import { NotFoundError } from '../../shared/errors.js';
import { dynamoDeadLetterErasure } from '../../shared/events/dead-letter-erasure.js';
import {
  anyWriteKeyVerifier,
  authorizerOnlyTokenVerifier,
  constantTokenVerifier,
  constantWriteKeyVerifier,
  hashedWriteKeyVerifier,
} from '../../shared/http/auth.js';
import { eventBridgePublisher, publishMessages } from '../../shared/http/ingestion.js';
import { randomIds } from '../../shared/ids.js';
import type { Logger } from '../../shared/log.js';
import { DynamoMessagingStore } from '../../shared/messaging/dynamodb.js';
import { messagingService } from '../../shared/messaging/service.js';
import {
  DynamoProfileStore,
  type ErasureDeps,
  eraseProfile,
  findProfile,
  getProfile,
  type Profile,
  type ProfileStore,
  toProfileJson,
} from '../../shared/profiles/index.js';
import { busName } from '../../shared/routing.js';
import { applyUnsubscribeFeedback } from '../../shared/runtime/feedback.js';
import { profileTimeline } from '../../shared/runtime/profile-timeline.js';
import type { RuntimeStore } from '../../shared/runtime/store.js';
import { segmentErasure } from '../../shared/segments/erasure.js';
import { definedSegmentIds } from '../../shared/segments/service.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../shared/store/tables.js';
import { createBroadcastDeps } from '../broadcast/deps.js';
import { edgeLogger, handlerClock } from '../config.js';
import { createRuntime } from '../runtime/runtime.js';
import { lazyUnsubscribeSecret } from '../runtime/unsubscribe-secret.js';
import { createSegments } from '../segments/deps.js';
import { type DashboardSignIn, folderAssets } from './app/assets.js';
import type { ApiDeps, ProfilesApi } from './routes.js';

/**
 * Configuration of the api function, from the environment (defaults are the local stack's):
 *   CAIRN_AUTH                    `local` (default): write key and token from the two variables below;
 *                                 `cloud`: write keys hashed in the Journeys table, marketers only
 *                                 through API Gateway's JWT/IAM authorizer (or CAIRN_API_TOKEN if set)
 *   CAIRN_WRITE_KEY               local write key, default `dev-write-key`
 *   CAIRN_API_TOKEN               local Bearer token, default `dev-token`
 *   CAIRN_BUS_NAME                default `cairn`
 *   CAIRN_STEP_FUNCTION_ARN       what `${StepFunctionArn}` in compiled ASL becomes
 *   CAIRN_STATE_MACHINE_PREFIX    default `cairn-`
 *   CAIRN_STATE_MACHINE_ROLE_ARN  execution role of published state machines
 *   CAIRN_JOURNEY_ALIAS           alias moved to each published version, default `live` ('' = none)
 *   CAIRN_UNSUBSCRIBE_SECRET      signs unsubscribe links (the handler reads CAIRN_UNSUBSCRIBE_SECRET_ARN
 *                                 into it at cold start); locally a fixed dev default
 *   CAIRN_PROFILES_TABLE, CAIRN_JOURNEYS_TABLE
 *   CAIRN_SIGN_IN_URL, CAIRN_SIGN_IN_CLIENT_ID  the dashboard's Cognito hosted sign-in (its domain's
 *                                 base URL, the app client); unset: it asks for the API token
 */
export interface ApiConfig {
  auth: 'local' | 'cloud';
  writeKey: string;
  apiToken?: string;
  busName: string;
  stepFunctionArn: string;
  stateMachinePrefix: string;
  stateMachineRoleArn: string;
  journeyAlias: string;
  /** Read on first use: only `/unsubscribe` needs it. */
  unsubscribeSecret: () => Promise<string>;
  profilesTable: string;
  journeysTable: string;
  /** Where the built dashboard is: env CAIRN_APP_DIR, else `app/` next to this module (the Lambda bundle). */
  appDir: string;
  /** How the dashboard signs in on AWS (Cognito hosted page); unset: with the API token. */
  signIn?: DashboardSignIn;
}

export function apiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const auth = env.CAIRN_AUTH === 'cloud' ? 'cloud' : 'local';
  return {
    auth,
    writeKey: env.CAIRN_WRITE_KEY || 'dev-write-key',
    apiToken: env.CAIRN_API_TOKEN || (auth === 'local' ? 'dev-token' : undefined),
    busName: env.CAIRN_BUS_NAME || busName,
    stepFunctionArn:
      env.CAIRN_STEP_FUNCTION_ARN || 'arn:aws:lambda:us-east-1:000000000000:function:cairn-step',
    stateMachinePrefix: env.CAIRN_STATE_MACHINE_PREFIX || 'cairn-',
    stateMachineRoleArn:
      env.CAIRN_STATE_MACHINE_ROLE_ARN || 'arn:aws:iam::000000000000:role/cairn-state-machine',
    journeyAlias: env.CAIRN_JOURNEY_ALIAS ?? 'live',
    unsubscribeSecret: lazyUnsubscribeSecret(env),
    profilesTable: tableName(profilesTable, env),
    journeysTable: tableName(journeysTable, env),
    appDir: env.CAIRN_APP_DIR || join(dirname(fileURLToPath(import.meta.url)), 'app'),
    ...(env.CAIRN_SIGN_IN_URL &&
      env.CAIRN_SIGN_IN_CLIENT_ID && {
        signIn: { url: env.CAIRN_SIGN_IN_URL, clientId: env.CAIRN_SIGN_IN_CLIENT_ID },
      }),
  };
}

export function profilesApi(
  store: ProfileStore,
  runtime?: Pick<RuntimeStore, 'listTimeline'>,
  derived?: { view(profile: Profile, now: number): Promise<Profile>; clock: Clock },
  erasure: ErasureDeps = {},
): ProfilesApi {
  // computed, stage and scores as they are now (windows and decay move with time between writes).
  const current = async (profile: Profile) =>
    derived ? derived.view(profile, derived.clock.now()) : profile;
  const found = <T>(value: T | null, profileId: string): T => {
    if (value === null) throw new NotFoundError(`profile ${profileId} not found`);
    return value;
  };
  return {
    async find(lookup) {
      const profile = await findProfile(store, lookup);
      if (!profile) throw new NotFoundError('no profile has that identifier');
      return toProfileJson(await current(profile));
    },
    get: async (profileId) =>
      toProfileJson(await current(found(await getProfile(store, profileId), profileId))),
    timeline: (profileId, page) => profileTimeline(store, runtime, profileId, page),
    erase: async (profileId) => ({
      erased: true,
      ...found(await eraseProfile(store, profileId, erasure), profileId),
    }),
  };
}

export interface ApiDepsOptions {
  config: ApiConfig;
  language: JourneyLanguage;
  documentClient?: DynamoDBDocumentClient;
  clock?: Clock;
  log?: Logger;
}

/** Everything the routes need, created once per Lambda container. */
export function createApiDeps(options: ApiDepsOptions): ApiDeps & { catalog: JourneyCatalog } {
  const { config } = options;
  const clock = options.clock ?? handlerClock; // the virtual clock in the local stack
  const client = options.documentClient ?? createDocumentClient();
  const sfn = new SFNClient({ maxAttempts: 5 });
  const messagingStore = new DynamoMessagingStore({
    client,
    profilesTable: config.profilesTable,
    journeysTable: config.journeysTable,
  });
  const segments = createSegments({
    env: process.env,
    client,
    clock,
    ...(options.log && { log: options.log }),
  });
  const catalog = new JourneyCatalog({
    store: new DynamoCatalogStore(client, config.journeysTable),
    deployer: sfnDeployer(sfn, {
      roleArn: config.stateMachineRoleArn,
      namePrefix: config.stateMachinePrefix,
      aliasName: config.journeyAlias,
    }),
    language: options.language,
    clock,
    stepFunctionArn: config.stepFunctionArn,
    log: options.log,
    segmentIds: () => definedSegmentIds(segments.store),
    topicIds: async () => new Set((await messagingStore.getPolicy()).topics.map((topic) => topic.id)),
  });
  const profiles = new DynamoProfileStore({ client, tableName: config.profilesTable, clock });
  const writeKeyStore = new DynamoWriteKeyStore(client, config.journeysTable);
  const storedKeys = hashedWriteKeyVerifier(writeKeyStore, { now: () => clock.now() });
  const runtime = createRuntime({ documentClient: client, sfn, clock, log: options.log });
  const publisher = eventBridgePublisher(new EventBridgeClient({ maxAttempts: 5 }), config.busName);
  const deriver = dynamoDeriver(client, config.journeysTable);
  return {
    catalog,
    publisher,
    parse: { clock, ids: randomIds },
    // Cloud: keys stored hashed. Local: the configured key, and keys created through the API.
    writeKeys:
      config.auth === 'cloud'
        ? storedKeys
        : anyWriteKeyVerifier(constantWriteKeyVerifier([config.writeKey]), storedKeys),
    writeKeyAdmin: {
      create: (source) => writeKeyStore.create(source, clock),
      list: () => writeKeyStore.list(),
      revoke: async (keyId) => {
        await writeKeyStore.revoke(keyId, clock);
        storedKeys.forget(keyId);
      },
    },
    tokens: config.apiToken ? constantTokenVerifier(config.apiToken) : authorizerOnlyTokenVerifier,
    dashboard: folderAssets(config.appDir, config.signIn),
    analytics: createAnalyticsApi({
      reader: dynamoAnalyticsReader(client, {
        journeysTableName: config.journeysTable,
        profilesTableName: config.profilesTable,
      }),
      async definition(journeyId) {
        const { journey } = await catalog.getJourney(journeyId);
        return journey.published?.definition ?? journey.draft;
      },
    }),
    profiles: profilesApi(
      profiles,
      runtime.store,
      { view: (profile, now) => deriver.view(profile, now) as Promise<Profile>, clock },
      {
        journeys: runtime.erasure,
        deadLetters: dynamoDeadLetterErasure({ client, tableName: config.journeysTable, clock }),
        parts: [segmentErasure(segments.store)],
        profileCounters: lifecycleRemoval,
      },
    ),
    broadcasts: createBroadcastDeps({
      client,
      runtime,
      log: options.log ?? edgeLogger({ component: 'api' }),
    }),
    runtime: {
      enroll: (journeyId, input) => runtime.api.enroll(journeyId, input),
      // 404 for a journey that does not exist (the runtime answers zeros for any id).
      stats: async (journeyId) => {
        await catalog.getJourney(journeyId);
        return runtime.api.stats(journeyId);
      },
      messages: (query) => runtime.api.messages(query),
      removeFromJourney: async (journeyId, profileId) => {
        await catalog.getJourney(journeyId);
        return runtime.api.removeFromJourney(journeyId, profileId);
      },
    },
    unsubscribe: async (request) =>
      handleUnsubscribe(
        {
          secret: await config.unsubscribeSecret(),
          store: profiles,
          clock,
          publish: (message) => publishMessages([message], { publisher, source: 'cairn' }),
          topics: async () => (await messagingStore.getPolicy()).topics,
          fromMessage: (message, profileId, detail) =>
            applyUnsubscribeFeedback(
              message,
              profileId,
              { store: runtime.store, clock, log: options.log },
              detail,
            ),
          log: options.log,
        },
        request,
      ),
    messaging: (() => {
      const service = messagingService({
        store: messagingStore,
        clock,
        getProfile: (profileId) => getProfile(profiles, profileId),
        findByPhone: (phone) => findProfile(profiles, { phone }),
        publish: (message) => publishMessages([message], { publisher, source: 'cairn' }),
        // Locally nothing answers STOP/HELP but Cairn; on AWS the number's keywords do.
        ...(config.auth === 'local' && {
          sms: endUserMessagingSms(new PinpointSMSVoiceV2Client({ maxAttempts: 3 })),
        }),
      });
      return config.auth === 'local' ? service : { ...service, inboundSms: undefined };
    })(),
    derived: {
      catalog: new DerivedCatalog({
        store: new DynamoDefinitionStore(client, config.journeysTable),
        clock,
        onChange: definitionsChanged,
      }),
      lifecycleReport: async ({ days }) =>
        lifecycleReport(await readLifecycleCounters(client, config.profilesTable), {
          days: days ?? 30,
          today: new Date(clock.now()).toISOString().slice(0, 10),
        }),
    },
    segments: segments.service,
    log: options.log,
  };
}
