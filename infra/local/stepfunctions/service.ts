import './polyfill.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ExecutionAbortedError, ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { createLogger, type Logger } from '../../../shared/log.js';
import { AwsServiceError, type EdgeService } from '../edge.js';
import { type JsonFile, jsonFile } from '../json-file.js';
import type { ScheduledWake, VirtualClock } from './clock.js';
import {
  type CompiledDefinition,
  compileDefinition,
  parseDefinition,
  type TaskInfo,
  tokenPlaceholder,
} from './definition.js';
import { type HistoryEntry, stateEventType, toAwsEvent } from './history.js';
import { ExecutionJournal, type ParkedState, type ReplayedExecution } from './journal.js';

/** Invokes a Lambda function by name or ARN with a payload and returns its result (or throws its error). */
export type FunctionInvoker = (nameOrArn: string, payload: unknown) => Promise<unknown>;

export interface LocalStepFunctionsOptions {
  clock: VirtualClock;
  invoke: FunctionInvoker;
  /** Directory for state machines and executions; omit to keep everything in memory. */
  dataDir?: string;
  region?: string;
  accountId?: string;
  log?: Logger;
}

type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

interface Revision {
  id: string;
  definition: string;
  roleArn: string;
  createdAt: number;
  compiled: CompiledDefinition;
  retryOverrides: Record<string, number>;
}

interface Version {
  number: number;
  arn: string;
  revision: Revision;
  description?: string;
  createdAt: number;
}

interface Alias {
  name: string;
  arn: string;
  description?: string;
  routing: { stateMachineVersionArn: string; weight: number }[];
  createdAt: number;
  updatedAt?: number;
}

interface Machine {
  name: string;
  arn: string;
  createdAt: number;
  updatedAt?: number;
  status: 'ACTIVE' | 'DELETING';
  latest: Revision;
  versions: Map<number, Version>;
  nextVersion: number;
  aliases: Map<string, Alias>;
  executions: Map<string, Execution>;
}

type Outcome =
  | { type: 'wake' }
  | { type: 'success'; output: string }
  | { type: 'failure'; error?: string; cause?: string }
  | { type: 'timeout'; error: 'States.Timeout' | 'States.HeartbeatTimeout' };

interface Execution {
  arn: string;
  name: string;
  machine: Machine;
  revision: Revision;
  versionArn?: string;
  aliasArn?: string;
  input: string;
  status: ExecutionStatus;
  startedAt: number;
  stoppedAt?: number;
  output?: string;
  error?: string;
  cause?: string;
  events: HistoryEntry[];
  parked?: ParkedState & { wake?: ScheduledWake };
  run?: Run;
  /** The task token the execution currently waits on (set before the Lambda is invoked). */
  token?: string;
  /** An outcome for `token` that arrived while the Lambda was still being invoked. */
  early?: Outcome;
  tokens: number;
  /** The last input/output text recorded, to share equal strings between events. */
  lastText?: string;
  deadline?: ScheduledWake;
  deadlineAt?: number;
}

/** One pass of the interpreter over an execution: from its start, or from the state it waited in. */
interface Run {
  exec: Execution;
  abort(): void;
  closed: boolean;
  resumeState?: string;
  resume?: Outcome;
  skipEntered: boolean;
  /** The top-level state being run and its raw input as JSON text (what a park keeps). */
  current?: { name: string; input: string };
}

/** Thrown from a task handler to leave the interpreter: the execution waits as data, not as a promise. */
class ParkSignal extends Error {
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
class TaskError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

interface RegistryFile {
  /** The virtual time when the file was written. */
  clock?: number;
  revisions: Record<string, { definition: string; roleArn: string; createdAt: number }>;
  machines: {
    name: string;
    createdAt: number;
    updatedAt?: number;
    status: 'ACTIVE' | 'DELETING';
    latest: string;
    nextVersion: number;
    versions: { number: number; revision: string; description?: string; createdAt: number }[];
    aliases: Omit<Alias, 'arn'>[];
  }[];
}

const namePattern = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: AWS names may not contain control characters.
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/;
const maxPayloadBytes = 256 * 1024;
const retentionMs = 90 * 86_400_000;
/** Shared by every event (10,000 waiting executions should not hold 40,000 copies of it). */
const notTruncated = Object.freeze({ truncated: false });

/**
 * The `AWSStepFunctions.*` JSON service of the local stack, over the aws-local-stepfunctions
 * interpreter. Executions that wait (Wait states, `.waitForTaskToken`) leave the interpreter and
 * are kept as data (state name, input, wake time or token): one entry in the clock's queue each.
 * When they wake, the interpreter starts again from that state. See README.md.
 */
export class LocalStepFunctions implements EdgeService {
  readonly targetPrefix = 'AWSStepFunctions';
  private readonly machines = new Map<string, Machine>();
  private readonly executions = new Map<string, Execution>();
  private readonly revisions = new Map<string, Revision>();
  private readonly clock: VirtualClock;
  private readonly invokeFunction: FunctionInvoker;
  private readonly region: string;
  private readonly account: string;
  private readonly log: Logger;
  private readonly registry: JsonFile<RegistryFile> | undefined;
  private readonly journal: ExecutionJournal | undefined;
  private stopped = false;
  private starts = 0;

