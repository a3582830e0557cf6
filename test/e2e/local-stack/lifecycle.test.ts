import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { freePort } from '../../../infra/local/ports.js';
import { startLocalStack } from '../../../infra/local/stack.js';
import { awsClientConfig, readOutbox } from '../../support/local.js';

const quiet = { CAIRN_LOG_LEVEL: 'warn' };

describe('local stack lifecycle', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-data-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps tables, items and the outbox on disk across a restart', async () => {
    Object.assign(process.env, quiet);
    // The same ports both times: handler modules stay loaded in this process with their clients.
    const ports = { httpPort: await freePort(), edgePort: await freePort() };
    const first = await startLocalStack({ dataDir, ...ports });
    const ddb = new DynamoDBClient(awsClientConfig(first.edgeUrl));
    const ses = new SESv2Client(awsClientConfig(first.edgeUrl));
    try {
      await ddb.send(
        new PutItemCommand({
          TableName: 'cairn-profiles',
          Item: { pk: { S: 'P#kept' }, sk: { S: 'PROFILE' } },
        }),
      );
      await ses.send(
        new SendEmailCommand({
          FromEmailAddress: 'no-reply@example.com',
          Destination: { ToAddresses: ['kept@example.com'] },
          Content: { Simple: { Subject: { Data: 'kept' }, Body: { Text: { Data: 'still here' } } } },
          EmailTags: [{ Name: 'journeyId', Value: 'lifecycle' }],
        }),
      );
    } finally {
      await first.stop();
    }
    assert.ok(existsSync(join(dataDir, 'outbox.json')));
    assert.ok(existsSync(join(dataDir, 'ddb')));

    const second = await startLocalStack({ dataDir, ...ports });
    try {
      const { Item } = await ddb.send(
        new GetItemCommand({
          TableName: 'cairn-profiles',
          Key: { pk: { S: 'P#kept' }, sk: { S: 'PROFILE' } },
        }),
      );
      assert.deepEqual(Item, { pk: { S: 'P#kept' }, sk: { S: 'PROFILE' } });
      const messages = await readOutbox(second.httpUrl, { journeyId: 'lifecycle' });
      assert.deepEqual(
        messages.map((m) => m.text),
        ['still here'],
      );
    } finally {
      ddb.destroy();
      ses.destroy();
      await second.stop();
    }
  });

  it('npm start: one stack per data folder, SIGTERM to npm stops every process, SIGKILL leaves no Java serving', {
    skip: !existsSync('/proc'),
    timeout: 300_000,
  }, async () => {
    const folder = join(dataDir, 'npm-start');
    const first = await npmStart(folder);
    try {
      assert.match(first.output(), /curl -u dev-write-key:/);
      assert.match(first.output(), new RegExp(`http://localhost:${first.httpPort}/v1/track`));
      const { pid: nodePid } = JSON.parse(readFileSync(join(folder, 'cairn.lock'), 'utf8')) as {
        pid: number;
      };

      // A second start on the same folder refuses, naming the folder and the running process.
      const second = await npmStart(folder, { expectExit: true });
      assert.equal(second.code, 1, second.output());
      assert.match(
        second.output(),
        new RegExp(`data folder ${folder} is in use by another Cairn \\(process ${nodePid}\\b`),
      );

      // SIGKILL of the node process: no handler runs, yet DynamoDB Local must not keep serving.
      const java = descendants(first.pid).filter((pid) => commandLine(pid).includes('DynamoDBLocal'));
      assert.equal(java.length, 1, 'DynamoDB Local runs under npm start');
      process.kill(nodePid, 'SIGKILL');
      await until(() => !alive(java[0]!), 10_000, 'DynamoDB Local outlived the node process it served');
      await until(() => !alive(first.pid), 10_000, 'npm outlived the node process it started');
    } finally {
      first.kill();
    }

    // The lock the killed process left is stale: the next start takes it over.
    const third = await npmStart(folder);
    const tree = descendants(third.pid);
    assert.ok(tree.length >= 3, `npm start runs a shell, tsx, node and java: ${tree.join(' ')}`);
    process.kill(third.pid, 'SIGTERM'); // what a process manager does: only npm is signalled
    await third.exited;
    await until(
      () => [third.pid, ...tree].every((pid) => !alive(pid)),
      30_000,
      () => `still running after SIGTERM to npm: ${tree.filter(alive).map(commandLine).join(' | ')}`,
    );
    assert.equal(existsSync(join(folder, 'cairn.lock')), false, 'the lock is released on a clean stop');
  });
});

