/**
 * The local EventBridge: `PutEvents` on the Cairn bus (and `default`, where SES publishes), applying
 * the rules of shared/routing.ts with the shared pattern matcher, then delivering what matched the
 * way the AWS wiring does (rule → SQS queue → Lambda event source mapping):
 *   - asynchronously, after PutEvents has answered;
 *   - in SQS-shaped batches of up to `rule.batchSize` collected over a short batching window;
 *   - honouring `batchItemFailures` (ReportBatchItemFailures): failed records are received again
 *     after a visibility delay, and after `rule.maxReceiveCount` receives they move to the DLQ;
 *   - a thrown error or timeout fails the whole batch, as on AWS.
 * `whenIdle()` resolves once nothing is queued, in flight or waiting for a retry.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { edgeLogger } from '../../functions/config.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { compilePattern, type EventMatcher, matchesPattern } from '../../shared/patterns/index.js';
import {
  allBusRules,
  type BusRule,
  busName,
  messageGroupOf,
  putEventsEntrySize,
  putEventsLimits,
} from '../../shared/routing.js';
import { AwsServiceError, type EdgeService } from './edge.js';
import { invokeFunction, localAccount, localRegion } from './functions.js';
import { jsonFile } from './json-file.js';

/** The PutEvents request entry, as the SDK serialises it (JSON 1.1: Time is epoch seconds). */
export interface PutEventsRequestEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  EventBusName?: string;
  Time?: number | string;
  TraceHeader?: string;
}

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

/** The event as rules match it and targets receive it. */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** A message that exhausted its receives. `body` is the event envelope as delivered (JSON). */
export interface DeadLetter {
  messageId: string;
  eventId: string;
  rule: string;
  functionName: string;
  receiveCount: number;
  sentAt: string;
  failedAt: string;
  /** Why the last receive failed: the error the handler threw, or that it reported the record. */
  reason: string;
  body: string;
}

export interface LocalEventBridgeOptions {
  /** Default: the rules of shared/routing.ts. */
  rules?: readonly BusRule[];
  /**
   * Buses that exist. Default: `cairn` and `default`. A rule applies on its own bus only (`rule.bus`,
   * else `cairn`); an entry without `EventBusName` goes to `default`, as on AWS.
   */
  buses?: readonly string[];
  /** Calls the target function with an SQS event. Default: the local function registry. */
  invoke?: (functionName: string, event: SQSEvent) => Promise<unknown>;
  /** Target function name for a rule. Default: `cairn-<rule.target>`. */
  targetFunction?: (rule: BusRule) => string;
  /** How long a batch collects records before it is delivered (ms). Default 5. */
  batchWindowMs?: number;
  /** Visibility delay before a failed record is received again (ms). Default 250. */
  retryDelayMs?: number;
  /**
   * Batches in flight at once per rule (Lambda's SQS pollers). Default 10: the CDK stack's event
   * source mapping `maxConcurrency` (`ingestMaxConcurrency`, default 10).
   */
  concurrency?: number;
  /** Function timeout per delivery (ms). Default 60 s. */
  timeoutMs?: number;
  /** Persist the DLQ in this file (omit to keep it in memory only). */
  dlqFile?: string;
  /** Time for envelopes without `Time` (the local virtual clock). Default: system time. */
  clock?: Clock;
  /**
   * Told of each stretch of pending work (from the first message queued until idle again): the
   * virtual clock counts it, so advancing time first lets every event already sent settle.
   */
  track?: (busy: Promise<void>) => void;
  log?: Logger;
}

export interface LocalEventBridge extends EdgeService {
  putEvents(entries: readonly PutEventsRequestEntry[]): PutEventsResult;
  /** Puts an event as an AWS service would (sources `aws.*` allowed), e.g. SES feedback. */
  /**
   * Puts an event as an AWS service would (sources `aws.*` allowed), e.g. SES feedback. `delayMs`
   * holds its delivery back (counted as pending work by `whenIdle`), as a service reports later.
   */
  publishAsService(entry: PutEventsRequestEntry, options?: { delayMs?: number }): PutEventsResult;
  /** Resolves once no record is queued, being delivered or waiting to be retried. */
  whenIdle(): Promise<void>;
  isIdle(): boolean;
  deadLetters(): DeadLetter[];
  /** Moves every dead letter back to its rule's queue (receive count reset); returns how many. */
  redrive(): number;
  /** Waits for idle (at most `timeoutMs`), then persists the DLQ. PutEvents fails afterwards. */
  stop(timeoutMs?: number): Promise<void>;
}

