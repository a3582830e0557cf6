import type { ScheduledWake } from './clock.js';
import type { CompiledDefinition } from './definition.js';
import type { HistoryEntry } from './history.js';
import type { ParkedState } from './journal.js';

/** What the local Step Functions keeps in memory: state machines, their revisions, and executions. */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One definition + role of a state machine, compiled once; executions and versions point at it. */
export interface Revision {
  id: string;
  definition: string;
  roleArn: string;
  createdAt: number;
  compiled: CompiledDefinition;
  retryOverrides: Record<string, number>;
}

export interface Version {
  number: number;
  arn: string;
  revision: Revision;
  description?: string;
  createdAt: number;
}

export interface Alias {
  name: string;
  arn: string;
  description?: string;
  routing: { stateMachineVersionArn: string; weight: number }[];
  createdAt: number;
  updatedAt?: number;
}

export interface Machine {
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

/** How a waiting execution is woken: its Wait is due, its task was answered, or a timeout fired. */
export type Outcome =
  | { type: 'wake' }
  | { type: 'success'; output: string }
  | { type: 'failure'; error?: string; cause?: string }
  | { type: 'timeout'; error: 'States.Timeout' | 'States.HeartbeatTimeout' };

export interface Execution {
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
export interface Run {
  exec: Execution;
  abort(): void;
  closed: boolean;
  resumeState?: string;
  resume?: Outcome;
  skipEntered: boolean;
  /** The top-level state being run and its raw input as JSON text (what a park keeps). */
  current?: { name: string; input: string };
}

/** Every field present from the start: one object shape for all executions (smaller, faster). */
export function newExecution(
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

export function persistable(parked: ParkedState & { wake?: ScheduledWake }): ParkedState {
  const { wake: _wake, ...rest } = parked;
  return rest;
}
