/**
 * Journeys benchmark (`npm run bench:journeys`, < 5 min): writes bench/results/journeys.json.
 *
 *  1. transitionsPerNode: state transitions (StateEntered events in GetExecutionHistory) per node
 *     type on its common path: this is the Step Functions bill. Goal ≤ 2 per node.
 *  2. transitionsPerExampleJourney: the same for the example journeys in statemachines/, one
 *     customer along the main path.
 *  3. triggerToEmail: tracked event (POST /v1/track) → email captured by the local SES, p50/p99.
 *  4. waitForReaction: awaited event posted → the waitFor state exited (history timestamp), p50/p99.
 *  2b. awsCalls.perStepByNodeType: AWS requests of one step per node type (a `<node> → exit` journey
 *     per type, less the exit step), awsCalls.perStopReactor: requests per exitOn stop.
 *  5. bytesPerWaitingExecution: heap growth / executions with 10,000 executions parked in a Wait,
 *     and StartExecution/s while starting them; journeysStartedPerSecond end to end (events through
 *     /v1/batch → ingest → reactor → StartExecution).
 *
 * Env: BENCH_LATENCY_EVENTS (200), BENCH_LATENCY_RATE (5/s: latency of a lightly loaded stack; at 20/s queueing
 * in the one-process stack shows, p50 ~150 ms), BENCH_WAITING (10000), BENCH_E2E_STARTS (1000).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { parse } from 'yaml';
import { runtimeCalls } from '../functions/runtime/runtime.js';
import { startLocalStack } from '../infra/local/stack.js';
import { percentile, pool, printTable, round } from './support/stats.js';

const latencyEvents = Number(process.env.BENCH_LATENCY_EVENTS ?? 200);
const waitingExecutions = Number(process.env.BENCH_WAITING ?? 10_000);
const e2eStarts = Number(process.env.BENCH_E2E_STARTS ?? 1000);
/** Events per second in the latency runs. */
const latencyRate = Number(process.env.BENCH_LATENCY_RATE ?? 5);

process.env.CAIRN_LOG_LEVEL ??= 'warn';
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const began = Date.now();
const stack = await startLocalStack({ memory: true, httpPort: 0, edgePort: 0 });
const sfn = new SFNClient({
  endpoint: stack.edgeUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  maxAttempts: 8,
});
const hook = createServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(204).end());
});
await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;

// biome-ignore lint/suspicious/noExplicitAny: API responses are read field by field.
async function call(method: string, path: string, body?: unknown): Promise<any> {
  const auth = path.startsWith('/v1/')
    ? `Basic ${Buffer.from(`${stack.env.CAIRN_WRITE_KEY}:`).toString('base64')}`
    : `Bearer ${stack.env.CAIRN_API_TOKEN}`;
  const response = await fetch(`${stack.httpUrl}${path}`, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} → ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
const idle = () => stack.settle();
const advance = async (duration: string) => {
  await call('POST', '/local/clock', { advance: duration });
  await idle();
};

async function publish(
  definition: Record<string, unknown>,
): Promise<{ version: number; versionArn: string }> {
  await call('PUT', `/journeys/${definition.id}`, { name: String(definition.id), ...definition });
  return call('POST', `/journeys/${definition.id}/publish`);
}
async function template(id: string, body: Record<string, unknown> = { subject: 'Hi', text: 'Hello' }) {
  await call('PUT', `/templates/${id}`, body);
}
async function track(
  userId: string,
  event: string,
  properties: Record<string, unknown> = {},
  messageId?: string,
) {
  await call('POST', '/v1/track', { userId, event, properties, ...(messageId && { messageId }) });
}
async function identify(userId: string, traits: Record<string, unknown>) {
  await call('POST', '/v1/identify', { userId, traits });
}

async function executionsOf(journeyId: string): Promise<string[]> {
  const machine = `arn:aws:states:us-east-1:000000000000:stateMachine:cairn-${journeyId}`;
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: machine, nextToken, maxResults: 1000 }),
    );
    arns.push(...(out.executions ?? []).map((e) => e.executionArn!));
    nextToken = out.nextToken;
  } while (nextToken);
  return arns;
}
async function history(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const out = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(out.events ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return events;
}
/** AWS calls the runtime made between two snapshots, per unit of work, for one role. */
function callsPer(
  before: Record<string, Record<string, number>>,
  role: string,
  units: number,
): { total: number; byCommand: Record<string, number> } {
  const now = runtimeCalls[role] ?? {};
  const then = before[role] ?? {};
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [command, count] of Object.entries(now)) {
    const delta = count - (then[command] ?? 0);
    if (delta === 0) continue;
    byCommand[command] = round(delta / units);
    total += delta;
  }
  return { total: round(total / units), byCommand };
}