  constructor(options: LocalStepFunctionsOptions) {
    this.clock = options.clock;
    this.invokeFunction = options.invoke;
    this.region = options.region ?? 'us-east-1';
    this.account = options.accountId ?? '000000000000';
    this.log = options.log ?? createLogger({ component: 'stepfunctions' });
    if (options.dataDir) {
      this.registry = jsonFile<RegistryFile>(join(options.dataDir, 'state-machines.json'));
      this.journal = new ExecutionJournal(join(options.dataDir, 'executions.jsonl'));
      this.restore();
    }
  }

  async handle(action: string, body: unknown): Promise<unknown> {
    if (this.stopped)
      throw new AwsServiceError('ServiceUnavailable', 'The local Step Functions service is stopped', 503);
    const input = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    switch (action) {
      case 'CreateStateMachine':
        return this.createStateMachine(input);
      case 'UpdateStateMachine':
        return this.updateStateMachine(input);
      case 'PublishStateMachineVersion':
        return this.publishStateMachineVersion(input);
      case 'DescribeStateMachine':
        return this.describeStateMachine(input);
      case 'ListStateMachines':
        return this.listStateMachines(input);
      case 'ListStateMachineVersions':
        return this.listStateMachineVersions(input);
      case 'DeleteStateMachine':
        return this.deleteStateMachine(input);
      case 'CreateStateMachineAlias':
        return this.createAlias(input);
      case 'UpdateStateMachineAlias':
        return this.updateAlias(input);
      case 'DescribeStateMachineAlias':
        return this.describeAlias(input);
      case 'DeleteStateMachineAlias':
        return this.deleteAlias(input);
      case 'StartExecution':
        return this.startExecution(input);
      case 'DescribeExecution':
        return this.describeExecution(input);
      case 'DescribeStateMachineForExecution':
        return this.describeStateMachineForExecution(input);
      case 'StopExecution':
        return this.stopExecution(input);
      case 'ListExecutions':
        return this.listExecutions(input);
      case 'GetExecutionHistory':
        return this.getExecutionHistory(input);
      case 'SendTaskSuccess':
        return this.sendTaskSuccess(input);
      case 'SendTaskFailure':
        return this.sendTaskFailure(input);
      case 'SendTaskHeartbeat':
        return this.sendTaskHeartbeat(input);
      case 'ValidateStateMachineDefinition':
        return validateDefinition(input);
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `The local Step Functions does not implement ${action}`,
        );
    }
  }

  /** Executions currently waiting (parked) in a Wait or for a task token. */
  waitingCount(): number {
    let count = 0;
    for (const exec of this.executions.values()) if (exec.parked) count++;
    return count;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.saveRegistry();
    for (const exec of this.executions.values()) {
      exec.parked?.wake?.cancel();
      exec.deadline?.cancel();
      if (exec.run) {
        exec.run.closed = true;
        exec.run.abort();
      }
    }
    this.registry?.flush();
    await this.journal?.close();
  }

  // ── state machines ───────────────────────────────────────────────────────────────────────────

  private createStateMachine(input: Record<string, unknown>): unknown {
    const name = requireName(input.name, 'name');
    const type = input.type ?? 'STANDARD';
    if (type !== 'STANDARD')
      throw new AwsServiceError(
        'ValidationException',
        'The local Step Functions runs STANDARD state machines only',
      );
    const definition = String(input.definition ?? '');
    const roleArn = requireString(input.roleArn, 'roleArn');
    const existing = this.machines.get(name);
    if (existing && existing.status === 'ACTIVE') {
      if (existing.latest.definition !== definition || existing.latest.roleArn !== roleArn) {
        throw new AwsServiceError(
          'StateMachineAlreadyExists',
          `State Machine Already Exists: '${existing.arn}'`,
        );
      }
      const version =
        input.publish === true
          ? this.publishLatest(existing, optionalString(input.versionDescription))
          : undefined;
      return {
        stateMachineArn: existing.arn,
        creationDate: seconds(existing.createdAt),
        stateMachineVersionArn: version?.arn,
      };
    }
    if (existing)
      throw new AwsServiceError('StateMachineDeleting', `State Machine is being deleted: '${existing.arn}'`);
    const revision = this.newRevision(definition, roleArn);
    const machine: Machine = {
      name,
      arn: this.machineArn(name),
      createdAt: this.clock.now(),
      status: 'ACTIVE',
      latest: revision,
      versions: new Map(),
      nextVersion: 1,
      aliases: new Map(),
      executions: new Map(),
    };
    this.machines.set(name, machine);
    const version =
      input.publish === true
        ? this.publishLatest(machine, optionalString(input.versionDescription))
        : undefined;
    this.saveRegistry();
    return {
      stateMachineArn: machine.arn,
      creationDate: seconds(machine.createdAt),
      stateMachineVersionArn: version?.arn,
    };
  }

