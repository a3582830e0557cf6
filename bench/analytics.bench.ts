/**
 * Analytics benchmark (`npm run bench:analytics`, ~13 min on a loaded 2-core machine): writes bench/results/analytics.json.
 *
 *  1. requestsPerStep: AWS requests of the step and reactor roles for a `welcome (email) → split →
 *     wait → exit` journey, per customer, with the analytics records on (they ride in the step's
 *     TransactWriteItems; the only extra request is one Query when an execution ends).
 *     itemBytes / wcuPerStep: sizes of the analytics items, and the write units they add per step.
 *  2. reportLatency: GET /journeys/{id}/report (p50/p95 of 20 calls, all days and one week) over the
 *     analytics records of BENCH_REPORT_EXECUTIONS executions (default 10,000, ~11 min at 15/s on a
 *     loaded 2-core machine; 100,000 is the size) written by the runtime's own entry, step and
 *     stop code into DynamoDB Local, with the requests each execution cost (bench/analytics-executions.ts).
 *     `BENCH_REPORT_SEED=1 BENCH_REPORT_EXECUTIONS=100000`: 1,000 run for real, the rest run the same
 *     code into a capture written in bulk (~7 min; bench/analytics-seed.ts), checked against the real
 *     ones; results in bench/results/analytics-seeded-<executions>.json.
 *  3. dashboard: bundle bytes (raw, gzipped) and time to interactive in Debian's chromium (navigation
 *     start → journeys list rendered, p50 of 5 cold loads).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { buildDashboard } from '../functions/api/app/build.js';
import { runtimeCalls } from '../functions/runtime/runtime.js';
import { startLocalStack } from '../infra/local/stack.js';
import { transitionPut } from '../shared/analytics/store.js';
import { reportOverExecutions } from './analytics-executions.js';
import { percentile, printTable, round } from './support/stats.js';

/** The machine's load (1, 5, 15 min averages) at each part: it is shared, so numbers go with it. */
const load: Record<string, number[]> = { start: loadavg().map((l) => round(l, 1)) };
const customers = Number(process.env.BENCH_ANALYTICS_CUSTOMERS ?? 50);

const stack = await startLocalStack({ memory: true, httpPort: 0, edgePort: 0 });
const base = stack.httpUrl;
const auth = { authorization: 'Bearer dev-token', 'content-type': 'application/json' };
const writeAuth = {
  authorization: `Basic ${Buffer.from('dev-write-key:').toString('base64')}`,
  'content-type': 'application/json',
};
const call = async (method: string, path: string, body?: unknown, headers = auth) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
  // biome-ignore lint/suspicious/noExplicitAny: responses read field by field
  return (await response.json()) as any;
};
const idle = async () => {
  for (let i = 0; i < 20; i++) if ((await fetch(`${base}/local/idle`)).ok) return;
};

