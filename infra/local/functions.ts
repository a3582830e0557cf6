/**
 * The local Lambda functions: names and ARNs resolve to the handler exported by
 * `functions/<name without "cairn-">/handler.ts`, imported lazily the first time it is invoked (like a
 * cold start) and run in this process with a Lambda-shaped context.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

export const localAccount = '000000000000';
export const localRegion = 'us-east-1';

export const localFunctionNames = [
  'cairn-ingest',
  'cairn-api',
  'cairn-step',
  'cairn-feedback',
  'cairn-segments',
  'cairn-broadcast',
] as const;
export type LocalFunctionName = (typeof localFunctionNames)[number];

// biome-ignore lint/suspicious/noExplicitAny: handlers are typed by their own event shapes.
export type LambdaHandler = (event: any, context: Context) => unknown;

export class FunctionNotFoundError extends Error {
  readonly code = 'ResourceNotFoundException';
  constructor(name: string, detail = '') {
    super(`Function not found: ${name}${detail ? ` (${detail})` : ''}`);
    this.name = 'FunctionNotFoundError';
  }
}

export function functionArn(name: string): string {
  return `arn:aws:lambda:${localRegion}:${localAccount}:function:${name}`;
}

/** `cairn-step`, `arn:aws:lambda:…:function:cairn-step` and `…:function:cairn-step:$LATEST` all name cairn-step. */
export function functionName(nameOrArn: string): string {
  if (!nameOrArn.startsWith('arn:')) return nameOrArn.split(':')[0] ?? nameOrArn;
  const parts = nameOrArn.split(':');
  return parts[6] ?? nameOrArn;
}

/** The handler file of a function, or undefined when the folder has none (yet). */
export function handlerFile(name: string): string | undefined {
  if (!name.startsWith('cairn-')) return undefined;
  const file = fileURLToPath(
    new URL(`../../functions/${name.slice('cairn-'.length)}/handler.ts`, import.meta.url),
  );
  return existsSync(file) ? file : undefined;
}

const overrides = new Map<string, LambdaHandler>();
const loaded = new Map<string, Promise<LambdaHandler>>();

/** Replaces a function by an in-process handler (tests, stub targets). Returns a function that undoes it. */
export function registerFunction(name: string, handler: LambdaHandler): () => void {
  overrides.set(name, handler);
  return () => {
    if (overrides.get(name) === handler) overrides.delete(name);
  };
}

/** The handler behind a function name or ARN; throws FunctionNotFoundError when there is none. */
export function resolveFunction(nameOrArn: string): Promise<LambdaHandler> {
  const name = functionName(nameOrArn);
  const override = overrides.get(name);
  if (override) return Promise.resolve(override);
  let handler = loaded.get(name);
  if (!handler) {
    handler = loadHandler(name);
    loaded.set(name, handler);
    handler.catch(() => loaded.delete(name));
  }
  return handler;
}

async function loadHandler(name: string): Promise<LambdaHandler> {
  const file = handlerFile(name);
  if (!file) throw new FunctionNotFoundError(name, `no functions/${name.replace(/^cairn-/, '')}/handler.ts`);
  const module = (await import(pathToFileURL(file).href)) as { handler?: unknown };
  if (typeof module.handler !== 'function')
    throw new FunctionNotFoundError(name, `${file} exports no handler`);
  return module.handler as LambdaHandler;
}

export interface InvokeOptions {
  /** Like the function's timeout on AWS: the invocation fails after this long. Default 60 s. */
  timeoutMs?: number;
}

/** Thrown when an invocation runs past its timeout, as Lambda reports `Task timed out`. */
export class FunctionTimeoutError extends Error {
  constructor(name: string, ms: number) {
    super(`${name}: Task timed out after ${(ms / 1000).toFixed(2)} seconds`);
    this.name = 'FunctionTimeoutError';
  }
}

/** Invokes a function synchronously (RequestResponse) with a Lambda context, as the AWS runtime does. */
export async function invokeFunction(
  nameOrArn: string,
  event: unknown,
  options: InvokeOptions = {},
): Promise<unknown> {
  const name = functionName(nameOrArn);
  const handler = await resolveFunction(name);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const context = lambdaContext(name, Date.now() + timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FunctionTimeoutError(name, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => handler(event, context)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function lambdaContext(name: string, deadline: number): Context {
  const requestId = randomUUID();
  const fail = () => {
    throw new Error('callback-style handlers are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(name),
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}