  private updateStateMachine(input: Record<string, unknown>): unknown {
    const machine = this.unqualifiedMachine(input.stateMachineArn);
    if (input.definition === undefined && input.roleArn === undefined && input.publish !== true) {
      throw new AwsServiceError(
        'MissingRequiredParameter',
        'Either the definition, the roleArn or publish must be given',
      );
    }
    const definition = input.definition === undefined ? machine.latest.definition : String(input.definition);
    const roleArn =
      input.roleArn === undefined ? machine.latest.roleArn : requireString(input.roleArn, 'roleArn');
    if (definition !== machine.latest.definition || roleArn !== machine.latest.roleArn) {
      machine.latest = this.newRevision(definition, roleArn);
      machine.updatedAt = this.clock.now();
    }
    const version =
      input.publish === true
        ? this.publishLatest(machine, optionalString(input.versionDescription))
        : undefined;
    this.saveRegistry();
    return {
      updateDate: seconds(machine.updatedAt ?? this.clock.now()),
      revisionId: machine.latest.id,
      stateMachineVersionArn: version?.arn,
    };
  }

  private publishStateMachineVersion(input: Record<string, unknown>): unknown {
    const machine = this.unqualifiedMachine(input.stateMachineArn);
    if (input.revisionId !== undefined && input.revisionId !== machine.latest.id) {
      throw new AwsServiceError(
        'ConflictException',
        `The revisionId ${String(input.revisionId)} is not the latest revision of ${machine.arn}`,
      );
    }
    const version = this.publishLatest(machine, optionalString(input.description));
    this.saveRegistry();
    return { creationDate: seconds(version.createdAt), stateMachineVersionArn: version.arn };
  }

  /** Publishing a revision that already is a version returns that version, as AWS does. */
  private publishLatest(machine: Machine, description: string | undefined): Version {
    for (const version of machine.versions.values()) if (version.revision === machine.latest) return version;
    const number = machine.nextVersion++;
    const version: Version = {
      number,
      arn: `${machine.arn}:${number}`,
      revision: machine.latest,
      description,
      createdAt: this.clock.now(),
    };
    machine.versions.set(number, version);
    return version;
  }

  private describeStateMachine(input: Record<string, unknown>): unknown {
    const { machine, version, alias } = this.resolveMachineArn(input.stateMachineArn);
    if (alias)
      throw new AwsServiceError('ValidationException', 'Use DescribeStateMachineAlias for an alias ARN');
    const revision = version?.revision ?? machine.latest;
    return {
      stateMachineArn: version?.arn ?? machine.arn,
      name: machine.name,
      status: machine.status,
      definition: revision.definition,
      roleArn: revision.roleArn,
      type: 'STANDARD',
      creationDate: seconds(version?.createdAt ?? machine.createdAt),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
      revisionId: revision.id,
      description: version?.description,
    };
  }

  private listStateMachines(input: Record<string, unknown>): unknown {
    const all = [...this.machines.values()]
      .filter((machine) => machine.status === 'ACTIVE')
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((machine) => ({
        stateMachineArn: machine.arn,
        name: machine.name,
        type: 'STANDARD',
        creationDate: seconds(machine.createdAt),
      }));
    const { items, nextToken } = page(all, input.maxResults, input.nextToken, 100);
    return { stateMachines: items, nextToken };
  }

  private listStateMachineVersions(input: Record<string, unknown>): unknown {
    const machine = this.unqualifiedMachine(input.stateMachineArn);
    const all = [...machine.versions.values()]
      .sort((a, b) => b.number - a.number)
      .map((version) => ({ stateMachineVersionArn: version.arn, creationDate: seconds(version.createdAt) }));
    const { items, nextToken } = page(all, input.maxResults, input.nextToken, 100);
    return { stateMachineVersions: items, nextToken };
  }

  /** Like AWS: the machine goes DELETING; running executions go on; it is gone once they end. */
  private deleteStateMachine(input: Record<string, unknown>): unknown {
    const arn = requireString(input.stateMachineArn, 'stateMachineArn');
    const parsed = this.parseMachineArn(arn);
    const machine = this.machines.get(parsed.name);
    if (!machine) return {};
    if (parsed.qualifier !== undefined) {
      // Deleting a version (DeleteStateMachineVersion is the proper call; AWS rejects this).
      throw new AwsServiceError(
        'ValidationException',
        'DeleteStateMachine takes an unqualified state machine ARN',
      );
    }
    machine.status = 'DELETING';
    this.purgeIfDone(machine);
    this.saveRegistry();
    return {};
  }

