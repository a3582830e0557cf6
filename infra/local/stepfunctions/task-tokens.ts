import { randomBytes } from 'node:crypto';
import { AwsServiceError } from '../edge.js';
import { type ApiInput, optionalString, requirePayload } from './api.js';
import type { VirtualClock } from './clock.js';
import { tokenPlaceholder } from './definition.js';
import type { Interpreter } from './interpreter.js';
import type { ExecutionJournal } from './journal.js';
import { type Execution, type Outcome, persistable } from './model.js';

export interface TaskTokensOptions {
  clock: VirtualClock;
  interpreter: Interpreter;
  execution(arn: string): Execution | undefined;
  journal?: ExecutionJournal;
}

/** `SendTaskSuccess`, `SendTaskFailure`, `SendTaskHeartbeat`: answers to `.waitForTaskToken` tasks. */
export class TaskTokens {
  private readonly clock: VirtualClock;
  private readonly interpreter: Interpreter;
  private readonly execution: (arn: string) => Execution | undefined;
  private readonly journal: ExecutionJournal | undefined;

  constructor(options: TaskTokensOptions) {
    this.clock = options.clock;
    this.interpreter = options.interpreter;
    this.execution = options.execution;
    this.journal = options.journal;
  }

  sendSuccess(input: ApiInput): unknown {
    const output = input.output === undefined ? undefined : String(input.output);
    if (output === undefined) throw new AwsServiceError('ValidationException', 'output is required');
    this.settle(input.taskToken, {
      type: 'success',
      output: requirePayload(output, 'InvalidOutput', 'Output'),
    });
    return {};
  }

  sendFailure(input: ApiInput): unknown {
    this.settle(input.taskToken, {
      type: 'failure',
      error: optionalString(input.error),
      cause: optionalString(input.cause),
    });
    return {};
  }

  sendHeartbeat(input: ApiInput): unknown {
    const exec = this.owner(input.taskToken);
    const parked = exec.parked;
    if (parked?.token === exec.token && parked?.heartbeatSeconds !== undefined) {
      parked.heartbeatAt = this.clock.now() + parked.heartbeatSeconds * 1000;
      this.interpreter.armTokenDeadline(exec);
      this.journal?.append({ k: 'park', arn: exec.arn, p: persistable(parked) });
    }
    return {};
  }

  private settle(token: unknown, outcome: Outcome): void {
    const exec = this.owner(token);
    exec.token = undefined;
    const parked = exec.parked;
    if (parked?.kind === 'token') this.interpreter.resume(exec, outcome);
    else exec.early = outcome;
  }

  /** The execution waiting on a token, with AWS's errors for malformed, unknown and closed tokens. */
  private owner(token: unknown): Execution {
    if (typeof token !== 'string' || token.length === 0 || token.length > 2048) {
      throw new AwsServiceError('InvalidToken', 'Invalid Token');
    }
    const arn = decodeToken(token);
    if (!arn) throw new AwsServiceError('InvalidToken', `Invalid Token: '${token.slice(0, 64)}'`);
    const exec = this.execution(arn);
    if (!exec) throw new AwsServiceError('TaskDoesNotExist', 'Task Does Not Exist');
    if (exec.status !== 'RUNNING' || exec.token !== token) {
      throw new AwsServiceError(
        'TaskTimedOut',
        'Task Timed Out: the task is closed (it timed out, was answered, or its execution ended)',
      );
    }
    return exec;
  }
}

/** A token names its execution (so an answer finds it) and is unguessable. */
export function newToken(exec: Execution): string {
  exec.tokens++;
  return Buffer.from(JSON.stringify([exec.arn, exec.tokens, randomBytes(9).toString('base64url')])).toString(
    'base64url',
  );
}

/** Replaces the `$$.Task.Token` placeholder wherever the Parameters put it. */
export function withToken(value: unknown, token: string): unknown {
  if (typeof value === 'string')
    return value.includes(tokenPlaceholder) ? value.replaceAll(tokenPlaceholder, token) : value;
  if (Array.isArray(value)) return value.map((item) => withToken(item, token));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = withToken(item, token);
    return out;
  }
  return value;
}

function decodeToken(token: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && parsed[0].startsWith('arn:'))
      return parsed[0];
  } catch {
    // not one of ours
  }
  return undefined;
}
