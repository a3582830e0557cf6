/**
 * The embedded local stack: DynamoDB Local (child process), the AWS-compatible edge (DynamoDB proxy,
 * EventBridge, Step Functions, SES v2) and the HTTP API server, wired to the same handlers and
 * shared definitions as the AWS deployment. The handlers run in this process and reach every AWS
 * service through the edge with the real SDK clients (`AWS_ENDPOINT_URL`).
 */
import { join, resolve } from 'node:path';
import { systemClock } from '../../shared/clock.js';
import { type DeadLetter, DynamoDeadLetterStore } from '../../shared/events/dead-letters.js';
import type { Logger } from '../../shared/log.js';
import { allBusRules, feedbackRuleFor, localConfigurationSet } from '../../shared/routing.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, tableName } from '../../shared/store/tables.js';
import { createLocalScheduling } from './broadcasts.js';
import { lockDataDir } from './data-lock.js';
import { startDerivedTimers } from './derived-timers.js';
import {
  type DynamoDbLocal,
  ensureTables,
  localClient,
  localClientConfig,
  startDynamoDbLocal,
} from './dynamodb-local.js';
import { type EdgeServer, startEdgeServer } from './edge.js';
import { createLocalEventBridge, type LocalEventBridge } from './eventbridge.js';
import {
  functionArn,
  handlerFile,
  invokeFunction,
  localAccount,
  localFunctionNames,
  localRegion,
  resolveFunction,
} from './functions.js';

/** The queue slots of broadcasts go through (the CDK stack's BroadcastSlotQueue). */
const broadcastQueueName = 'cairn-broadcast-slots';

import { edgeLogger } from '../../functions/config.js';
import { type HttpServer, startHttpServer } from './http.js';
import { createLocalRoutes, settle, settleWithin } from './local-routes.js';
import { startLocalSegmentTimers } from './segment-timers.js';
import { createLocalSes, type LocalSes } from './ses.js';
import { createLocalSms, type LocalSms } from './sms.js';
import { createLocalSns, type LocalSns } from './sns.js';
import { createVirtualClock, setLocalClock, type VirtualClock } from './stepfunctions/clock.js';
import { createLocalStepFunctions, type LocalStepFunctionsStack } from './stepfunctions/index.js';

export interface LocalStackOptions {
  /** Keep nothing on disk. Default false: data persists under `dataDir`. */
  memory?: boolean;
  /** Default `.cairn` in the working directory. */
  dataDir?: string;
  /** Default env CAIRN_HTTP_PORT, else 3000; 0 = any free port. */
  httpPort?: number;
  /** Default env CAIRN_EDGE_PORT, else 4566; 0 = any free port. */
  edgePort?: number;
  /** Virtual ms per real ms for the local clock. Default env CAIRN_TIME_SCALE, else 1. */
  timeScale?: number;
  /** Interface to listen on. Default 127.0.0.1 (env CAIRN_HOST). */
  host?: string;
  /**
   * Default true. False lets the process exit while the stack runs (it is stopped on `beforeExit`):
   * for a test file that starts its own stack.
   */
  keepProcessAlive?: boolean;
  /**
   * `/health` (HTTP API and edge) stays 503 `starting` after the stack is up, until
   * `announceReady()`: the CLI publishes the example journeys through the open API first.
   */
  holdHealth?: boolean;
  /** Progress lines while starting (the CLI prints them). */
  onProgress?: (step: string) => void;
  log?: Logger;
}

export interface LocalStack {
  httpUrl: string;
  edgeUrl: string;
  /** Lets `/health` say ok (with `holdHealth`; otherwise it already does once the stack is up). */
  announceReady(): void;
  /** What was set in process.env for the handlers (and what tests in other processes need). */
  env: Record<string, string>;
  /** The data directory, or undefined with `memory`. */
  dataDir: string | undefined;
  /** DynamoDB Local's JVM process id. */
  dynamoDbPid: number | undefined;
  bus: LocalEventBridge;
  ses: LocalSes;
  sms: LocalSms;
  sns: LocalSns;
  clock: VirtualClock;
  /** Resolves when bus deliveries and clock-driven work have all finished. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export const defaultHttpPort = 3000;
export const defaultEdgePort = 4566;

/** How long a local read waits for earlier work to settle before it answers anyway. */
const readSettleMs = 5_000;

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const progress = options.onProgress ?? (() => {});
  const log = options.log ?? edgeLogger({ component: 'local-stack' });
  const host = options.host ?? process.env.CAIRN_HOST ?? '127.0.0.1';
  const dataDir = options.memory ? undefined : resolve(options.dataDir ?? '.cairn');
  const httpPort = options.httpPort ?? portFromEnv('CAIRN_HTTP_PORT', defaultHttpPort);
  const edgePort = options.edgePort ?? portFromEnv('CAIRN_EDGE_PORT', defaultEdgePort);