try {
  // 1. Requests and write units per step.
  const id = 'bench-analytics';
  await call('PUT', '/templates/bench-hello', { subject: 'Hi', text: 'Hello' });
  await call('PUT', `/journeys/${id}`, {
    id,
    name: id,
    trigger: { event: 'Signed Up' },
    goal: { event: 'Order Completed', within: 'P7D' },
    reentry: 'always',
    start: 'welcome',
    nodes: {
      welcome: { type: 'email', template: 'bench-hello', next: 'ab' },
      ab: {
        type: 'split',
        branches: [
          { weight: 50, next: 'waitA' },
          { weight: 50, next: 'waitB' },
        ],
      },
      waitA: { type: 'wait', for: 'PT1H', next: 'done' },
      waitB: { type: 'wait', for: 'PT1H', next: 'done' },
      done: { type: 'exit' },
    },
  });
  await call('POST', `/journeys/${id}/publish`);
  const users = Array.from({ length: customers }, (_, i) => `bench-a-${i}`);
  await call(
    'POST',
    '/v1/batch',
    {
      batch: users.flatMap((userId) => [
        { type: 'identify', userId, traits: { email: `${userId}@example.com` } },
        { type: 'track', userId, event: 'Signed Up' },
      ]),
    },
    writeAuth,
  );
  await idle();
  await call('POST', '/local/clock', { advance: 'PT2H' });
  await idle();
  const step = { ...(runtimeCalls.step ?? {}) };
  const steps = customers * 2; // welcome + done
  const perStep = Object.fromEntries(Object.entries(step).map(([k, v]) => [k, round(v / steps, 2)]));

  const transition = transitionPut({
    journeyId: id,
    version: 1,
    executionName: `${id}-v1-AAAAAAAAAAAAAAAAAAAAAA`,
    from: 'welcome',
    to: 'done',
    outcome: 'completed',
    arm: 'ab:waitA',
    at: Date.now(),
  });
  const itemBytes = (item: Record<string, unknown>) =>
    Object.entries(item).reduce((sum, [k, v]) => sum + k.length + String(v).length, 0);
  const counterItem = (counters: number) => 30 + counters * 32; // ~name 24 B + number
  const transitionBytes = itemBytes(transition.Item as Record<string, unknown>);
  const wcu = (bytes: number) => 2 * Math.ceil(bytes / 1024); // transactional: 2 per KB
  const analyticsWcuPerStep = wcu(transitionBytes) + wcu(counterItem(6));

  // 2. Report latency over the records of many executions, written by the runtime's own code.
  load.beforeReport = loadavg().map((l) => round(l, 1));
  const report = await reportOverExecutions(call);
  load.afterReport = loadavg().map((l) => round(l, 1));

  // 3. Dashboard bundle and time to interactive.
  const dir = await mkdtemp(join(tmpdir(), 'cairn-app-bench-'));
  await buildDashboard(dir);
  const js = readFileSync(join(dir, 'app.js'));
  const css = readFileSync(join(dir, 'app.css'));
  const html = readFileSync(join(dir, 'index.html'));
  const gzipped = gzipSync(js).length + gzipSync(css).length + gzipSync(html).length;
  const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
  const tti: number[] = [];
  if (chromiumPath) {
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox'],
    });
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext();
      await context.addInitScript("sessionStorage.setItem('cairn.token', 'dev-token')");
      const page = await context.newPage();
      await page.goto(`${base}/app/`);
      await page.waitForSelector('a[data-journey]');
      tti.push(await page.evaluate(() => performance.now()));
      await context.close();
    }
    await browser.close();
  }

  const results = {
    at: new Date().toISOString(),
    machine: { cores: availableParallelism(), loadAverage: load },
    requestsPerStep: {
      customers,
      stepRequests: step,
      perStep,
      note: 'step role, per step (welcome email + exit); the exit step adds the one Query of the trail',
    },
    itemBytes: { transitionRecord: transitionBytes, dayCounterItemPerStep: counterItem(6) },
    wcuPerStep: {
      analytics: analyticsWcuPerStep,
      costPerMillionSteps: round(analyticsWcuPerStep * 0.625, 2),
      note: 'on demand, $0.625 per million write request units; transactional items cost 2 per KB',
    },
    reportLatency: report,
    dashboard: {
      bytes: js.length + css.length + html.length,
      gzippedBytes: gzipped,
      timeToInteractiveMs: tti.length ? round(percentile(tti, 50), 0) : null,
    },
  };
  mkdirSync('bench/results', { recursive: true });
  // A seeded run (BENCH_REPORT_SEED=1) has a file of its own per size: analytics.json keeps the real-execution run.
  const file = report.mode === 'seeded' ? `analytics-seeded-${report.executions}.json` : 'analytics.json';
  writeFileSync(`bench/results/${file}`, `${JSON.stringify(results, null, 2)}\n`);
  printTable('analytics', [
    ['step requests per step (all)', JSON.stringify(perStep)],
    ['analytics WCU per step', analyticsWcuPerStep],
    ['$ per million steps (analytics)', results.wcuPerStep.costPerMillionSteps],
    ['executions in the report', report.executions],
    ['executions written (runtime code, one request at a time)', report.written.executions],
    ['  written per second', report.written.perSecond],
    ...(report.seeded
      ? ([
          ['executions seeded (runtime code, captured, bulk writes)', report.seeded.executions],
          ['  seeded per second', report.seeded.perSecond],
          [
            '  seeded items / counter items',
            `${report.seeded.itemsWritten} / ${report.seeded.counterItemUpdates}`,
          ],
          ['  drift mismatches (real vs captured)', report.drift?.mismatches.length ?? 'n/a'],
        ] as [string, string | number][])
      : []),
    ['report adds up', String(report.report.addsUp)],
    ['  requests per execution', report.written.requestsPerExecution],
    ['  DynamoDB requests per execution', report.written.dynamoDbRequestsPerExecution],
    ['report counter items', report.counterItems],
    ...(report.allDaysOnTheWayUp ?? []).map((at): [string, string] => [
      `  report p50 / p95 ms at ${at.executions} (load ${at.load1m})`,
      `${at.p50} / ${at.p95}`,
    ]),
    [`report p50 / p95 ms (${report.days} days)`, `${report.allDaysMs.p50} / ${report.allDaysMs.p95}`],
    ['report p50 / p95 ms (7 days)', `${report.oneWeekMs.p50} / ${report.oneWeekMs.p95}`],
    ['report bytes (all days / 7 days)', `${report.allDaysMs.bytes} / ${report.oneWeekMs.bytes}`],
    [
      'counter Query pages per report (all / 7 days)',
      `${report.allDaysMs.counterQueryPagesPerReport} / ${report.oneWeekMs.counterQueryPagesPerReport}`,
    ],
    ['dashboard gzipped bytes', gzipped],
    ['dashboard TTI p50 ms', results.dashboard.timeToInteractiveMs ?? 'no chromium'],
  ]);
  if (report.failed.length > 0) process.exitCode = 1;
} finally {
  await stack.stop();
}
