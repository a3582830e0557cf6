import { randomUUID } from 'node:crypto';
import { json, notTruncated } from './api.js';
import type { VirtualClock } from './clock.js';
import type { TaskInfo } from './definition.js';
import { resolveHashes } from './intrinsics.js';
import type { ParkedState } from './journal.js';
import type { Execution, Run } from './model.js';
import { newToken, withToken } from './task-tokens.js';

/** Invokes a Lambda function by name or ARN with a payload and returns its result (or throws its error). */
export type FunctionInvoker = (nameOrArn: string, payload: unknown) => Promise<unknown>;

/** Thrown from a task handler to leave the interpreter: the execution waits as data, not as a promise. */
export class ParkSignal extends Error {
  constructor(readonly parked: ParkedState) {
    super('parked');
    this.name = 'Cairn.Park';
  }
  get isRetryable(): boolean {
    return false;
  }
  get isCatchable(): boolean {
    return false;
  }
}

/** An error a Task reports: `name` is the ASL Error (matched by Retry/Catch), `message` the Cause. */
export class TaskError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

export interface TasksOptions {
  clock: VirtualClock;
  invoke: FunctionInvoker;
  region: string;
  record(exec: Execution, type: string, details?: Record<string, unknown>): void;
}

interface WaitInput {
  input: unknown;
  seconds?: number;
  timestamp?: string;
}

/**
 * The task states the interpreter hands over: Waits (compiled into tasks), Lambda functions,
 * `lambda:invoke` and `lambda:invoke.waitForTaskToken`, with AWS's history events for each.
 */
export class Tasks {
  private readonly clock: VirtualClock;
  private readonly invoke: FunctionInvoker;
  private readonly region: string;
  private readonly record: TasksOptions['record'];

  constructor(options: TasksOptions) {
    this.clock = options.clock;
    this.invoke = options.invoke;
    this.region = options.region;
    this.record = options.record;
  }

  async run(run: Run, name: string, input: unknown): Promise<unknown> {
    // Let the event consumer catch up, so this state's Entered event is recorded before ours.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const info = run.exec.revision.compiled.tasks.get(name)!;
    if (info.hashes) input = resolveHashes(input);
    switch (info.kind) {
      case 'pass':
        return input;
      case 'wait':
        return this.wait(run, name, info, input as WaitInput);
      case 'token':
        return this.waitForToken(run, name, info, input);
      case 'invoke':
      case 'lambda':
        return this.invokeTask(run, info, input);
      default:
        throw new TaskError(
          'States.TaskFailed',
          `The local Step Functions cannot run the resource ${info.resource}`,
        );
    }
  }

  private async wait(run: Run, name: string, info: TaskInfo, input: WaitInput): Promise<unknown> {
    if (run.resume && run.resumeState === name) {
      run.resume = undefined;
      return input.input;
    }
    const now = this.clock.now();
    let wakeAt: number;
    if (input.seconds !== undefined) wakeAt = now + Number(input.seconds) * 1000;
    else {
      wakeAt = Date.parse(String(input.timestamp));
      if (!Number.isFinite(wakeAt))
        throw new TaskError(
          'States.Runtime',
          `Invalid timestamp '${String(input.timestamp)}' in Wait state ${name}`,
        );
    }
    if (wakeAt <= now) return input.input;
    if (!info.topLevel) {
      await this.clock.sleepUntil(wakeAt);
      return input.input;
    }
    throw new ParkSignal({ kind: 'wait', state: name, input: rawInput(run, name), wakeAt });
  }

  private async waitForToken(run: Run, name: string, info: TaskInfo, input: unknown): Promise<unknown> {
    const exec = run.exec;
    const resource = 'invoke.waitForTaskToken';
    if (run.resume && run.resumeState === name) {
      const outcome = run.resume;
      run.resume = undefined;
      if (outcome.type === 'success') {
        this.recordIfOpen(run, 'TaskSucceeded', {
          resourceType: 'lambda',
          resource,
          output: outcome.output,
          outputDetails: notTruncated,
        });
        return JSON.parse(outcome.output);
      }
      if (outcome.type === 'failure') {
        this.recordIfOpen(run, 'TaskFailed', {
          resourceType: 'lambda',
          resource,
          error: outcome.error,
          cause: outcome.cause,
        });
        throw new TaskError(outcome.error ?? '', outcome.cause ?? '');
      }
      if (outcome.type === 'timeout') {
        this.recordIfOpen(run, 'TaskTimedOut', { resourceType: 'lambda', resource, error: outcome.error });
        throw new TaskError(outcome.error, '');
      }
    }
    if (!info.topLevel)
      throw new TaskError(
        'States.Runtime',
        `The local Step Functions runs .waitForTaskToken only outside Map and Parallel (${name})`,
      );
    let parameters = input as Record<string, unknown>;
    let timeoutSeconds = info.timeoutSeconds;
    let heartbeatSeconds = info.heartbeatSeconds;
    if (info.wrapped) {
      const wrapper = input as { payload: Record<string, unknown>; timeout?: number; heartbeat?: number };
      parameters = wrapper.payload;
      if (wrapper.timeout !== undefined) timeoutSeconds = Number(wrapper.timeout);
      if (wrapper.heartbeat !== undefined) heartbeatSeconds = Number(wrapper.heartbeat);
    }
    const token = newToken(exec);
    parameters = withToken(parameters, token) as Record<string, unknown>;
    const startedAt = this.clock.now();
    exec.token = token;
    exec.early = undefined;
    this.recordIfOpen(run, 'TaskScheduled', {
      resourceType: 'lambda',
      resource,
      region: this.region,
      parameters: json(parameters),
      timeoutInSeconds: timeoutSeconds,
      heartbeatInSeconds: heartbeatSeconds,
    });
    this.recordIfOpen(run, 'TaskStarted', { resourceType: 'lambda', resource });
    let response: unknown;
    try {
      response = await this.callLambda(
        String(parameters.FunctionName ?? ''),
        parameters.Payload,
        parameters.InvocationType,
      );
    } catch (error) {
      if (exec.token === token) exec.token = undefined;
      exec.early = undefined;
      throw this.taskFailed(run, resource, error);
    }
    this.recordIfOpen(run, 'TaskSubmitted', {
      resourceType: 'lambda',
      resource,
      output: json(response),
      outputDetails: notTruncated,
    });
    throw new ParkSignal({
      kind: 'token',
      state: name,
      input: rawInput(run, name),
      token,
      timeoutAt: timeoutSeconds === undefined ? undefined : startedAt + timeoutSeconds * 1000,
      heartbeatSeconds,
      heartbeatAt: heartbeatSeconds === undefined ? undefined : startedAt + heartbeatSeconds * 1000,
    });
  }