interface QueuedMessage {
  messageId: string;
  eventId: string;
  body: string;
  /** FIFO message group (rules with `groupBy`); undefined on a standard queue. */
  group?: string;
  receiveCount: number;
  sentAt: number;
  firstReceivedAt?: number;
}

interface RuleQueue {
  rule: BusRule;
  /** The rule's pattern, validated once; undefined when it is invalid (logged, matches nothing). */
  matches: EventMatcher | undefined;
  functionName: string;
  arn: string;
  ready: QueuedMessage[];
  inFlight: number;
  /** Message groups with a message being delivered or waiting to be retried: held back, as SQS FIFO does. */
  busyGroups: Map<string, number>;
  delayed: number;
  window?: NodeJS.Timeout;
}

export function createLocalEventBridge(options: LocalEventBridgeOptions = {}): LocalEventBridge {
  const log = options.log ?? edgeLogger({ component: 'local-eventbridge' });
  const buses = new Set(options.buses ?? [busName, 'default']);
  const batchWindowMs = options.batchWindowMs ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const concurrency = options.concurrency ?? 10;
  const clock = options.clock ?? { now: () => Date.now() };
  const invoke =
    options.invoke ?? ((name, event) => invokeFunction(name, event, { timeoutMs: options.timeoutMs }));
  const dlqStore = jsonFile<DeadLetter[]>(options.dlqFile);
  const dlq: DeadLetter[] = dlqStore.load([]);
  const compile = (rule: BusRule): EventMatcher | undefined => {
    try {
      return compilePattern(rule.eventPattern);
    } catch (error) {
      log.error('rule pattern is invalid', {
        rule: rule.name,
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  };
  const queues: RuleQueue[] = (options.rules ?? allBusRules).map((rule) => ({
    rule,
    matches: compile(rule),
    functionName: options.targetFunction?.(rule) ?? `cairn-${rule.target}`,
    arn: `arn:aws:sqs:${localRegion}:${localAccount}:${rule.name}`,
    ready: [],
    inFlight: 0,
    busyGroups: new Map(),
    delayed: 0,
  }));
  const idleWaiters: (() => void)[] = [];
  const retryTimers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const isIdle = () => queues.every((q) => q.ready.length === 0 && q.inFlight === 0 && q.delayed === 0);
  const settle = () => {
    if (!isIdle()) return;
    for (const done of idleWaiters.splice(0)) done();
  };

  let busy = false;
  /** Reports a stretch of pending work to `track`, once, ending when the bus is idle again. */
  function markBusy(): void {
    if (busy || !options.track) return;
    busy = true;
    options.track(
      new Promise<void>((resolve) =>
        idleWaiters.push(() => {
          busy = false;
          resolve();
        }),
      ),
    );
  }

  function enqueue(queue: RuleQueue, message: QueuedMessage): void {
    markBusy();
    queue.ready.push(message);
    pump(queue, false);
    if (queue.ready.length > 0 && !queue.window) {
      queue.window = setTimeout(() => {
        queue.window = undefined;
        pump(queue, true);
      }, batchWindowMs);
    }
  }

  /** Starts deliveries while there is capacity: full batches always, partial ones once they have waited. */
  function pump(queue: RuleQueue, partialBatches: boolean): void {
    while (queue.inFlight < concurrency && queue.ready.length > 0) {
      if (!partialBatches && queue.ready.length < queue.rule.batchSize) return;
      const batch = takeBatch(queue);
      if (batch.length === 0) return;
      queue.inFlight++;
      void deliver(queue, batch).finally(() => {
        queue.inFlight--;
        pump(queue, true);
        settle();
      });
    }
  }

  /**
   * The next batch: the oldest ready messages, skipping (with everything after them in their group)
   * messages whose group is busy, so a group's order holds and other groups are not held up.
   */
  function takeBatch(queue: RuleQueue): QueuedMessage[] {
    if (!queue.rule.groupBy) return queue.ready.splice(0, queue.rule.batchSize);
    const batch: QueuedMessage[] = [];
    const skipped = new Set<string>();
    const rest: QueuedMessage[] = [];
    for (const message of queue.ready) {
      const group = message.group ?? '';
      if (batch.length < queue.rule.batchSize && !skipped.has(group) && !queue.busyGroups.has(group)) {
        batch.push(message);
      } else {
        skipped.add(group);
        rest.push(message);
      }
    }
    queue.ready = rest;
    for (const message of batch) hold(queue, message);
    return batch;
  }

  function hold(queue: RuleQueue, message: QueuedMessage): void {
    if (message.group === undefined) return;
    queue.busyGroups.set(message.group, (queue.busyGroups.get(message.group) ?? 0) + 1);
  }

  function release(queue: RuleQueue, message: QueuedMessage): void {
    if (message.group === undefined) return;
    const left = (queue.busyGroups.get(message.group) ?? 1) - 1;
    if (left > 0) queue.busyGroups.set(message.group, left);
    else queue.busyGroups.delete(message.group);
  }

  async function deliver(queue: RuleQueue, batch: QueuedMessage[]): Promise<void> {
    const now = Date.now();
    const records: SQSRecord[] = batch.map((message) => {
      message.receiveCount++;
      message.firstReceivedAt ??= now;
      return sqsRecord(queue, message);
    });
    let failed: Set<string>;
    let reason: string;
    let cause = 'batchItemFailures';
    try {
      const result = await invoke(queue.functionName, { Records: records });
      failed = reportedFailures(result, batch);
      // SQS carries no reason with a failure; the function keeps it (ingest: its dead-letter store).
      reason = `reported in batchItemFailures by ${queue.functionName} (its own log or dead letters say why)`;
    } catch (error) {
      failed = new Set(batch.map((m) => m.messageId));
      reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      cause = error instanceof Error ? error.name : 'thrown';
    }
    for (const message of batch) if (!failed.has(message.messageId)) release(queue, message);
    if (failed.size === 0) return;
    log.warn('delivery failed', {
      rule: queue.rule.name,
      function: queue.functionName,
      failed: failed.size,
      of: batch.length,
      // The error name only: messages can carry data; the full reason goes to the DLQ entry.
      cause,
    });
    for (const message of batch) {
      if (!failed.has(message.messageId)) continue;
      if (message.receiveCount >= queue.rule.maxReceiveCount) {
        release(queue, message);
        moveToDlq(queue, message, reason);
        continue;
      }
      // Its group stays held until it is visible again, so the group's later messages wait for it.
      enqueueLater(queue, message, retryDelayMs, () => release(queue, message));
    }
  }

  function moveToDlq(queue: RuleQueue, message: QueuedMessage, reason: string): void {
    log.error('moved to dead-letter queue', {
      rule: queue.rule.name,
      messageId: message.messageId,
      eventId: message.eventId,
      receiveCount: message.receiveCount,
    });
    dlq.push({
      messageId: message.messageId,
      eventId: message.eventId,
      rule: queue.rule.name,
      functionName: queue.functionName,
      receiveCount: message.receiveCount,
      sentAt: new Date(message.sentAt).toISOString(),
      failedAt: new Date().toISOString(),
      reason,
      body: message.body,
    });
    dlqStore.save(() => dlq);
  }

  /** `detailJson` is the entry's Detail as sent: the body embeds it instead of serialising it again. */
  function route(envelope: EventEnvelope, detailJson: string, delayMs: number, bus: string): void {
    let body: string | undefined;
    for (const queue of queues) {
      if (ruleBus(queue.rule) !== bus || !queue.matches?.(envelope)) continue;
      body ??= envelopeBody(envelope, detailJson);
      const message: QueuedMessage = {
        messageId: randomUUID(),
        eventId: envelope.id,
        body,
        receiveCount: 0,
        sentAt: Date.now(),
        ...(queue.rule.groupBy === 'person' ? { group: messageGroupOf(envelope.detail) } : {}),
      };
      if (delayMs > 0) enqueueLater(queue, message, delayMs);
      else enqueue(queue, message);
    }
  }

  /** Enqueues after a delay (a retry's visibility timeout, a service's reporting delay); not idle meanwhile. */
  function enqueueLater(
    queue: RuleQueue,
    message: QueuedMessage,
    delayMs: number,
    beforeEnqueue?: () => void,
  ): void {
    markBusy();
    queue.delayed++;
    const timer = setTimeout(() => {
      retryTimers.delete(timer);
      queue.delayed--;
      beforeEnqueue?.();
      enqueue(queue, message);
    }, delayMs);
    retryTimers.add(timer);
  }

  function put(entries: readonly PutEventsRequestEntry[], asService: boolean, delayMs = 0): PutEventsResult {
    if (stopped) throw new AwsServiceError('InternalException', 'The local event bus is stopping', 500);
    const results: PutEventsResultEntry[] = [];
    const accepted: { envelope: EventEnvelope; detailJson: string; bus: string }[] = [];
    for (const entry of entries) {
      // Detail is parsed once: to validate it, and as the envelope's detail.
      const detail = parseDetail(entry.Detail);
      const problem = entryProblem(entry, detail, asService, buses);
      if (problem || !detail) {
        results.push(problem ?? { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
        continue;
      }
      const envelope = toEnvelope(entry, detail, clock.now());
      accepted.push({ envelope, detailJson: entry.Detail as string, bus: busNameOf(entry.EventBusName) });
      results.push({ EventId: envelope.id });
    }
    for (const { envelope, detailJson, bus } of accepted) route(envelope, detailJson, delayMs, bus);
    settle();
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  const bus: LocalEventBridge = {
    targetPrefix: 'AWSEvents',
    async handle(action, body) {
      const input = (body ?? {}) as Record<string, unknown>;
      switch (action) {
        case 'PutEvents':
          return put(validateRequest(input.Entries), false);
        case 'ListRules':
          return listRules(input, queues, buses);
        case 'DescribeEventBus':
          return describeEventBus(input, buses);
        case 'TestEventPattern':
          return testEventPattern(input);
        default:
          throw new AwsServiceError(
            'UnknownOperationException',
            `The local EventBridge does not implement ${action}`,
          );
      }
    },
    putEvents: (entries) => put(validateRequest(entries), false),
    publishAsService: (entry, publishOptions) => put([entry], true, publishOptions?.delayMs),
    whenIdle() {
      if (isIdle()) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    isIdle,
    deadLetters: () => dlq.map((letter) => ({ ...letter })),
    redrive() {
      const letters = dlq.splice(0);
      for (const letter of letters) {
        const queue = queues.find((q) => q.rule.name === letter.rule);
        if (!queue) continue;
        enqueue(queue, {
          messageId: letter.messageId,
          eventId: letter.eventId,
          body: letter.body,
          receiveCount: 0,
          sentAt: Date.now(),
          ...(queue.rule.groupBy === 'person' ? { group: groupOfBody(letter.body) } : {}),
        });
      }
      dlqStore.save(() => dlq);
      return letters.length;
    },
    async stop(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        bus.whenIdle(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
      stopped = true;
      for (const queue of queues) if (queue.window) clearTimeout(queue.window);
      for (const retry of retryTimers) clearTimeout(retry);
      const abandoned = queues.reduce((n, q) => n + q.ready.length + q.delayed + q.inFlight, 0);
      if (abandoned > 0) log.warn('stopped with deliveries pending', { pending: abandoned });
      // Nothing more will be delivered: whoever waits for idle (the clock's accounting) stops waiting.
      for (const done of idleWaiters.splice(0)) done();
      dlqStore.flush();
    },
  };
  return bus;
}

function validateRequest(entries: unknown): PutEventsRequestEntry[] {
  if (!Array.isArray(entries)) {
    throw new AwsServiceError(
      'ValidationException',
      "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
    );
  }
  if (entries.length < 1 || entries.length > putEventsLimits.entries) {
    const bound =
      entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${putEventsLimits.entries}`;
    throw new AwsServiceError(
      'ValidationException',
      `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${bound}`,
    );
  }
  const size = entries.reduce(
    (total: number, entry: PutEventsRequestEntry) => total + putEventsEntrySize(entry ?? {}),
    0,
  );
  if (size > putEventsLimits.bytes)
    throw new AwsServiceError(
      'ValidationException',
      'Total size of the entries in the request is over the limit.',
    );
  return entries as PutEventsRequestEntry[];
}

function entryProblem(
  entry: PutEventsRequestEntry,
  detail: Record<string, unknown> | undefined,
  asService: boolean,
  buses: Set<string>,
): PutEventsResultEntry | undefined {
  const required = (name: string) => ({
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${name} is not valid. Reason: ${name} is a required argument.`,
  });
  if (typeof entry.Source !== 'string' || entry.Source === '') return required('Source');
  if (typeof entry.DetailType !== 'string' || entry.DetailType === '') return required('DetailType');
  if (typeof entry.Detail !== 'string' || entry.Detail === '') return required('Detail');
  if (!detail) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  if (!asService && entry.Source.startsWith('aws.'))
    return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
  if (entry.Time !== undefined && Number.isNaN(eventTime(entry.Time, 0))) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid.' };
  }
  const bus = busNameOf(entry.EventBusName);
  // AWS accepts events for a bus that does not exist and drops them; locally we say so instead.
  if (!buses.has(bus))
    return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
  return undefined;
}

/** The Detail as an object, or undefined when it is missing or not a JSON object. */
function parseDetail(text: string | undefined): Record<string, unknown> | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The envelope as JSON, with the Detail text embedded as sent (valid JSON: it was parsed). */
function envelopeBody(envelope: EventEnvelope, detailJson: string): string {
  const { detail: _detail, ...head } = envelope;
  return `${JSON.stringify(head).slice(0, -1)},"detail":${detailJson}}`;
}

function groupOfBody(body: string): string {
  try {
    return messageGroupOf((JSON.parse(body) as { detail?: unknown }).detail);
  } catch {
    return messageGroupOf(undefined);
  }
}

function ruleBus(rule: BusRule): string {
  return rule.bus ?? busName;
}

function busNameOf(nameOrArn: string | undefined): string {
  if (!nameOrArn) return 'default';
  const marker = ':event-bus/';
  const at = nameOrArn.indexOf(marker);
  return at >= 0 ? nameOrArn.slice(at + marker.length) : nameOrArn;
}

function eventTime(time: number | string, fallback: number): number {
  if (time === undefined) return fallback;
  if (typeof time === 'number') return time * 1000;
  return Date.parse(time);
}

function toEnvelope(
  entry: PutEventsRequestEntry,
  detail: Record<string, unknown>,
  now: number,
): EventEnvelope {
  const time = entry.Time === undefined ? now : eventTime(entry.Time, now);
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.DetailType as string,
    source: entry.Source as string,
    account: localAccount,
    time: new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: localRegion,
    resources: entry.Resources ?? [],
    detail,
  };
}

function sqsRecord(queue: RuleQueue, message: QueuedMessage): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: randomBytes(48).toString('base64'),
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'AIDAEVENTBRIDGELOCAL',
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(message.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: localRegion,
  };
}

/** The records a handler reported as failed; an unknown or empty identifier fails the whole batch (as Lambda does). */
function reportedFailures(result: unknown, batch: readonly QueuedMessage[]): Set<string> {
  const failures = (result as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return new Set();
  const ids = new Set(batch.map((m) => m.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) return ids;
    failed.add(id);
  }
  return failed;
}

function listRules(input: Record<string, unknown>, queues: readonly RuleQueue[], buses: Set<string>) {
  const bus = busNameOf(input.EventBusName as string | undefined);
  if (!buses.has(bus))
    throw new AwsServiceError('ResourceNotFoundException', `Event bus ${bus} does not exist.`);
  const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
  return {
    Rules: queues
      .filter((q) => ruleBus(q.rule) === bus && q.rule.name.startsWith(prefix))
      .map((q) => ({
        Name: q.rule.name,
        Arn: `arn:aws:events:${localRegion}:${localAccount}:rule/${bus === 'default' ? '' : `${bus}/`}${q.rule.name}`,
        EventPattern: JSON.stringify(q.rule.eventPattern),
        State: 'ENABLED',
        EventBusName: bus,
      })),
  };
}

function describeEventBus(input: Record<string, unknown>, buses: Set<string>) {
  const bus = busNameOf(input.Name as string | undefined);
  if (!buses.has(bus))
    throw new AwsServiceError('ResourceNotFoundException', `Event bus ${bus} does not exist.`);
  return { Name: bus, Arn: `arn:aws:events:${localRegion}:${localAccount}:event-bus/${bus}` };
}

function testEventPattern(input: Record<string, unknown>) {
  let pattern: unknown;
  let event: unknown;
  try {
    pattern = JSON.parse(String(input.EventPattern));
  } catch {
    throw new AwsServiceError('InvalidEventPatternException', 'Event pattern is not valid JSON');
  }
  try {
    event = JSON.parse(String(input.Event));
  } catch {
    throw new AwsServiceError('ValidationException', 'Event is not valid JSON');
  }
  try {
    return { Result: matchesPattern(pattern as Record<string, unknown>, event) };
  } catch (error) {
    throw new AwsServiceError(
      'InvalidEventPatternException',
      error instanceof Error ? error.message : 'Event pattern is not valid',
    );
  }
}
