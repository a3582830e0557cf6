import { ExecutionAbortedError, ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { Logger } from '../../../shared/log.js';
import { compact, json, notTruncated } from './api.js';
import type { VirtualClock } from './clock.js';
import { tokenPlaceholder } from './definition.js';
import { type HistoryEntry, stateEventType } from './history.js';
import type { ExecutionJournal, ParkedState } from './journal.js';
import { type Execution, type ExecutionStatus, type Outcome, persistable, type Run } from './model.js';
import { type FunctionInvoker, ParkSignal, Tasks } from './tasks.js';

export interface InterpreterOptions {
  clock: VirtualClock;
  invoke: FunctionInvoker;
  region: string;
  log: Logger;
  journal?: ExecutionJournal;
  /** Called when an execution ends (its machine may be waiting for that to go). */
  closed(exec: Execution): void;
}

/**
 * Runs executions: drives the aws-local-stepfunctions interpreter from a state, records history,
 * takes an execution out when it waits (parks it) and starts it again when it wakes, and closes it.
 */
export class Interpreter {
  private readonly clock: VirtualClock;
  private readonly log: Logger;
  private readonly journal: ExecutionJournal | undefined;
  private readonly closed: (exec: Execution) => void;
  private readonly tasks: Tasks;

  constructor(options: InterpreterOptions) {
    this.clock = options.clock;
    this.log = options.log;
    this.journal = options.journal;
    this.closed = options.closed;
    this.tasks = new Tasks({
      clock: options.clock,
      invoke: options.invoke,
      region: options.region,
      record: (exec, type, details) => this.record(exec, type, details),
    });
  }

  /** Starts the interpreter at `stateName` (the start, or the state the execution waited in). */
  runFrom(exec: Execution, stateName: string, input: unknown, resume?: Outcome): void {
    const compiled = exec.revision.compiled;
    const definition =
      stateName === compiled.startAt ? compiled.definition : { ...compiled.definition, StartAt: stateName };
    const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
    const run: Run = {
      exec,
      abort: () => undefined,
      closed: false,
      resumeState: resume ? stateName : undefined,
      resume,
      skipEntered: !!resume,
    };
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const name of compiled.tasks.keys())
      handlers[name] = (taskInput) => this.tasks.run(run, name, taskInput);
    const started = new Date(exec.startedAt).toISOString();
    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        retryIntervalOverrides: exec.revision.retryOverrides,
      },
      context: {
        Execution: {
          Id: exec.arn,
          Name: exec.name,
          RoleArn: exec.revision.roleArn,
          CairnInput: JSON.parse(exec.input),
          CairnStartTime: started,
        },
        StateMachine: { Id: exec.versionArn ?? exec.machine.arn, Name: exec.machine.name },
        Task: { Token: tokenPlaceholder },
      },
    });
    run.abort = execution.abort;
    exec.run = run;
    const consumed = this.consumeEvents(run, execution.eventLogs);
    const settled = Promise.allSettled([execution.result, consumed])
      .then(([result]) => this.afterRun(run, result))
      .catch((error: unknown) => {
        this.log.error('execution bookkeeping failed', {
          execution: exec.name,
          error: (error as Error).message,
        });
      });
    this.clock.track(settled);
  }

  /** Keeps a waiting execution as data, with its wake-up (a Wait's time, or the token's timeouts). */
  park(exec: Execution, parked: ParkedState): void {
    exec.parked = parked;
    this.journal?.append({ k: 'park', arn: exec.arn, p: persistable(parked) });
    if (parked.kind === 'wait') {
      exec.parked.wake = this.clock.schedule(parked.wakeAt ?? this.clock.now(), () =>
        this.resume(exec, { type: 'wake' }),
      );
      return;
    }
    if (exec.early) {
      const outcome = exec.early;
      exec.early = undefined;
      this.resume(exec, outcome);
      return;
    }
    this.armTokenDeadline(exec);
  }

  armTokenDeadline(exec: Execution): void {
    const parked = exec.parked;
    if (!parked) return;
    parked.wake?.cancel();
    parked.wake = undefined;
    const at = Math.min(
      parked.timeoutAt ?? Number.POSITIVE_INFINITY,
      parked.heartbeatAt ?? Number.POSITIVE_INFINITY,
    );
    if (at === Number.POSITIVE_INFINITY) return;
    parked.wake = this.clock.schedule(at, () => {
      if (exec.parked !== parked) return;
      const error =
        parked.timeoutAt !== undefined && parked.timeoutAt <= at
          ? 'States.Timeout'
          : 'States.HeartbeatTimeout';
      exec.token = undefined;
      this.resume(exec, { type: 'timeout', error });
    });
  }

  resume(exec: Execution, outcome: Outcome): void {
    const parked = exec.parked;
    if (!parked || exec.status !== 'RUNNING') return;
    parked.wake?.cancel();
    exec.parked = undefined;
    this.runFrom(exec, parked.state, JSON.parse(parked.input), outcome);
  }

  /** The execution's own `TimeoutSeconds`, on the virtual clock. */
  armDeadline(exec: Execution): void {
    if (exec.deadlineAt === undefined) return;
    exec.deadline = this.clock.schedule(exec.deadlineAt, () => {
      if (exec.status === 'RUNNING')
        this.close(
          exec,
          'TIMED_OUT',
          'ExecutionTimedOut',
          { error: 'States.Timeout' },
          { error: 'States.Timeout' },
        );
    });
  }

  /** Ends an execution: status, final event, and no more wake-ups or interpreter work. */
  close(
    exec: Execution,
    status: ExecutionStatus,
    eventType: string,
    details: Record<string, unknown>,
    result: { output?: string; error?: string; cause?: string },
  ): void {
    if (exec.run) {
      exec.run.closed = true;
      exec.run.abort();
      exec.run = undefined;
    }
    exec.parked?.wake?.cancel();
    exec.parked = undefined;
    exec.deadline?.cancel();
    exec.deadline = undefined;
    exec.token = undefined;
    exec.early = undefined;
    this.record(exec, eventType, details);
    exec.status = status;
    exec.stoppedAt = this.clock.now();
    exec.output = result.output;
    exec.error = result.error;
    exec.cause = result.cause;
    this.journal?.append({ k: 'close', arn: exec.arn, status, at: exec.stoppedAt, ...result });
    this.closed(exec);
  }

  /** Stops everything in flight without closing executions (they continue after a restart). */
  halt(exec: Execution): void {
    exec.parked?.wake?.cancel();
    exec.deadline?.cancel();
    if (exec.run) {
      exec.run.closed = true;
      exec.run.abort();
    }
  }

  record(exec: Execution, type: string, details?: Record<string, unknown>): void {
    const entry: HistoryEntry = details
      ? { type, ts: this.clock.now(), details: compact(details) }
      : { type, ts: this.clock.now() };
    exec.events.push(entry);
    this.journal?.append({ k: 'event', arn: exec.arn, e: entry });
  }

  private async consumeEvents(run: Run, events: AsyncGenerator<LibraryEvent>): Promise<void> {
    const compiled = run.exec.revision.compiled;
    for await (const event of events) {
      if (run.closed) continue;
      if (event.type === 'StateEntered' && event.state) {
        const { name, input } = event.state;
        const text = intern(run.exec, json(input));
        if (compiled.topLevel.has(name)) run.current = { name, input: text };
        if (run.skipEntered && name === run.resumeState) {
          run.skipEntered = false;
          continue;
        }
        const type = compiled.types.get(name) ?? event.state.type;
        this.record(run.exec, stateEventType(type, 'Entered'), {
          name,
          input: text,
          inputDetails: notTruncated,
        });
      } else if (event.type === 'StateExited' && event.state) {
        const { name, output } = event.state;
        const type = compiled.types.get(name) ?? event.state.type;
        this.record(run.exec, stateEventType(type, 'Exited'), {
          name,
          output: intern(run.exec, json(output)),
          outputDetails: notTruncated,
        });
      } else if (
        event.type === 'MapIterationStarted' ||
        event.type === 'MapIterationSucceeded' ||
        event.type === 'MapIterationFailed'
      ) {
        this.record(run.exec, event.type, { name: event.parentState?.name, index: event.index });
      }
    }
  }

  private afterRun(run: Run, result: PromiseSettledResult<unknown>): void {
    const exec = run.exec;
    if (run.closed || exec.status !== 'RUNNING') return;
    run.closed = true;
    if (exec.run === run) exec.run = undefined;
    if (result.status === 'fulfilled') {
      const output = json(result.value);
      this.close(
        exec,
        'SUCCEEDED',
        'ExecutionSucceeded',
        { output, outputDetails: notTruncated },
        { output },
      );
      return;
    }
    const reason = result.reason as unknown;
    if (reason instanceof ExecutionAbortedError) return;
    const error = reason instanceof ExecutionError ? (reason.cause as Error) : (reason as Error);
    if (error instanceof ParkSignal) {
      this.park(exec, error.parked);
      return;
    }
    exec.token = undefined;
    exec.early = undefined;
    const name = error?.name === 'FailStateError' ? undefined : error?.name;
    const cause = error?.message === 'Execution failed because of a Fail state' ? undefined : error?.message;
    this.close(exec, 'FAILED', 'ExecutionFailed', { error: name, cause }, { error: name, cause });
  }
}

interface LibraryEvent {
  type: string;
  state?: { name: string; type: string; input: unknown; output?: unknown };
  parentState?: { name: string };
  index?: number;
}

/** Reuses the previous event's text when equal: a state's input is often the last one's output. */
function intern(exec: Execution, text: string): string {
  if (exec.lastText === text) return exec.lastText;
  if (exec.input === text) return exec.input;
  exec.lastText = text;
  return text;
}
