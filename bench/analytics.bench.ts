/**
 * Analytics benchmark (`npm run bench:analytics`, ~1 min): writes bench/results/analytics.json.
 *
 *  1. requestsPerStep: AWS requests of the step and reactor roles for a `welcome (email) → split →
 *     wait → exit` journey, per customer, with the analytics records on (they ride in the step's
 *     TransactWriteItems; the only extra request is one Query when an execution ends).
 *     itemBytes / wcuPerStep: sizes of the analytics items, and the write units they add per step.
 *  2. reportLatency: GET /journeys/{id}/report over BENCH_REPORT_EXECUTIONS (100,000) executions,
 *     whose day counter items are written directly (365 days × 8 items, what 100,000 executions
 *     leave behind), p50/p95 over 20 calls; and over 1,000,000 (the items do not grow with executions).
 *  3. dashboard: bundle bytes (raw, gzipped) and time to interactive in Debian's chromium (navigation
 *     start → journeys list rendered, p50 of 5 cold loads).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { chromium } from 'playwright-core';
import { buildDashboard } from '../functions/api/app/build.js';
import { runtimeCalls } from '../functions/runtime/runtime.js';
import { startLocalStack } from '../infra/local/stack.js';
import { dayCounterUpdate, transitionPut } from '../shared/analytics/store.js';
import { createDocumentClient } from '../shared/store/dynamodb.js';
import { percentile, printTable, round } from './support/stats.js';

const reportExecutions = Number(process.env.BENCH_REPORT_EXECUTIONS ?? 100_000);
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

  // 2. Report latency over day counters of many executions.
  const client = createDocumentClient();
  const reportId = 'bench-report';
  await call('PUT', `/journeys/${reportId}`, {
    id: reportId,
    name: reportId,
    trigger: { event: 'x' },
    goal: { event: 'y', within: 'P7D' },
    start: 'ab',
    nodes: {
      ab: {
        type: 'split',
        branches: [
          { weight: 50, next: 'mailA', name: 'A' },
          { weight: 50, next: 'mailB', name: 'B' },
        ],
      },
      mailA: { type: 'email', template: 'bench-hello', next: 'done' },
      mailB: { type: 'email', template: 'bench-hello', next: 'done' },
      done: { type: 'exit' },
    },
  });
  const perDay = Math.ceil(reportExecutions / 365);
  const start = Date.parse('2026-01-01T00:00:00Z');
  const puts: { PutRequest: { Item: Record<string, unknown> } }[] = [];
  for (let d = 0; d < 365; d++) {
    const day = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
    for (let shard = 0; shard < 4; shard++) {
      const q = Math.round(perDay / 4);
      const c = dayCounterUpdate(
        reportId,
        day,
        'c',
        {
          'journey|started': q,
          'journey|conversions': Math.round(q * 0.2),
          'node|ab|entered': q,
          'node|ab|completed': q,
          'node|ab|branch:0': Math.round(q / 2),
          'node|ab|branch:1': q - Math.round(q / 2),
          'node|mailA|entered': Math.round(q / 2),
          'node|mailA|sent': Math.round(q / 2),
          'node|mailA|delivered': Math.round(q / 2),
          'node|mailA|opened': Math.round(q / 5),
          'node|mailB|sent': q - Math.round(q / 2),
          'node|done|entered': q,
        },
        shard,
      )!;
      const p = dayCounterUpdate(
        reportId,
        day,
        'p',
        {
          'path|ab>mailA>done|count': Math.round(q / 2),
          'path|ab>mailB>done|count': q - Math.round(q / 2),
          'edge|ab|mailA': Math.round(q / 2),
          'edge|ab|mailB': q - Math.round(q / 2),
          'edge|mailA|done': Math.round(q / 2),
          'arm|ab|mailA|conversions': Math.round(q * 0.12),
          'arm|ab|mailB|conversions': Math.round(q * 0.08),
          'tn|mailA|0': Math.round(q / 2),
          'tms|mailA|0': Math.round(q / 2) * 400,
        },
        shard,
      )!;
      for (const update of [c, p]) {
        const item: Record<string, unknown> = { ...update.Key };
        for (const [alias, name] of Object.entries(update.ExpressionAttributeNames)) {
          item[name] = update.ExpressionAttributeValues[alias.replace('#', ':')];
        }
        puts.push({ PutRequest: { Item: item } });
      }
    }
  }
  for (let i = 0; i < puts.length; i += 25) {
    await client.send(
      new BatchWriteCommand({
        RequestItems: { [process.env.CAIRN_JOURNEYS_TABLE ?? 'cairn-journeys']: puts.slice(i, i + 25) },
      }),
    );
  }
  const latencies: number[] = [];
  let entered = 0;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const report = await call('GET', `/journeys/${reportId}/report`);
    latencies.push(performance.now() - t0);
    entered = report.entered;
  }
  const weekLatencies: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await call('GET', `/journeys/${reportId}/report?from=2026-03-01&to=2026-03-07`);
    weekLatencies.push(performance.now() - t0);
  }

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
    reportLatency: {
      executions: entered,
      itemsRead: puts.length,
      allTimeMs: { p50: round(percentile(latencies, 50), 1), p95: round(percentile(latencies, 95), 1) },
      oneWeekMs: {
        p50: round(percentile(weekLatencies, 50), 1),
        p95: round(percentile(weekLatencies, 95), 1),
      },
    },
    dashboard: {
      bytes: js.length + css.length + html.length,
      gzippedBytes: gzipped,
      timeToInteractiveMs: tti.length ? round(percentile(tti, 50), 0) : null,
    },
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/analytics.json', `${JSON.stringify(results, null, 2)}\n`);
  printTable('analytics', [
    ['step requests per step (all)', JSON.stringify(perStep)],
    ['analytics WCU per step', analyticsWcuPerStep],
    ['$ per million steps (analytics)', results.wcuPerStep.costPerMillionSteps],
    ['report over executions', entered],
    ['report p50 ms (365 days)', results.reportLatency.allTimeMs.p50],
    ['report p50 ms (7 days)', results.reportLatency.oneWeekMs.p50],
    ['dashboard gzipped bytes', gzipped],
    ['dashboard TTI p50 ms', results.dashboard.timeToInteractiveMs ?? 'no chromium'],
  ]);
} finally {
  await stack.stop();
}