  private createAlias(input: Record<string, unknown>): unknown {
    const name = requireName(input.name, 'name');
    if (/^\d+$/.test(name)) throw new AwsServiceError('InvalidName', 'An alias name cannot be a number');
    const routing = this.parseRouting(input.routingConfiguration);
    const machine = this.resolveMachineArn(routing[0]!.stateMachineVersionArn).machine;
    const existing = machine.aliases.get(name);
    if (existing) {
      // Idempotent like AWS: the same alias again is fine, a different one is a conflict.
      const same =
        JSON.stringify(existing.routing) === JSON.stringify(routing) &&
        existing.description === optionalString(input.description);
      if (!same) throw new AwsServiceError('ConflictException', `Alias ${name} already exists`);
      return { stateMachineAliasArn: existing.arn, creationDate: seconds(existing.createdAt) };
    }
    const alias: Alias = {
      name,
      arn: `${machine.arn}:${name}`,
      description: optionalString(input.description),
      routing,
      createdAt: this.clock.now(),
    };
    machine.aliases.set(name, alias);
    this.saveRegistry();
    return { stateMachineAliasArn: alias.arn, creationDate: seconds(alias.createdAt) };
  }

  private updateAlias(input: Record<string, unknown>): unknown {
    const { alias } = this.resolveMachineArn(input.stateMachineAliasArn);
    if (!alias) throw new AwsServiceError('InvalidArn', 'Not a state machine alias ARN');
    if (input.routingConfiguration !== undefined)
      alias.routing = this.parseRouting(input.routingConfiguration);
    if (input.description !== undefined) alias.description = optionalString(input.description);
    alias.updatedAt = this.clock.now();
    this.saveRegistry();
    return { updateDate: seconds(alias.updatedAt) };
  }

  private describeAlias(input: Record<string, unknown>): unknown {
    const { alias } = this.resolveMachineArn(input.stateMachineAliasArn);
    if (!alias) throw new AwsServiceError('InvalidArn', 'Not a state machine alias ARN');
    return {
      stateMachineAliasArn: alias.arn,
      name: alias.name,
      description: alias.description,
      routingConfiguration: alias.routing,
      creationDate: seconds(alias.createdAt),
      updateDate: alias.updatedAt === undefined ? undefined : seconds(alias.updatedAt),
    };
  }

  private deleteAlias(input: Record<string, unknown>): unknown {
    const { machine, alias } = this.resolveMachineArn(input.stateMachineAliasArn);
    if (alias) machine.aliases.delete(alias.name);
    this.saveRegistry();
    return {};
  }

  private parseRouting(value: unknown): Alias['routing'] {
    if (!Array.isArray(value) || value.length < 1 || value.length > 2) {
      throw new AwsServiceError('ValidationException', 'routingConfiguration must have one or two entries');
    }
    const routing = value.map((entry: { stateMachineVersionArn?: unknown; weight?: unknown }) => {
      const arn = requireString(entry.stateMachineVersionArn, 'stateMachineVersionArn');
      if (!this.resolveMachineArn(arn).version)
        throw new AwsServiceError('ValidationException', `${arn} is not a state machine version`);
      const weight = Number(entry.weight);
      if (!Number.isInteger(weight) || weight < 0 || weight > 100)
        throw new AwsServiceError('ValidationException', 'weight must be 0..100');
      return { stateMachineVersionArn: arn, weight };
    });
    if (routing.reduce((sum, entry) => sum + entry.weight, 0) !== 100)
      throw new AwsServiceError('ValidationException', 'weights must sum to 100');
    return routing;
  }

  // ── executions ───────────────────────────────────────────────────────────────────────────────

  private startExecution(input: Record<string, unknown>): unknown {
    const target = this.resolveMachineArn(input.stateMachineArn);
    const { machine, alias } = target;
    if (machine.status !== 'ACTIVE')
      throw new AwsServiceError('StateMachineDeleting', `State Machine is being deleted: '${machine.arn}'`);
    let version = target.version;
    if (alias) version = this.pickAliasVersion(machine, alias);
    const name = input.name === undefined ? randomUUID() : requireName(input.name, 'name');
    const text = input.input === undefined ? '{}' : String(input.input);
    if (Buffer.byteLength(text) > maxPayloadBytes)
      throw new AwsServiceError('InvalidExecutionInput', 'Input exceeds 262144 bytes');
    try {
      JSON.parse(text);
    } catch {
      throw new AwsServiceError('InvalidExecutionInput', 'Invalid execution input: not JSON');
    }
    if (++this.starts % 1000 === 0) this.forgetOldExecutions();
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
    machine.executions.set(name, exec);
    this.executions.set(exec.arn, exec);
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
    this.record(exec, 'ExecutionStarted', {
      input: text,
      inputDetails: notTruncated,
      roleArn: exec.revision.roleArn,
      stateMachineVersionArn: exec.versionArn,
      stateMachineAliasArn: exec.aliasArn,
    });
    this.armDeadline(exec);
    this.runFrom(exec, exec.revision.compiled.startAt, JSON.parse(text));
    return { executionArn: exec.arn, startDate: seconds(exec.startedAt) };
  }

  private pickAliasVersion(machine: Machine, alias: Alias): Version {
    let roll = Math.random() * 100;
    for (const route of alias.routing) {
      roll -= route.weight;
      if (roll < 0 || route === alias.routing[alias.routing.length - 1]) {
        const version = this.resolveMachineArn(route.stateMachineVersionArn).version;
        if (version) return version;
      }
    }
    throw new AwsServiceError(
      'StateMachineDoesNotExist',
      `The alias ${alias.arn} routes to no existing version of ${machine.arn}`,
    );
  }

