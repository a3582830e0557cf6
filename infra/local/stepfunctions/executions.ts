import { randomUUID } from 'node:crypto';
import { AwsServiceError } from '../edge.js';
import {
  type ApiInput,
  notTruncated,
  optionalString,
  page,
  requireName,
  requirePayload,
  requireString,
  seconds,
} from './api.js';
import type { VirtualClock } from './clock.js';
import { toAwsEvent } from './history.js';
import type { Interpreter } from './interpreter.js';
import type { ExecutionJournal } from './journal.js';
import { type Execution, newExecution } from './model.js';
import type { StateMachines } from './state-machines.js';

const retentionMs = 90 * 86_400_000;

export interface ExecutionsOptions {
  clock: VirtualClock;
  region: string;
  account: string;
  stateMachines: StateMachines;
  interpreter: Interpreter;
  journal?: ExecutionJournal;
}

/** Executions by ARN, and the execution API calls: start, describe, stop, list, history. */
export class Executions {
  readonly byArn = new Map<string, Execution>();
  private readonly clock: VirtualClock;
  private readonly region: string;
  private readonly account: string;
  private readonly stateMachines: StateMachines;
  private readonly interpreter: Interpreter;
  private readonly journal: ExecutionJournal | undefined;
  private starts = 0;

  constructor(options: ExecutionsOptions) {
    this.clock = options.clock;
    this.region = options.region;
    this.account = options.account;
    this.stateMachines = options.stateMachines;
    this.interpreter = options.interpreter;
    this.journal = options.journal;
  }

  start(input: ApiInput): unknown {
    const target = this.stateMachines.resolve(input.stateMachineArn);
    const { machine, alias } = target;
    if (machine.status !== 'ACTIVE')
      throw new AwsServiceError('StateMachineDeleting', `State Machine is being deleted: '${machine.arn}'`);
    let version = target.version;
    if (alias) version = this.stateMachines.pickAliasVersion(machine, alias);
    const name = input.name === undefined ? randomUUID() : requireName(input.name, 'name');
    const text = requirePayload(
      input.input === undefined ? '{}' : String(input.input),
      'InvalidExecutionInput',
      'Input',
    );
    if (++this.starts % 1000 === 0) this.forgetOld();
    const existing = machine.executions.get(name);
    if (existing) {
      // AWS: same name and input while RUNNING → the same execution; otherwise an error.
      if (existing.status === 'RUNNING' && existing.input === text) {
        return { executionArn: existing.arn, startDate: seconds(existing.startedAt) };
      }
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
    }
    const exec = newExecution({
      arn: `arn:aws:states:${this.region}:${this.account}:execution:${machine.name}:${name}`,
      name,
      machine,
      revision: version?.revision ?? machine.latest,
      versionArn: version?.arn,
      aliasArn: alias?.arn,
      input: text,
      status: 'RUNNING',
      startedAt: this.clock.now(),
      events: [],
    });
    const timeout = exec.revision.compiled.timeoutSeconds;
    if (timeout !== undefined) exec.deadlineAt = exec.startedAt + timeout * 1000;
    this.add(exec);
    this.journal?.append({
      k: 'start',
      arn: exec.arn,
      name,
      machine: machine.name,
      revision: exec.revision.id,
      versionArn: exec.versionArn,
      aliasArn: exec.aliasArn,
      input: text,
      at: exec.startedAt,
      deadlineAt: exec.deadlineAt,
    });
    this.interpreter.record(exec, 'ExecutionStarted', {
      input: text,
      inputDetails: notTruncated,
      roleArn: exec.revision.roleArn,
      stateMachineVersionArn: exec.versionArn,
      stateMachineAliasArn: exec.aliasArn,
    });
    this.interpreter.armDeadline(exec);
    this.interpreter.runFrom(exec, exec.revision.compiled.startAt, JSON.parse(text));
    return { executionArn: exec.arn, startDate: seconds(exec.startedAt) };
  }