/** Starts `task(i)` every 1000/latencyRate ms without waiting for the previous one (open loop). */
async function paced(count: number, task: (i: number) => Promise<void>): Promise<void> {
  const running: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    running.push(task(i));
    await new Promise((r) => setTimeout(r, 1000 / latencyRate));
  }
  await Promise.all(running);
}

/** StateEntered events per node (helper states `<node>.<x>` count for their node). */
function transitionsByNode(events: HistoryEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) {
    if (!event.type?.endsWith('StateEntered')) continue;
    const node = (event.stateEnteredEventDetails?.name ?? '').split('.')[0]!;
    counts[node] = (counts[node] ?? 0) + 1;
  }
  return counts;
}

try {
  const run = Date.now().toString(36);
  await template(`b-${run}`);

  // 1. Transitions per node type: one journey with every node type on its common path.
  const nodesJourney = `bench-nodes-${run}`;
  await publish({
    id: nodesJourney,
    trigger: { event: `Bench Nodes ${run}` },
    start: 'wait',
    nodes: {
      wait: { type: 'wait', for: 'PT1M', next: 'waitUntil' },
      waitUntil: { type: 'wait', until: { time: '09:00', timezone: 'UTC' }, next: 'email' },
      email: { type: 'email', template: `b-${run}`, next: 'webhook' },
      webhook: { type: 'webhook', url: hookUrl, next: 'update' },
      update: { type: 'update', increment: { benchRuns: 1 }, next: 'branch' },
      branch: {
        type: 'branch',
        cases: [{ when: { traits: { plan: ['pro'] } }, next: 'split' }],
        default: 'waitFor',
      },
      split: {
        type: 'split',
        branches: [
          { weight: 50, next: 'waitFor' },
          { weight: 50, next: 'waitFor' },
        ],
      },
      // biome-ignore lint/suspicious/noThenProperty: the waitFor node's field is named `then`
      waitFor: { type: 'waitFor', event: `Bench Done ${run}`, timeout: 'PT1H', then: 'exit', else: 'exit' },
      exit: { type: 'exit' },
    },
  });
  await identify(`nodes-${run}`, { email: `nodes-${run}@example.com`, plan: 'pro' });
  await identify(`nodes-timeout-${run}`, { email: `nodes-timeout-${run}@example.com` });
  await track(`nodes-${run}`, `Bench Nodes ${run}`);
  await track(`nodes-timeout-${run}`, `Bench Nodes ${run}`);
  await idle();
  await advance('PT1M');
  // Just past the next 09:00 UTC, so the waitFor (1 h timeout) is still waiting afterwards.
  const nineUtc = new Date(stack.clock.now());
  nineUtc.setUTCHours(9, 0, 0, 0);
  if (nineUtc.getTime() <= stack.clock.now()) nineUtc.setUTCDate(nineUtc.getUTCDate() + 1);
  await advance(`PT${Math.ceil((nineUtc.getTime() - stack.clock.now()) / 1000) + 1}S`);
  await track(`nodes-${run}`, `Bench Done ${run}`);
  await idle();
  await advance('PT2H');
  const nodeCounts = await Promise.all(
    (await executionsOf(nodesJourney)).map(async (arn) => transitionsByNode(await history(arn))),
  );
  const matchedCounts = nodeCounts.find((c) => c.waitFor === 1) ?? nodeCounts[0]!;
  const timedOutCounts = nodeCounts.find((c) => c !== matchedCounts) ?? matchedCounts;
  const transitionsPerNode: Record<string, number> = {
    email: matchedCounts.email ?? 0,
    webhook: matchedCounts.webhook ?? 0,
    wait: matchedCounts.wait ?? 0,
    waitUntil: matchedCounts.waitUntil ?? 0,
    waitFor: Math.min(matchedCounts.waitFor ?? 0, timedOutCounts.waitFor ?? 0),
    waitForTimeout: Math.max(matchedCounts.waitFor ?? 0, timedOutCounts.waitFor ?? 0),
    branch: matchedCounts.branch ?? 0,
    split: matchedCounts.split ?? 0,
    update: matchedCounts.update ?? 0,
    exit: matchedCounts.exit ?? 0,
  };

  // 2. Example journeys, one customer each along the main path.
  const transitionsPerExampleJourney: Record<
    string,
    { transitions: number; nodes: number; perNode: number }
  > = {};
  const example = async (name: string, drive: (id: string, ev: (e: string) => string) => Promise<void>) => {
    const id = `bench-${name.slice(0, 10)}-${run}`;
    const doc = parse(readFileSync(`statemachines/${name}.journey.yaml`, 'utf8'));
    const ev = (event: string) => `${event} ${run}`;
    doc.id = id;
    doc.trigger.event = ev(doc.trigger.event);
    if (doc.goal) doc.goal.event = ev(doc.goal.event);
    for (const exit of doc.exitOn ?? []) exit.event = ev(exit.event);
    for (const node of Object.values(doc.nodes) as Record<string, string>[]) {
      if (node.type === 'waitFor') node.event = ev(node.event!);
      if (node.type === 'email') {
        const body = parse(readFileSync(`statemachines/templates/${node.template}.template.yaml`, 'utf8'));
        node.template = `${id}-${node.template}`;
        await template(node.template, body);
      }
    }
    await publish(doc);
    await drive(id, ev);
    const [arn] = await executionsOf(id);
    const counts = transitionsByNode(await history(arn!));
    const transitions = Object.values(counts).reduce((a, b) => a + b, 0);
    const nodes = Object.keys(counts).length;
    transitionsPerExampleJourney[name] = { transitions, nodes, perNode: round(transitions / nodes) };
  };
  await example('cart-recovery', async (id, ev) => {
    await identify(`cart-${id}`, { email: `cart-${id}@example.com`, plan: 'pro' });
    await track(`cart-${id}`, ev('Product Added'), { cartId: 'c1', price: 10 });
    await idle();
    await advance('PT3H1M');
  });
  await example('welcome', async (id, ev) => {
    await identify(`wel-${id}`, { email: `wel-${id}@example.com`, projectCount: 1 });
    await track(`wel-${id}`, ev('Signed Up'));
    await idle();
    await advance('P2DT1M');
  });
  await example('webinar', async (id, ev) => {
    await identify(`web-${id}`, { email: `web-${id}@example.com`, timezone: 'Europe/Paris' });
    const startsAt = new Date(stack.clock.now() + 3 * 86_400_000).toISOString();
    await track(`web-${id}`, ev('Webinar Registered'), { webinarId: 'w1', startsAt });
    await idle();
    await advance('P3D');
    await track(`web-${id}`, ev('Webinar Attended'), { webinarId: 'w1' });
    await idle();
  });

  // 2b. AWS calls per node type: a journey `<node> → exit` per type, one warm-up customer (caches),
  // then `perNodeCustomers` customers; the step calls of an `exit`-only journey are taken off.
  const perNodeCustomers = 20;
  const costUsers = Array.from({ length: perNodeCustomers + 1 }, (_, i) => `cost${i}-${run}`);
  await pool(costUsers.length, 8, (i) =>
    identify(costUsers[i]!, { email: `${costUsers[i]}@example.com`, plan: 'pro', timezone: 'Europe/Paris' }),
  );
  const stepCallsPerRun = async (
    name: string,
    first: Record<string, unknown> | undefined,
    after?: (users: string[]) => Promise<void>,
  ) => {
    const id = `bench-cost-${name.toLowerCase()}-${run}`;
    const event = `Bench Cost ${name} ${run}`;
    await publish({
      id,
      trigger: { event },
      start: first ? 'node' : 'done',
      nodes: { ...(first && { node: first }), done: { type: 'exit' } },
    });
    const drive = async (users: string[]) => {
      await pool(users.length, 8, (i) => track(users[i]!, event, { k: i }));
      await idle();
      await after?.(users);
    };
    await drive(costUsers.slice(0, 1));
    const before = structuredClone(runtimeCalls);
    await drive(costUsers.slice(1));
    return {
      step: callsPer(before, 'step', perNodeCustomers),
      reactor: callsPer(before, 'reactor', perNodeCustomers),
    };
  };
  const exitOnly = await stepCallsPerRun('Exit', undefined);
  /** The node's own step calls: the run's minus the exit step's. */
  const withoutExit = (run: { total: number; byCommand: Record<string, number> }) => {
    const byCommand: Record<string, number> = {};
    for (const [command, n] of Object.entries(run.byCommand)) {
      const own = round(n - (exitOnly.step.byCommand[command] ?? 0));
      if (own > 0) byCommand[command] = own;
    }
    return { total: round(run.total - exitOnly.step.total), byCommand };
  };
  const perNodeType: Record<string, { total: number; byCommand: Record<string, number> }> = {
    exit: exitOnly.step,
  };
  perNodeType.email = withoutExit(
    (await stepCallsPerRun('Email', { type: 'email', template: `b-${run}`, next: 'done' })).step,
  );
  perNodeType.webhook = withoutExit(
    (await stepCallsPerRun('Webhook', { type: 'webhook', url: hookUrl, next: 'done' })).step,
  );
  perNodeType.update = withoutExit(
    (await stepCallsPerRun('Update', { type: 'update', set: { benchCost: true }, next: 'done' })).step,
  );
  perNodeType.branch = withoutExit(
    (
      await stepCallsPerRun('Branch', {
        type: 'branch',
        cases: [{ when: { traits: { plan: ['pro'] } }, next: 'done' }],
        default: 'done',
      })
    ).step,
  );
  perNodeType.branchOnProperties = withoutExit(
    (
      await stepCallsPerRun('BranchProps', {
        type: 'branch',
        cases: [{ when: { properties: { k: [{ numeric: ['>=', 0] }] } }, next: 'done' }],
        default: 'done',
      })
    ).step,
  );
  const nextDay = async () => advance('P1D');
  perNodeType.waitUntilProfileZone = withoutExit(
    (await stepCallsPerRun('UntilProfile', { type: 'wait', until: { time: '09:00' }, next: 'done' }, nextDay))
      .step,
  );
  perNodeType.waitUntilFixedZone = withoutExit(
    (
      await stepCallsPerRun(
        'UntilUtc',
        { type: 'wait', until: { time: '09:00', timezone: 'UTC' }, next: 'done' },
        nextDay,
      )
    ).step,
  );
  const resumed = await stepCallsPerRun(
    'WaitFor',
    // biome-ignore lint/suspicious/noThenProperty: the waitFor node's field is named `then`
    { type: 'waitFor', event: `Bench Cost Go ${run}`, timeout: 'P1D', then: 'done', else: 'done' },
    async (users) => {
      await pool(users.length, 8, (i) => track(users[i]!, `Bench Cost Go ${run}`));
      await idle();
    },
  );
  perNodeType.waitFor = withoutExit(resumed.step);
  const stopped = await (async () => {
    const id = `bench-cost-stop-${run}`;
    await publish({
      id,
      trigger: { event: `Bench Cost Stop ${run}` },
      exitOn: [{ event: `Bench Cost Leave ${run}` }],
      start: 'hold',
      nodes: { hold: { type: 'wait', for: 'P1D', next: 'done' }, done: { type: 'exit' } },
    });
    const users = costUsers.slice(1);
    await pool(users.length, 8, (i) => track(users[i]!, `Bench Cost Stop ${run}`));
    await idle();
    const before = structuredClone(runtimeCalls);
    await pool(users.length, 8, (i) => track(users[i]!, `Bench Cost Leave ${run}`));
    await idle();
    return callsPer(before, 'reactor', users.length);
  })();

  // 3. Trigger → email latency.
  const emailJourney = `bench-email-${run}`;
  await publish({
    id: emailJourney,
    trigger: { event: `Bench Email ${run}` },
    start: 'send',
    nodes: { send: { type: 'email', template: `b-${run}`, next: 'done' }, done: { type: 'exit' } },
  });
  const emailUsers = Array.from({ length: latencyEvents }, (_, i) => `e${i}-${run}`);
  await pool(emailUsers.length, 16, (i) =>
    identify(emailUsers[i]!, { email: `${emailUsers[i]}@example.com` }),
  );
  await idle();
  const beforeEmail = structuredClone(runtimeCalls);
  const sentAtTrigger = new Map<string, number>();
  // Open loop at a steady rate well under the throughput, so the figure is latency, not queueing.
  await paced(emailUsers.length, async (i) => {
    const user = emailUsers[i]!;
    sentAtTrigger.set(`${user}@example.com`, stack.clock.now());
    await track(user, `Bench Email ${run}`);
  });
  await idle();
  const awsCalls: Record<string, unknown> = {
    perStepByNodeType: perNodeType,
    perStopReactor: stopped,
    perTriggeredJourneyReactor: callsPer(beforeEmail, 'reactor', emailUsers.length),
    perEmailThenExitSteps: callsPer(beforeEmail, 'step', emailUsers.length),
  };
  const beforeQuiet = structuredClone(runtimeCalls);
  await pool(50, 4, (i) => track(emailUsers[i % emailUsers.length]!, `Bench Nothing ${run}`));
  await idle();
  awsCalls.perEventThatTriggersNothing = callsPer(beforeQuiet, 'reactor', 50);
  const emailLatencies: number[] = [];
  for (const message of stack.ses.outbox()) {
    const t0 = message.journeyId === emailJourney ? sentAtTrigger.get(message.to) : undefined;
    if (t0 !== undefined) emailLatencies.push(Date.parse(message.sentAt) - t0);
  }

  // 4. waitFor reaction: awaited event in → the waitFor state exited.
  const waitForJourney = `bench-waitfor-${run}`;
  await publish({
    id: waitForJourney,
    trigger: { event: `Bench Wait ${run}` },
    start: 'await',
    nodes: {
      await: {
        type: 'waitFor',
        event: `Bench Go ${run}`,
        match: ['k'],
        timeout: 'P1D',
        // biome-ignore lint/suspicious/noThenProperty: the waitFor node's field is named `then`
        then: 'done',
        else: 'done',
      },
      done: { type: 'exit' },
    },
  });
  const waitUsers = Array.from({ length: latencyEvents }, (_, i) => `w${i}-${run}`);
  // The execution input holds ids only (no properties), so the entry's messageId says which user it is.
  const waitMessageId = (i: number) => `bench-wait-${run}-${i}`;
  await pool(waitUsers.length, 8, (i) =>
    track(waitUsers[i]!, `Bench Wait ${run}`, { k: i }, waitMessageId(i)),
  );
  await idle();
  const beforeGo = structuredClone(runtimeCalls);
  const goAt = new Map<number, number>();
  await paced(waitUsers.length, async (i) => {
    goAt.set(i, stack.clock.now());
    await track(waitUsers[i]!, `Bench Go ${run}`, { k: i });
  });
  await idle();
  awsCalls.perWaitForResumeReactor = callsPer(beforeGo, 'reactor', waitUsers.length);
  awsCalls.perExitStepAfterResume = callsPer(beforeGo, 'step', waitUsers.length);
  const reactionLatencies: number[] = [];
  const waitArns = await executionsOf(waitForJourney);
  await pool(waitArns.length, 8, async (index) => {
    const events = await history(waitArns[index]!);
    const started = events.find((e) => e.type === 'ExecutionStarted');
    const messageId = String(
      JSON.parse(started?.executionStartedEventDetails?.input ?? '{}').entry?.messageId,
    );
    const k = Number(messageId.slice(waitMessageId(0).length - 1));
    const exited = events.find(
      (e) => e.type?.endsWith('StateExited') && e.stateExitedEventDetails?.name === 'await',
    );
    const t0 = goAt.get(k);
    if (exited?.timestamp && t0 !== undefined) reactionLatencies.push(exited.timestamp.getTime() - t0);
  });

  // 5. Memory per waiting execution, StartExecution/s, and journeys started/s end to end.
  const parkedJourney = `bench-parked-${run}`;
  const parked = await publish({
    id: parkedJourney,
    trigger: { event: `Bench Parked ${run}` },
    reentry: 'always',
    start: 'hold',
    nodes: { hold: { type: 'wait', for: 'P7D', next: 'done' }, done: { type: 'exit' } },
  });
  await idle();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const startBegan = Date.now();
  await pool(waitingExecutions, 32, async (i) => {
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: parked.versionArn,
        name: `parked-${i}`,
        input: JSON.stringify({
          profileId: `p-${i}`,
          journeyId: parkedJourney,
          version: parked.version,
          entry: { event: `Bench Parked ${run}`, messageId: `m-${i}`, properties: { i } },
        }),
      }),
    );
  });
  await idle();
  const startSeconds = (Date.now() - startBegan) / 1000;
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  const bytesPerWaitingExecution = Math.round((heapAfter - heapBefore) / waitingExecutions);

  const e2eJourney = `bench-starts-${run}`;
  await publish({
    id: e2eJourney,
    trigger: { event: `Bench Start ${run}` },
    start: 'hold',
    nodes: { hold: { type: 'wait', for: 'P7D', next: 'done' }, done: { type: 'exit' } },
  });
  const e2eBegan = Date.now();
  const batches = Math.ceil(e2eStarts / 100);
  await pool(batches, 4, async (b) => {
    const batch = Array.from({ length: Math.min(100, e2eStarts - b * 100) }, (_, j) => ({
      type: 'track',
      userId: `s${b * 100 + j}-${run}`,
      event: `Bench Start ${run}`,
    }));
    await call('POST', '/v1/batch', { batch });
  });
  await idle();
  const e2eSeconds = (Date.now() - e2eBegan) / 1000;
  const e2eStats = await call('GET', `/journeys/${e2eJourney}/stats`);

  const results = {
    transitionsPerNode,
    transitionsPerExampleJourney,
    triggerToEmailP50Ms: round(percentile(emailLatencies, 50)),
    triggerToEmailP99Ms: round(percentile(emailLatencies, 99)),
    triggerToEmailSamples: emailLatencies.length,
    latencyEventsPerSecond: latencyRate,
    waitForReactionP50Ms: round(percentile(reactionLatencies, 50)),
    waitForReactionP99Ms: round(percentile(reactionLatencies, 99)),
    waitForReactionSamples: reactionLatencies.length,
    bytesPerWaitingExecution,
    waitingExecutions,
    awsCalls,
    startExecutionPerSecond: round(waitingExecutions / startSeconds),
    journeysStartedPerSecond: round(Number(e2eStats.started) / e2eSeconds),
    journeysStartedEndToEnd: Number(e2eStats.started),
    durationSeconds: round((Date.now() - began) / 1000, 1),
    measuredAt: new Date().toISOString(),
    node: process.version,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/journeys.json', `${JSON.stringify(results, null, 2)}\n`);
  printTable('Journeys benchmark', [
    ...Object.entries(transitionsPerNode).map(([type, n]) => [`transitions: ${type}`, n] as [string, number]),
    ...Object.entries(transitionsPerExampleJourney).map(
      ([name, t]) =>
        [`transitions: ${name} (per node)`, `${t.transitions} (${t.perNode})`] as [string, string],
    ),
    ['trigger → email p50 ms', results.triggerToEmailP50Ms],
    ['trigger → email p99 ms', results.triggerToEmailP99Ms],
    ['waitFor reaction p50 ms', results.waitForReactionP50Ms],
    ['waitFor reaction p99 ms', results.waitForReactionP99Ms],
    [`bytes per waiting execution (${waitingExecutions})`, bytesPerWaitingExecution],
    ['StartExecution/s', results.startExecutionPerSecond],
    ['journeys started/s (events → executions)', results.journeysStartedPerSecond],
    [
      'AWS calls per triggered journey (reactor)',
      (awsCalls.perTriggeredJourneyReactor as { total: number }).total,
    ],
    ['AWS calls per email + exit steps', (awsCalls.perEmailThenExitSteps as { total: number }).total],
    ['AWS calls per waitFor resume (reactor)', (awsCalls.perWaitForResumeReactor as { total: number }).total],
    ['AWS calls per exitOn stop (reactor)', stopped.total],
    ...Object.entries(perNodeType).map(
      ([type, calls]) => [`AWS calls per step: ${type}`, calls.total] as [string, number],
    ),
    [
      'AWS calls per event triggering nothing',
      (awsCalls.perEventThatTriggersNothing as { total: number }).total,
    ],
    ['duration s', results.durationSeconds],
  ]);
} finally {
  hook.close();
  sfn.destroy();
  await stack.stop();
}