  private describeExecution(input: Record<string, unknown>): unknown {
    const exec = this.execution(input.executionArn);
    return {
      executionArn: exec.arn,
      stateMachineArn: exec.machine.arn,
      name: exec.name,
      status: exec.status,
      startDate: seconds(exec.startedAt),
      stopDate: exec.stoppedAt === undefined ? undefined : seconds(exec.stoppedAt),
      input: exec.input,
      inputDetails: { included: true },
      output: exec.output,
      outputDetails: exec.output === undefined ? undefined : { included: true },
      error: exec.error,
      cause: exec.cause,
      stateMachineVersionArn: exec.versionArn,
      stateMachineAliasArn: exec.aliasArn,
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
    };
  }

  private describeStateMachineForExecution(input: Record<string, unknown>): unknown {
    const exec = this.execution(input.executionArn);
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

  private stopExecution(input: Record<string, unknown>): unknown {
    const exec = this.execution(input.executionArn);
    if (exec.status === 'RUNNING') {
      const error = optionalString(input.error);
      const cause = optionalString(input.cause);
      this.close(exec, 'ABORTED', 'ExecutionAborted', { error, cause }, { error, cause });
    }
    return { stopDate: seconds(exec.stoppedAt ?? this.clock.now()) };
  }

  private listExecutions(input: Record<string, unknown>): unknown {
    const { machine, version, alias } = this.resolveMachineArn(input.stateMachineArn);
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
      executions: items.map((exec) => ({
        executionArn: exec.arn,
        stateMachineArn: exec.machine.arn,
        name: exec.name,
        status: exec.status,
        startDate: seconds(exec.startedAt),
        stopDate: exec.stoppedAt === undefined ? undefined : seconds(exec.stoppedAt),
        stateMachineVersionArn: exec.versionArn,
        stateMachineAliasArn: exec.aliasArn,
      })),
      nextToken,
    };
  }

  private getExecutionHistory(input: Record<string, unknown>): unknown {
    const exec = this.execution(input.executionArn);
    const includeData = input.includeExecutionData !== false;
    let events = exec.events.map((entry, index) => toAwsEvent(entry, index, includeData));
    if (input.reverseOrder === true) events = events.reverse();
    const { items, nextToken } = page(events, input.maxResults, input.nextToken, 100);
    return { events: items, nextToken };
  }

  // ── task tokens ──────────────────────────────────────────────────────────────────────────────

  private sendTaskSuccess(input: Record<string, unknown>): unknown {
    const output = input.output === undefined ? undefined : String(input.output);
    if (output === undefined) throw new AwsServiceError('ValidationException', 'output is required');
    if (Buffer.byteLength(output) > maxPayloadBytes)
      throw new AwsServiceError('InvalidOutput', 'Output exceeds 262144 bytes');
    try {
      JSON.parse(output);
    } catch {
      throw new AwsServiceError('InvalidOutput', 'Invalid output: not JSON');
    }
    this.settleToken(input.taskToken, { type: 'success', output });
    return {};
  }

  private sendTaskFailure(input: Record<string, unknown>): unknown {
    this.settleToken(input.taskToken, {
      type: 'failure',
      error: optionalString(input.error),
      cause: optionalString(input.cause),
    });
    return {};
  }

  private sendTaskHeartbeat(input: Record<string, unknown>): unknown {
    const exec = this.tokenOwner(input.taskToken);
    const parked = exec.parked;
    if (parked?.token === exec.token && parked?.heartbeatSeconds !== undefined) {
      parked.heartbeatAt = this.clock.now() + parked.heartbeatSeconds * 1000;
      this.armTokenDeadline(exec);
      this.journal?.append({ k: 'park', arn: exec.arn, p: persistable(parked) });
    }
    return {};
  }

  private settleToken(token: unknown, outcome: Outcome): void {
    const exec = this.tokenOwner(token);
    exec.token = undefined;
    const parked = exec.parked;
    if (parked?.kind === 'token') this.resume(exec, outcome);
    else exec.early = outcome;
  }

  /** The execution waiting on a token, with AWS's errors for malformed, unknown and closed tokens. */
  private tokenOwner(token: unknown): Execution {
    if (typeof token !== 'string' || token.length === 0 || token.length > 2048) {
      throw new AwsServiceError('InvalidToken', 'Invalid Token');
    }
    const arn = decodeToken(token);
    if (!arn) throw new AwsServiceError('InvalidToken', `Invalid Token: '${token.slice(0, 64)}'`);
    const exec = this.executions.get(arn);
    if (!exec) throw new AwsServiceError('TaskDoesNotExist', 'Task Does Not Exist');
    if (exec.status !== 'RUNNING' || exec.token !== token) {
      throw new AwsServiceError(
        'TaskTimedOut',
        'Task Timed Out: the task is closed (it timed out, was answered, or its execution ended)',
      );
    }
    return exec;
  }

  private newToken(exec: Execution): string {
    exec.tokens++;
    return Buffer.from(
      JSON.stringify([exec.arn, exec.tokens, randomBytes(9).toString('base64url')]),
    ).toString('base64url');
  }

