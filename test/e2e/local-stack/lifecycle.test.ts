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

  it('npm start answers /health, and SIGTERM stops it with no process left behind', {
    skip: !existsSync('/proc'),
  }, async () => {
    const [httpPort, edgePort] = [await freePort(), await freePort()];
    const cli = spawn(process.execPath, ['--import', 'tsx', 'infra/local/cli.ts', '--memory'], {
      env: { ...process.env, ...quiet, CAIRN_HTTP_PORT: String(httpPort), CAIRN_EDGE_PORT: String(edgePort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 90_000;
    let healthy = false;
    // Healthy first (the examples are published through the API), then the banner.
    while (!(healthy && output.includes('Ctrl-C stops')) && Date.now() < deadline && cli.exitCode === null) {
      healthy = await fetch(`http://127.0.0.1:${httpPort}/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(healthy, `npm start never became healthy:\n${output}`);
    assert.match(output, /curl -u dev-write-key:/);
    assert.match(output, new RegExp(`http://localhost:${httpPort}/v1/track`));
    const children = readFileSync(`/proc/${cli.pid}/task/${cli.pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    assert.ok(children.length > 0, 'DynamoDB Local runs as a child process');

    cli.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    for (const pid of children)
      assert.equal(existsSync(`/proc/${pid}`) && !isZombie(pid), false, `process ${pid} outlived npm start`);
  });
});

function isZombie(pid: string): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}