interface NpmStart {
  pid: number;
  httpPort: number;
  output(): string;
  exited: Promise<number | null>;
  code?: number | null;
  kill(): void;
}

/** `npm start -- --data-dir <folder>` on free ports; resolves once healthy (or once exited, when expected). */
async function npmStart(folder: string, { expectExit = false } = {}): Promise<NpmStart> {
  const [httpPort, edgePort] = [await freePort(), await freePort()];
  const child = spawn('npm', ['start', '--', '--data-dir', folder], {
    env: { ...process.env, ...quiet, CAIRN_HTTP_PORT: String(httpPort), CAIRN_EDGE_PORT: String(edgePort) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started: NpmStart = {
    pid: child.pid!,
    httpPort,
    output: () => output,
    exited,
    // Cleanup if an assertion failed midway: the whole group (npm, sh, tsx, node, java).
    kill: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
  if (expectExit) {
    started.code = await Promise.race([exited, sleep(120_000).then(() => 'timeout' as const)]).then(
      (code) => {
        if (code === 'timeout') started.kill();
        return code === 'timeout' ? null : code;
      },
    );
    return started;
  }
  const deadline = Date.now() + 150_000;
  const statuses = new Set<string>();
  // The journeys listed the first time /health said ok: a script that polls it must find the examples.
  let journeysWhenHealthy: string[] | undefined;
  while (!output.includes('Ctrl-C stops') && Date.now() < deadline && child.exitCode === null) {
    const health = await fetch(`http://127.0.0.1:${httpPort}/health`).then(
      async (r) => `${r.status} ${await r.text()}`,
      () => 'no answer',
    );
    statuses.add(health);
    if (health.startsWith('200') && journeysWhenHealthy === undefined) {
      const listed = await fetch(`http://127.0.0.1:${httpPort}/journeys`, {
        headers: { authorization: `Bearer ${process.env.CAIRN_API_TOKEN ?? 'dev-token'}` },
      }).then((r) => r.json() as Promise<{ journeys?: { id: string }[] }>);
      journeysWhenHealthy = (listed.journeys ?? []).map((journey) => journey.id).sort();
    }
    const edgeHealth = await fetch(`http://127.0.0.1:${edgePort}/health`).then(
      async (r) => `${r.status} ${await r.text()}`,
      () => 'no answer',
    );
    statuses.add(edgeHealth);
    await sleep(100);
  }
  if (!output.includes('Ctrl-C stops')) {
    started.kill();
    assert.fail(`npm start never became ready:\n${output}`);
  }
  // Before ready, /health (HTTP API and edge) says so with a 503; after, 200.
  for (const status of statuses)
    assert.ok(/^(no answer|503 \{"status":"starting"\}|200 \{"status":"ok"\})$/.test(status), status);
  if (journeysWhenHealthy !== undefined)
    assert.deepEqual(
      journeysWhenHealthy,
      ['cart-recovery', 'webinar', 'welcome'],
      '/health ok: examples published',
    );
  const ready = await fetch(`http://127.0.0.1:${httpPort}/health`);
  assert.deepEqual([ready.status, await ready.json()], [200, { status: 'ok' }]);
  return started;
}

function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !isZombie(String(pid));
}

async function until(
  check: () => boolean,
  timeoutMs: number,
  message: string | (() => string),
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(typeof message === 'string' ? message : message());
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isZombie(pid: string): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}