  describe(input: ApiInput): unknown {
    const exec = this.get(input.executionArn);
    return {
      ...summary(exec),
      input: exec.input,
      inputDetails: { included: true },
      output: exec.output,
      outputDetails: exec.output === undefined ? undefined : { included: true },
      error: exec.error,
      cause: exec.cause,
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
    };
  }

  describeStateMachine(input: ApiInput): unknown {
    const exec = this.get(input.executionArn);
    return {
      stateMachineArn: exec.versionArn ?? exec.machine.arn,
      name: exec.machine.name,
      definition: exec.revision.definition,
      roleArn: exec.revision.roleArn,
      updateDate: seconds(exec.revision.createdAt),
      revisionId: exec.revision.id,
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  stop(input: ApiInput): unknown {
    const exec = this.get(input.executionArn);
    if (exec.status === 'RUNNING') {
      const error = optionalString(input.error);
      const cause = optionalString(input.cause);
      this.interpreter.close(exec, 'ABORTED', 'ExecutionAborted', { error, cause }, { error, cause });
    }
    return { stopDate: seconds(exec.stoppedAt ?? this.clock.now()) };
  }

  list(input: ApiInput): unknown {
    const { machine, version, alias } = this.stateMachines.resolve(input.stateMachineArn);
    const status = input.statusFilter === undefined ? undefined : String(input.statusFilter);
    const all: Execution[] = [];
    for (const exec of machine.executions.values()) {
      if (status && exec.status !== status) continue;
      if (version && exec.versionArn !== version.arn) continue;
      if (alias && exec.aliasArn !== alias.arn) continue;
      all.push(exec);
    }
    all.sort((a, b) => b.startedAt - a.startedAt);
    const { items, nextToken } = page(all, input.maxResults, input.nextToken, 100);
    return {
      executions: items.map(summary),
      nextToken,
    };
  }

  history(input: ApiInput): unknown {
    const exec = this.get(input.executionArn);
    const includeData = input.includeExecutionData !== false;
    let events = exec.events.map((entry, index) => toAwsEvent(entry, index, includeData));
    if (input.reverseOrder === true) events = events.reverse();
    const { items, nextToken } = page(events, input.maxResults, input.nextToken, 100);
    return { events: items, nextToken };
  }

  /** Adds an execution (started, or restored from the journal). */
  add(exec: Execution): void {
    exec.machine.executions.set(exec.name, exec);
    this.byArn.set(exec.arn, exec);
  }

  /** Executions currently waiting (parked) in a Wait or for a task token. */
  waitingCount(): number {
    let count = 0;
    for (const exec of this.byArn.values()) if (exec.parked) count++;
    return count;
  }

  private get(value: unknown): Execution {
    const arn = requireString(value, 'executionArn');
    if (!/^arn:aws[\w-]*:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn))
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
    const exec = this.byArn.get(arn);
    if (!exec) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return exec;
  }

  /** AWS keeps closed executions (and their names) for 90 days; so does this, in virtual time. */
  private forgetOld(): void {
    const cutoff = this.clock.now() - retentionMs;
    for (const exec of this.byArn.values()) {
      if (exec.stoppedAt !== undefined && exec.stoppedAt < cutoff) {
        this.byArn.delete(exec.arn);
        if (exec.machine.executions.get(exec.name) === exec) exec.machine.executions.delete(exec.name);
      }
    }
  }
}

/** What ListExecutions says of an execution (DescribeExecution adds input, output, error). */
function summary(exec: Execution): Record<string, unknown> {
  return {
    executionArn: exec.arn,
    stateMachineArn: exec.machine.arn,
    name: exec.name,
    status: exec.status,
    startDate: seconds(exec.startedAt),
    stopDate: exec.stoppedAt === undefined ? undefined : seconds(exec.stoppedAt),
    stateMachineVersionArn: exec.versionArn,
    stateMachineAliasArn: exec.aliasArn,
  };
}