  private async invokeTask(run: Run, info: TaskInfo, input: unknown): Promise<unknown> {
    if (info.kind === 'lambda') {
      this.recordIfOpen(run, 'LambdaFunctionScheduled', {
        resource: info.resource,
        input: json(input),
        inputDetails: notTruncated,
      });
      this.recordIfOpen(run, 'LambdaFunctionStarted');
      try {
        const result = await this.invoke(info.resource, input);
        this.recordIfOpen(run, 'LambdaFunctionSucceeded', {
          output: json(result ?? null),
          outputDetails: notTruncated,
        });
        return result ?? null;
      } catch (error) {
        const failure = lambdaError(error);
        this.recordIfOpen(run, 'LambdaFunctionFailed', { error: failure.name, cause: failure.message });
        throw failure;
      }
    }
    const resource = 'invoke';
    const parameters = (input ?? {}) as Record<string, unknown>;
    this.recordIfOpen(run, 'TaskScheduled', {
      resourceType: 'lambda',
      resource,
      region: this.region,
      parameters: json(parameters),
    });
    this.recordIfOpen(run, 'TaskStarted', { resourceType: 'lambda', resource });
    try {
      const response = await this.callLambda(
        String(parameters.FunctionName ?? ''),
        parameters.Payload,
        parameters.InvocationType,
      );
      this.recordIfOpen(run, 'TaskSucceeded', {
        resourceType: 'lambda',
        resource,
        output: json(response),
        outputDetails: notTruncated,
      });
      return response;
    } catch (error) {
      throw this.taskFailed(run, resource, error);
    }
  }

  /** The `lambda:invoke` integration's result: the function's return value under `Payload`. */
  private async callLambda(
    functionName: string,
    payload: unknown,
    invocationType: unknown,
  ): Promise<unknown> {
    if (!functionName) throw new TaskError('States.Runtime', 'lambda:invoke needs Parameters.FunctionName');
    const metadata = {
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: randomUUID() },
    };
    if (invocationType === 'Event') {
      void this.clock.track(this.invoke(functionName, payload ?? {}).catch(() => undefined));
      return { ...metadata, Payload: '', StatusCode: 202 };
    }
    const result = await this.invoke(functionName, payload ?? {});
    return { ExecutedVersion: '$LATEST', Payload: result ?? null, ...metadata, StatusCode: 200 };
  }

  private taskFailed(run: Run, resource: string, error: unknown): Error {
    const failure = lambdaError(error);
    this.recordIfOpen(run, 'TaskFailed', {
      resourceType: 'lambda',
      resource,
      error: failure.name,
      cause: failure.message,
    });
    return failure;
  }

  private recordIfOpen(run: Run, type: string, details?: Record<string, unknown>): void {
    if (!run.closed && run.exec.status === 'RUNNING') this.record(run.exec, type, details);
  }
}

function rawInput(run: Run, name: string): string {
  if (run.current?.name !== name) throw new TaskError('States.Runtime', `Lost track of the input of ${name}`);
  return run.current.input;
}

/** A Lambda failure as Step Functions reports it: Error = the error's name, Cause = the AWS JSON. */
function lambdaError(error: unknown): Error {
  if (error instanceof TaskError) return error;
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: string }).code;
  if (e.name === 'FunctionNotFoundError' || code === 'ResourceNotFoundException') {
    return new TaskError('Lambda.ResourceNotFoundException', e.message);
  }
  if (e.name === 'FunctionTimeoutError')
    return new TaskError('Sandbox.Timedout', JSON.stringify({ errorMessage: e.message }));
  const errorType = e.name && e.name !== 'Error' ? e.name : 'Error';
  const cause = JSON.stringify({
    errorType,
    errorMessage: e.message,
    trace: (e.stack ?? '').split('\n').slice(0, 10),
  });
  return new TaskError(errorType, cause);
}
