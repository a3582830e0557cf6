import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { SFNClient } from '@aws-sdk/client-sfn';
import { startEdgeServer } from '../../../infra/local/edge.js';
import {
  createVirtualClock,
  type FunctionInvoker,
  LocalStepFunctions,
  type VirtualClock,
} from '../../../infra/local/stepfunctions/index.js';
import { memoryLogger } from '../../../shared/log.js';

export const roleArn = 'arn:aws:iam::000000000000:role/cairn-journeys';
export const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** Fake Lambda functions by name; each records its calls. */
export class FakeFunctions {
  readonly calls: { name: string; payload: unknown }[] = [];
  private readonly handlers = new Map<string, (payload: unknown) => unknown>();

  set(name: string, handler: (payload: unknown) => unknown): void {
    this.handlers.set(name, handler);
  }

  readonly invoke: FunctionInvoker = async (nameOrArn, payload) => {
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? nameOrArn) : nameOrArn;
    this.calls.push({ name, payload });
    const handler = this.handlers.get(name);
    if (!handler)
      throw Object.assign(new Error(`Function not found: ${name}`), { name: 'FunctionNotFoundError' });
    return handler(payload);
  };

  callsOf(name: string): unknown[] {
    return this.calls.filter((call) => call.name === name).map((call) => call.payload);
  }
}

export interface Harness {
  sfn: SFNClient;
  clock: VirtualClock;
  service: LocalStepFunctions;
  functions: FakeFunctions;
  dataDir?: string;
  stop(): Promise<void>;
}

/** The service behind the real edge server, reached by the real SDK client; time frozen unless advanced. */
export async function startHarness(
  options: { dataDir?: string; functions?: FakeFunctions; start?: number } = {},
): Promise<Harness> {
  const clock = createVirtualClock({
    timeScale: 0,
    start: options.start ?? Date.parse('2026-03-01T08:00:00Z'),
  });
  const functions = options.functions ?? new FakeFunctions();
  const service = new LocalStepFunctions({
    clock,
    invoke: functions.invoke,
    dataDir: options.dataDir,
    log: memoryLogger(),
  });
  const edge = await startEdgeServer({ port: 0, services: [service], log: memoryLogger() });
  const sfn = new SFNClient({
    endpoint: edge.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    sfn,
    clock,
    service,
    functions,
    dataDir: options.dataDir,
    async stop() {
      sfn.destroy();
      await service.stop();
      clock.stop();
      await edge.close();
    },
  };
}

/**
 * One harness for the whole test file: started before its first test (with these fake functions
 * registered) and stopped after its last. Its fields are there once `before` has run.
 */
export function useHarness(functions: Record<string, (payload: unknown) => unknown> = {}): Harness {
  const h = {} as Harness;
  before(async () => {
    Object.assign(h, await startHarness());
    for (const [name, handler] of Object.entries(functions)) h.functions.set(name, handler);
  });
  after(() => h.stop());
  return h;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cairn-sfn-'));
}

export const minutes = (n: number) => n * 60_000;
export const hours = (n: number) => n * 3_600_000;
export const days = (n: number) => n * 86_400_000;

/** Creates a state machine from a definition object; returns its ARN (and the version ARN when published). */
export async function createMachine(
  h: Harness,
  name: string,
  definition: object,
  publish = false,
): Promise<{ arn: string; versionArn?: string }> {
  const { CreateStateMachineCommand } = await import('@aws-sdk/client-sfn');
  const out = await h.sfn.send(
    new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn, publish }),
  );
  return { arn: out.stateMachineArn!, versionArn: out.stateMachineVersionArn };
}

export async function start(
  h: Harness,
  stateMachineArn: string,
  input: unknown = {},
  name?: string,
): Promise<string> {
  const { StartExecutionCommand } = await import('@aws-sdk/client-sfn');
  const out = await h.sfn.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), name }),
  );
  await h.clock.settled();
  return out.executionArn!;
}

export async function describe(h: Harness, executionArn: string) {
  const { DescribeExecutionCommand } = await import('@aws-sdk/client-sfn');
  return h.sfn.send(new DescribeExecutionCommand({ executionArn }));
}

export async function history(h: Harness, executionArn: string) {
  const { GetExecutionHistoryCommand } = await import('@aws-sdk/client-sfn');
  const out = await h.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return out.events ?? [];
}

export async function eventTypes(h: Harness, executionArn: string): Promise<string[]> {
  return (await history(h, executionArn)).map((event) => event.type!);
}

let counter = 0;
export const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;