  // Before anything reads or writes the folder: a second stack on it would lose executions.
  const lock = dataDir ? lockDataDir(dataDir) : undefined;
  const clock = createVirtualClock(options.timeScale === undefined ? {} : { timeScale: options.timeScale });
  setLocalClock(clock);
  // Feedback is taken from the configuration set the handlers send through, as the CDK rule does.
  const sesConfigurationSet = process.env.CAIRN_SES_CONFIGURATION_SET ?? localConfigurationSet;
  const bus = createLocalEventBridge({
    dlqFile: dataDir && join(dataDir, 'dlq.json'),
    rules: allBusRules.map((rule) =>
      rule.target === 'feedback' ? feedbackRuleFor({ email: sesConfigurationSet }) : rule,
    ),
    clock,
    // Advancing the clock first lets every event already sent reach its journeys (see /local/clock).
    track: (busy) => void clock.track(busy),
    log: log.child({ component: 'local-eventbridge' }),
  });
  // SES event publishing only once there is a feedback handler to receive it (else it would dead-letter).
  const ses = createLocalSes({
    outboxFile: dataDir && join(dataDir, 'outbox.json'),
    clock,
    events: handlerFile('cairn-feedback') ? bus : undefined,
  });
  const sms = createLocalSms({
    outboxFile: dataDir && join(dataDir, 'sms.json'),
    clock,
    events: handlerFile('cairn-feedback') ? bus : undefined,
  });
  const sns = createLocalSns({ stateFile: dataDir && join(dataDir, 'push.json'), clock });
  let dynamoDb: DynamoDbLocal | undefined;
  const rejectedEvents = async (dates: string[]) => {
    if (!dynamoDb) return [];
    const client = createDocumentClient({ ...localClientConfig(dynamoDb.endpoint), maxAttempts: 1 });
    // Real time for the expiry filter: letters expire 30 days after they were received, by either clock.
    const store = new DynamoDeadLetterStore({
      client,
      tableName: tableName(journeysTable, process.env),
      clock: systemClock,
    });
    const letters: DeadLetter[] = [];
    try {
      for (const date of dates) {
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) {
          const { items, nextCursor } = await store.list({ date, limit: 100, cursor });
          letters.push(...items);
          if (!nextCursor) break;
          cursor = nextCursor;
        }
      }
    } finally {
      client.destroy();
    }
    return letters.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
  };
  const localRoutes = createLocalRoutes({ ses, sms, sns, bus, clock, rejectedEvents });

  let stepFunctions: LocalStepFunctionsStack | undefined;
  let edge: EdgeServer | undefined;
  let http: HttpServer | undefined;
  let ready = false;
  let announced = !options.holdHealth;
  let stopDerivedTimers: (() => void) | undefined;
  let stopSegmentTimers: (() => void) | undefined;
  const stopAll = async () => {
    ready = false;
    stopDerivedTimers?.();
    stopSegmentTimers?.();
    http?.setReady(false);
    await http?.close();
    await bus.stop();
    await stepFunctions?.stop();
    clock.stop();
    await edge?.close();
    await dynamoDb?.stop();
    ses.stop();
    sms.stop();
    sns.stop();
    lock?.release();
  };

  try {
    progress(`binding ports (edge ${edgePort || 'any'}, http ${httpPort || 'any'})`);
    // Broadcasts: EventBridge Scheduler and the slot queue, on the virtual clock.
    const scheduling = createLocalScheduling({
      clock,
      invoke: (nameOrArn, payload) => invokeFunction(nameOrArn, payload),
      queues: { [broadcastQueueName]: 'cairn-broadcast' },
      log: log.child({ component: 'scheduler' }),
    });
    edge = await startEdgeServer({
      port: edgePort,
      host,
      services: [bus, sms.service, scheduling.sqs],
      restRoutes: [...ses.routes, ...scheduling.schedulerRoutes],
      queryServices: [sns.service],
      dynamoDbEndpoint: () => dynamoDb?.endpoint,
      localRoutes,
      isReady: () => ready && announced,
      log: log.child({ component: 'edge' }),
    });
    http = await startHttpServer({
      isAnnounced: () => announced,
      port: httpPort,
      host,
      localRoutes,
      // Read-your-writes for scripts: a GET answers once what was sent before it has been processed
      // (events ingested, journeys started, steps run up to their next wait), as POST /local/clock
      // does. Bounded, so a read during a flood still answers.
      beforeRead: async () => {
        await settleWithin(readSettleMs, () => settle(bus, clock));
      },
      log: log.child({ component: 'http' }),
    });

    const env: Record<string, string> = {
      AWS_ENDPOINT_URL: edge.url,
      AWS_REGION: process.env.AWS_REGION ?? localRegion,
      AWS_DEFAULT_REGION: process.env.AWS_REGION ?? localRegion,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      CAIRN_WRITE_KEY: process.env.CAIRN_WRITE_KEY ?? 'dev-write-key',
      CAIRN_API_TOKEN: process.env.CAIRN_API_TOKEN ?? 'dev-token',
      CAIRN_EMAIL_FROM: process.env.CAIRN_EMAIL_FROM ?? 'Cairn <no-reply@example.com>',
      // Naming a configuration set makes the local SES publish delivery/bounce/complaint events (as on AWS).
      CAIRN_SES_CONFIGURATION_SET: sesConfigurationSet,
      // Likewise for SMS delivery receipts (`Text Message Delivery Status Updated`).
      CAIRN_SMS_CONFIGURATION_SET: process.env.CAIRN_SMS_CONFIGURATION_SET ?? localConfigurationSet,
      // Links in emails must reach this server, whatever port it got.
      CAIRN_UNSUBSCRIBE_URL: process.env.CAIRN_UNSUBSCRIBE_URL ?? `${http.url}/unsubscribe`,
      CAIRN_TIME_SCALE: String(clock.timeScale),
      // The local SNS takes any well-formed platform application ARN: push works out of the box.
      CAIRN_PUSH_IOS_APP_ARN:
        process.env.CAIRN_PUSH_IOS_APP_ARN ?? `arn:aws:sns:${localRegion}:${localAccount}:app/APNS/cairn-ios`,
      CAIRN_PUSH_ANDROID_APP_ARN:
        process.env.CAIRN_PUSH_ANDROID_APP_ARN ??
        `arn:aws:sns:${localRegion}:${localAccount}:app/GCM/cairn-android`,
      CAIRN_BROADCAST_QUEUE_URL: `${edge.url}/${localAccount}/${broadcastQueueName}`,
      CAIRN_BROADCAST_FUNCTION_ARN: functionArn('cairn-broadcast'),
      CAIRN_SCHEDULER_ROLE_ARN: `arn:aws:iam::${localAccount}:role/cairn-scheduler`,
      // One process: a segment's save clears the cached list every handler reads, so its backfill starts at once.
      CAIRN_SEGMENT_BACKFILL_DELAY_MS: process.env.CAIRN_SEGMENT_BACKFILL_DELAY_MS ?? '0',
      // Time is the virtual clock's here: a PUT /messaging/policy applies to the very next message, not
      // to the ones after the step's cache (1 s of real time on AWS) happens to expire.
      CAIRN_POLICY_CACHE_MS: process.env.CAIRN_POLICY_CACHE_MS ?? '0',
      CAIRN_TEST_HTTP_URL: http.url,
      CAIRN_TEST_EDGE_URL: edge.url,
      // The dashboard (GET /app/), built now: bundles are never committed.
      CAIRN_APP_DIR: process.env.CAIRN_APP_DIR ?? (await buildDashboardFolder()),
    };
    // Before any handler module is imported: the SDK clients they create read these.
    Object.assign(process.env, env);
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;

    // Load the handlers (AWS SDK, zod, …) while the JVM starts, so the first requests are warm.
    const dynamoDbStarting = startDynamoDbLocal(dataDir ? { dataDir: join(dataDir, 'ddb') } : {});
    for (const name of localFunctionNames)
      if (handlerFile(name)) resolveFunction(name).catch(() => undefined);
    progress(
      dataDir
        ? `starting DynamoDB Local (data in ${join(dataDir, 'ddb')})`
        : 'starting DynamoDB Local (in memory)',
    );
    dynamoDb = await dynamoDbStarting;
    const ddb = localClient(dynamoDb.endpoint);
    try {
      await ensureTables(ddb);
    } finally {
      ddb.destroy();
    }
    progress('tables ready');

    stepFunctions = createLocalStepFunctions({
      clock,
      dataDir: dataDir && join(dataDir, 'stepfunctions'),
      invoke: (nameOrArn, payload) => invokeFunction(nameOrArn, payload),
    });
    edge.register(stepFunctions.service);
    progress('Step Functions ready');
    stopSegmentTimers = startLocalSegmentTimers(clock);

    stopDerivedTimers = startDerivedTimers(clock, log.child({ component: 'lifecycle' }));
    http.setReady(true);
    ready = true;
    const stop = once(stopAll);
    if (options.keepProcessAlive === false) {
      edge.unref();
      http.unref();
      dynamoDb.unref();
      process.once('beforeExit', () => void stop());
    }
    return {
      announceReady() {
        announced = true;
      },
      httpUrl: http.url,
      edgeUrl: edge.url,
      env,
      dataDir,
      dynamoDbPid: dynamoDb.pid,
      bus,
      ses,
      sms,
      sns,
      clock,
      settle: () => settle(bus, clock),
      stop,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`${name} must be a port number, got "${raw}"`);
  return port;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= fn();
    return running;
  };
}

/** Builds the dashboard into a fresh temporary folder (functions/api/app/build.ts). */
async function buildDashboardFolder(): Promise<string> {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { buildDashboard } = await import('../../functions/api/app/build.js');
  const dir = await mkdtemp(join(tmpdir(), 'cairn-app-'));
  await buildDashboard(dir);
  return dir;
}