  // ── running ──────────────────────────────────────────────────────────────────────────────────

  /** Starts the interpreter at `stateName` (the start, or the state the execution waited in). */
  private runFrom(exec: Execution, stateName: string, input: unknown, resume?: Outcome): void {
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
      handlers[name] = (taskInput) => this.runTask(run, name, taskInput);
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

  private async consumeEvents(run: Run, events: AsyncGenerator<LibraryEvent>): Promise<void> {
    const compiled = run.exec.revision.compiled;
    for await (const event of events) {
      if (run.closed) continue;
      if (event.type === 'StateEntered' && event.state) {
        const { name, input } = event.state;
        const text = this.intern(run.exec, json(input));
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
          output: this.intern(run.exec, json(output)),
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

  private park(exec: Execution, parked: ParkedState): void {
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

  private armTokenDeadline(exec: Execution): void {
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

  private resume(exec: Execution, outcome: Outcome): void {
    const parked = exec.parked;
    if (!parked || exec.status !== 'RUNNING') return;
    parked.wake?.cancel();
    exec.parked = undefined;
    this.runFrom(exec, parked.state, JSON.parse(parked.input), outcome);
  }

  private armDeadline(exec: Execution): void {
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
  private close(
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
    if (exec.machine.status === 'DELETING') this.purgeIfDone(exec.machine);
  }

  /** AWS keeps closed executions (and their names) for 90 days; so does this, in virtual time. */
  private forgetOldExecutions(): void {
    const cutoff = this.clock.now() - retentionMs;
    for (const exec of this.executions.values()) {
      if (exec.stoppedAt !== undefined && exec.stoppedAt < cutoff) {
        this.executions.delete(exec.arn);
        if (exec.machine.executions.get(exec.name) === exec) exec.machine.executions.delete(exec.name);
      }
    }
  }

  private purgeIfDone(machine: Machine): void {
    for (const exec of machine.executions.values()) if (exec.status === 'RUNNING') return;
    // Its executions stay describable (as on AWS for a while); only the machine goes.
    if (this.machines.get(machine.name) === machine) this.machines.delete(machine.name);
    this.saveRegistry();
  }

  private record(exec: Execution, type: string, details?: Record<string, unknown>): void {
    const entry: HistoryEntry = details
      ? { type, ts: this.clock.now(), details: compact(details) }
      : { type, ts: this.clock.now() };
    exec.events.push(entry);
    this.journal?.append({ k: 'event', arn: exec.arn, e: entry });
  }

  // ── tasks ────────────────────────────────────────────────────────────────────────────────────

  private async runTask(run: Run, name: string, input: unknown): Promise<unknown> {
    // Let the event consumer catch up, so this state's Entered event is recorded before ours.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const info = run.exec.revision.compiled.tasks.get(name)!;
    switch (info.kind) {
      case 'wait':
        return this.waitTask(run, name, info, input as WaitInput);
      case 'token':
        return this.tokenTask(run, name, info, input);
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

  private async waitTask(run: Run, name: string, info: TaskInfo, input: WaitInput): Promise<unknown> {
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
    throw new ParkSignal({ kind: 'wait', state: name, input: this.rawInput(run, name), wakeAt });
  }

  private async tokenTask(run: Run, name: string, info: TaskInfo, input: unknown): Promise<unknown> {
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
    const token = this.newToken(exec);
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
      input: this.rawInput(run, name),
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
        const result = await this.invokeFunction(info.resource, input);
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
      void this.clock.track(this.invokeFunction(functionName, payload ?? {}).catch(() => undefined));
      return { ...metadata, Payload: '', StatusCode: 202 };
    }
    const result = await this.invokeFunction(functionName, payload ?? {});
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

  /** Reuses the previous event's text when equal: a state's input is often the last one's output. */
  private intern(exec: Execution, text: string): string {
    if (exec.lastText === text) return exec.lastText;
    if (exec.input === text) return exec.input;
    exec.lastText = text;
    return text;
  }

  private rawInput(run: Run, name: string): string {
    if (run.current?.name !== name)
      throw new TaskError('States.Runtime', `Lost track of the input of ${name}`);
    return run.current.input;
  }

  // ── lookups ──────────────────────────────────────────────────────────────────────────────────

  private machineArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.account}:stateMachine:${name}`;
  }

  private parseMachineArn(value: unknown): { name: string; qualifier?: string } {
    const arn = requireString(value, 'stateMachineArn');
    const match = /^arn:aws[\w-]*:states:[^:]+:\d{12}:stateMachine:([^:]+)(?::([^:]+))?$/.exec(arn);
    if (!match) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
    return { name: match[1]!, qualifier: match[2] };
  }

  private resolveMachineArn(value: unknown): { machine: Machine; version?: Version; alias?: Alias } {
    const { name, qualifier } = this.parseMachineArn(value);
    const machine = this.machines.get(name);
    if (!machine)
      throw new AwsServiceError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${String(value)}'`,
      );
    if (qualifier === undefined) return { machine };
    if (/^\d+$/.test(qualifier)) {
      const version = machine.versions.get(Number(qualifier));
      if (!version)
        throw new AwsServiceError(
          'StateMachineDoesNotExist',
          `State Machine Version Does Not Exist: '${String(value)}'`,
        );
      return { machine, version };
    }
    const alias = machine.aliases.get(qualifier);
    if (!alias)
      throw new AwsServiceError('ResourceNotFound', `State Machine Alias Does Not Exist: '${String(value)}'`);
    return { machine, alias };
  }

  private unqualifiedMachine(value: unknown): Machine {
    const resolved = this.resolveMachineArn(value);
    if (resolved.version || resolved.alias)
      throw new AwsServiceError('ValidationException', 'Expected an unqualified state machine ARN');
    if (resolved.machine.status !== 'ACTIVE')
      throw new AwsServiceError(
        'StateMachineDeleting',
        `State Machine is being deleted: '${resolved.machine.arn}'`,
      );
    return resolved.machine;
  }

  private execution(value: unknown): Execution {
    const arn = requireString(value, 'executionArn');
    if (!/^arn:aws[\w-]*:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn))
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
    const exec = this.executions.get(arn);
    if (!exec) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return exec;
  }

  private newRevision(
    definitionText: string,
    roleArn: string,
    id: string = randomUUID(),
    createdAt = this.clock.now(),
  ): Revision {
    const definition = parseDefinition(definitionText);
    const compiled = compileDefinition(definition);
    const retryOverrides: Record<string, number> = {};
    // Retry pauses are short real delays: a retried local Lambda gains nothing from waiting.
    for (const name of compiled.retrying) retryOverrides[name] = 0;
    const revision: Revision = {
      id,
      definition: definitionText,
      roleArn,
      createdAt,
      compiled,
      retryOverrides,
    };
    this.revisions.set(id, revision);
    return revision;
  }

  // ── persistence ──────────────────────────────────────────────────────────────────────────────

  private saveRegistry(): void {
    this.registry?.save(() => {
      const used = new Set<Revision>();
      for (const machine of this.machines.values()) {
        used.add(machine.latest);
        for (const version of machine.versions.values()) used.add(version.revision);
        for (const exec of machine.executions.values()) used.add(exec.revision);
      }
      const revisions: RegistryFile['revisions'] = {};
      for (const revision of used)
        revisions[revision.id] = {
          definition: revision.definition,
          roleArn: revision.roleArn,
          createdAt: revision.createdAt,
        };
      return {
        clock: this.clock.now(),
        revisions,
        machines: [...this.machines.values()].map((machine) => ({
          name: machine.name,
          createdAt: machine.createdAt,
          updatedAt: machine.updatedAt,
          status: machine.status,
          latest: machine.latest.id,
          nextVersion: machine.nextVersion,
          versions: [...machine.versions.values()].map((v) => ({
            number: v.number,
            revision: v.revision.id,
            description: v.description,
            createdAt: v.createdAt,
          })),
          aliases: [...machine.aliases.values()].map(({ arn: _arn, ...alias }) => alias),
        })),
      };
    });
  }

  /** Loads state machines and executions; waiting ones wait again, running ones run again from their last state. */
  private restore(): void {
    const saved = this.registry!.load({ revisions: {}, machines: [] });
    const revision = (id: string): Revision | undefined => {
      const existing = this.revisions.get(id);
      if (existing) return existing;
      const raw = saved.revisions[id];
      if (!raw) return undefined;
      try {
        return this.newRevision(raw.definition, raw.roleArn, id, raw.createdAt);
      } catch (error) {
        this.log.warn('could not restore a state machine revision', {
          revisionId: id,
          error: (error as Error).message,
        });
        return undefined;
      }
    };
    for (const raw of saved.machines) {
      const latest = revision(raw.latest);
      if (!latest) continue;
      const arn = this.machineArn(raw.name);
      const machine: Machine = {
        name: raw.name,
        arn,
        createdAt: raw.createdAt,
        updatedAt: raw.updatedAt,
        status: raw.status,
        latest,
        versions: new Map(),
        nextVersion: raw.nextVersion,
        aliases: new Map(raw.aliases.map((alias) => [alias.name, { ...alias, arn: `${arn}:${alias.name}` }])),
        executions: new Map(),
      };
      for (const v of raw.versions) {
        const rev = revision(v.revision);
        if (rev)
          machine.versions.set(v.number, {
            number: v.number,
            arn: `${arn}:${v.number}`,
            revision: rev,
            description: v.description,
            createdAt: v.createdAt,
          });
      }
      this.machines.set(machine.name, machine);
    }
    // Virtual time never goes back: a restart continues from the latest time the last run reached.
    const replayed = this.journal!.load();
    let reached = saved.clock ?? 0;
    for (const execution of replayed) {
      reached = Math.max(
        reached,
        execution.start.at,
        execution.events.at(-1)?.ts ?? 0,
        execution.close?.at ?? 0,
      );
    }
    this.clock.skipTo(reached);
    let resumed = 0;
    for (const execution of replayed) {
      if (this.restoreExecution(execution, revision)) resumed++;
    }
    if (resumed > 0) this.log.info('restored executions in flight', { count: resumed });
  }

  private restoreExecution(
    replayed: ReplayedExecution,
    revision: (id: string) => Revision | undefined,
  ): boolean {
    const { start, events, parked, close } = replayed;
    const machine = this.machines.get(start.machine);
    const rev = revision(start.revision);
    if (!machine || !rev) return false;
    const exec = newExecution({
      arn: start.arn,
      name: start.name,
      machine,
      revision: rev,
      versionArn: start.versionArn,
      aliasArn: start.aliasArn,
      input: start.input,
      status: (close?.status as ExecutionStatus | undefined) ?? 'RUNNING',
      startedAt: start.at,
      events,
    });
    exec.stoppedAt = close?.at;
    exec.output = close?.output;
    exec.error = close?.error;
    exec.cause = close?.cause;
    exec.deadlineAt = start.deadlineAt;
    machine.executions.set(exec.name, exec);
    this.executions.set(exec.arn, exec);
    if (exec.status !== 'RUNNING') return false;
    this.armDeadline(exec);
    if (parked) {
      if (parked.kind === 'token') exec.token = parked.token;
      this.park(exec, parked);
      return true;
    }
    // It was running when the stack stopped: run again from the last state it entered (at least once).
    let from = rev.compiled.startAt;
    let input: unknown = JSON.parse(exec.input);
    for (let i = events.length - 1; i >= 0; i--) {
      const details = events[i]!.details as { name?: string; input?: string } | undefined;
      if (
        events[i]!.type.endsWith('StateEntered') &&
        details?.name &&
        rev.compiled.topLevel.has(details.name)
      ) {
        from = details.name;
        input = JSON.parse(details.input ?? 'null');
        break;
      }
    }
    this.runFrom(exec, from, input);
    return true;
  }
}

interface LibraryEvent {
  type: string;
  state?: { name: string; type: string; input: unknown; output?: unknown };
  parentState?: { name: string };
  index?: number;
}

interface WaitInput {
  input: unknown;
  seconds?: number;
  timestamp?: string;
}

/** Every field present from the start: one object shape for all executions (smaller, faster). */
function newExecution(
  init: Pick<
    Execution,
    | 'arn'
    | 'name'
    | 'machine'
    | 'revision'
    | 'versionArn'
    | 'aliasArn'
    | 'input'
    | 'status'
    | 'startedAt'
    | 'events'
  >,
): Execution {
  return {
    arn: init.arn,
    name: init.name,
    machine: init.machine,
    revision: init.revision,
    versionArn: init.versionArn,
    aliasArn: init.aliasArn,
    input: init.input,
    status: init.status,
    startedAt: init.startedAt,
    events: init.events,
    stoppedAt: undefined,
    output: undefined,
    error: undefined,
    cause: undefined,
    parked: undefined,
    run: undefined,
    token: undefined,
    early: undefined,
    tokens: 0,
    lastText: undefined,
    deadline: undefined,
    deadlineAt: undefined,
  };
}

function validateDefinition(input: Record<string, unknown>): unknown {
  try {
    compileDefinition(parseDefinition(input.definition));
    return { result: 'OK', diagnostics: [] };
  } catch (error) {
    const message = (error as Error).message;
    return {
      result: 'FAIL',
      diagnostics: [{ severity: 'ERROR', code: 'SCHEMA_VALIDATION_FAILED', message }],
    };
  }
}

function persistable(parked: ParkedState & { wake?: ScheduledWake }): ParkedState {
  const { wake: _wake, ...rest } = parked;
  return rest;
}

/** Replaces the `$$.Task.Token` placeholder wherever the Parameters put it. */
function withToken(value: unknown, token: string): unknown {
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

function json(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

/** Drops undefined fields by copying (deleting would turn the object into a slower, larger dictionary). */
function compact(details: Record<string, unknown>): Record<string, unknown> {
  let complete = true;
  for (const key in details) if (details[key] === undefined) complete = false;
  if (complete) return details;
  const out: Record<string, unknown> = {};
  for (const key in details) if (details[key] !== undefined) out[key] = details[key];
  return out;
}

function seconds(ms: number): number {
  return ms / 1000;
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '')
    throw new AwsServiceError(
      'ValidationException',
      `1 validation error detected: '${field}' must not be null`,
    );
  return value;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function requireName(value: unknown, field: string): string {
  const name = requireString(value, field);
  if (!namePattern.test(name) || controlCharacters.test(name))
    throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
  return name;
}

function page<T>(
  all: T[],
  maxResults: unknown,
  nextToken: unknown,
  fallback: number,
): { items: T[]; nextToken?: string } {
  const size = typeof maxResults === 'number' && maxResults > 0 ? Math.min(maxResults, 1000) : fallback;
  const start = typeof nextToken === 'string' && /^\d+$/.test(nextToken) ? Number(nextToken) : 0;
  const items = all.slice(start, start + size);
  return { items, nextToken: start + size < all.length ? String(start + size) : undefined };
}
