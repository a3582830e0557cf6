import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { AwsServiceError } from '../edge.js';
import { markHashes } from './intrinsics.js';

/**
 * Turns an ASL document into what the interpreter runs, so that the parts it lacks are ours:
 * - every Wait becomes a Task handled by the service (it waits on the virtual clock, or parks the
 *   execution); `Parameters` carry the effective input and the Seconds/Timestamp(+Path) values;
 * - `.waitForTaskToken` Tasks lose their TimeoutSeconds/HeartbeatSeconds (the service measures them
 *   on the virtual clock); their `*Path` variants are evaluated through `Parameters`;
 * - the execution's TimeoutSeconds is taken out (measured on the virtual clock too);
 * - `$$.Execution.Input` / `$$.Execution.StartTime` point at fields the interpreter does not
 *   overwrite (it sets them from the *run*, and a resumed execution is a new run);
 * - `$$.State.Name` becomes the state's name;
 * - a field whose value is `States.Hash(…)` is marked (intrinsics.ts) and hashed by the service with
 *   Node's crypto; a Pass state with such a field becomes a Task the service answers.
 */
export const waitResource = 'arn:aws:states:::cairn:wait';
export const passResource = 'arn:aws:states:::cairn:pass';
export const tokenPlaceholder = 'cairn:task-token-placeholder';

export type TaskKind = 'wait' | 'pass' | 'token' | 'invoke' | 'lambda' | 'unsupported';

export interface TaskInfo {
  kind: TaskKind;
  resource: string;
  /** Only top-level states park (leave memory); states inside Map/Parallel wait in memory. */
  topLevel: boolean;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  /** Parameters were wrapped as `{ payload, timeout?, heartbeat? }` to evaluate the *Path fields. */
  wrapped: boolean;
  /** Parameters hold marked `States.Hash` values: the service hashes them before using the input. */
  hashes?: boolean;
}

export interface CompiledDefinition {
  definition: StateMachineDefinition;
  startAt: string;
  /** Original state type by name, at every nesting level (for history event names). */
  types: Map<string, string>;
  topLevel: Set<string>;
  tasks: Map<string, TaskInfo>;
  /** State names with a Retry field (their pauses are overridden to be short and real). */
  retrying: string[];
  timeoutSeconds?: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type StateDoc = { [key: string]: Json };

/** Parses and validates a definition as CreateStateMachine does; throws InvalidDefinition. */
export function parseDefinition(text: unknown): StateMachineDefinition {
  if (typeof text !== 'string' || text.trim() === '')
    throw new AwsServiceError('ValidationException', 'definition is required');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AwsServiceError(
      'InvalidDefinition',
      `Invalid State Machine Definition: '${(error as Error).message}'`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AwsServiceError(
      'InvalidDefinition',
      'Invalid State Machine Definition: the definition must be a JSON object',
    );
  }
  const definition = parsed as StateMachineDefinition;
  if ((definition as { QueryLanguage?: string }).QueryLanguage === 'JSONata') {
    throw new AwsServiceError(
      'InvalidDefinition',
      'The local Step Functions supports JSONPath only, not JSONata',
    );
  }
  try {
    new StateMachine(definition, { validationOptions: { checkArn: false } });
  } catch (error) {
    throw new AwsServiceError(
      'InvalidDefinition',
      `Invalid State Machine Definition: ${(error as Error).message}`,
    );
  }
  return definition;
}

export function compileDefinition(source: StateMachineDefinition): CompiledDefinition {
  const types = new Map<string, string>();
  const tasks = new Map<string, TaskInfo>();
  const retrying: string[] = [];
  const topLevel = new Set(Object.keys(source.States));

  const compileStates = (states: Record<string, unknown>, top: boolean): Record<string, Json> => {
    const out: Record<string, Json> = {};
    for (const [name, raw] of Object.entries(states)) {
      const state = rewriteContextPaths(raw as Json, name) as StateDoc;
      const type = String(state.Type);
      const known = types.get(name);
      if (known !== undefined && (known !== type || type === 'Wait' || type === 'Task')) {
        throw new AwsServiceError(
          'InvalidDefinition',
          `The local Step Functions needs Task and Wait state names to be unique across branches and iterators: "${name}"`,
        );
      }
      types.set(name, type);
      if (Array.isArray(state.Retry) && state.Retry.length > 0) retrying.push(name);
      if (type === 'Wait') out[name] = compileWait(state, name, top, tasks);
      else if (type === 'Pass') out[name] = compilePass(state, name, top, tasks);
      else if (type === 'Task') out[name] = compileTask(state, name, top, tasks);
      else if (type === 'Parallel') {
        const branches = (state.Branches as StateDoc[]).map((branch) => ({
          ...branch,
          States: compileStates(branch.States as Record<string, unknown>, false),
        }));
        out[name] = { ...state, Branches: branches };
      } else if (type === 'Map') {
        const key = state.ItemProcessor ? 'ItemProcessor' : 'Iterator';
        const processor = state[key] as StateDoc;
        out[name] = {
          ...state,
          [key]: { ...processor, States: compileStates(processor.States as Record<string, unknown>, false) },
        };
      } else out[name] = state;
    }
    return out;
  };

  const { TimeoutSeconds, ...rest } = source;
  const definition = {
    ...rest,
    States: compileStates(source.States, true),
  } as unknown as StateMachineDefinition;
  return {
    definition,
    startAt: source.StartAt,
    types,
    topLevel,
    tasks,
    retrying,
    timeoutSeconds: TimeoutSeconds,
  };
}

function compileWait(state: StateDoc, name: string, top: boolean, tasks: Map<string, TaskInfo>): Json {
  const parameters: StateDoc = { 'input.$': '$' };
  if (state.Seconds !== undefined) parameters.seconds = state.Seconds;
  if (state.SecondsPath !== undefined) parameters['seconds.$'] = state.SecondsPath;
  if (state.Timestamp !== undefined) parameters.timestamp = state.Timestamp;
  if (state.TimestampPath !== undefined) parameters['timestamp.$'] = state.TimestampPath;
  const task: StateDoc = { Type: 'Task', Resource: waitResource, Parameters: parameters };
  for (const key of ['InputPath', 'OutputPath', 'Next', 'End', 'Comment']) {
    if (state[key] !== undefined) task[key] = state[key]!;
  }
  tasks.set(name, { kind: 'wait', resource: waitResource, topLevel: top, wrapped: false });
  return task;
}

function compilePass(state: StateDoc, name: string, top: boolean, tasks: Map<string, TaskInfo>): Json {
  if (state.Parameters === undefined || state.Result !== undefined) return state;
  const { template, changed } = markHashes(state.Parameters);
  if (!changed) return state;
  const task: StateDoc = { Type: 'Task', Resource: passResource, Parameters: template };
  for (const key of ['InputPath', 'ResultPath', 'OutputPath', 'Next', 'End', 'Comment']) {
    if (state[key] !== undefined) task[key] = state[key]!;
  }
  tasks.set(name, { kind: 'pass', resource: passResource, topLevel: top, wrapped: false, hashes: true });
  return task;
}

function compileTask(original: StateDoc, name: string, top: boolean, tasks: Map<string, TaskInfo>): Json {
  const marked = original.Parameters === undefined ? undefined : markHashes(original.Parameters);
  const state = marked?.changed ? { ...original, Parameters: marked.template } : original;
  const hashes = marked?.changed === true;
  const resource = String(state.Resource);
  const kind = taskKind(resource);
  const { TimeoutSeconds, TimeoutSecondsPath, HeartbeatSeconds, HeartbeatSecondsPath, ...rest } = state;
  if (kind !== 'token') {
    // Plain invocations keep a real-time timeout (a Lambda running too long is about real time);
    // the interpreter's timer cannot take more than ~24 days.
    const task: StateDoc = { ...rest };
    if (typeof TimeoutSeconds === 'number') task.TimeoutSeconds = Math.min(TimeoutSeconds, 2_000_000);
    if (TimeoutSecondsPath !== undefined) task.TimeoutSecondsPath = TimeoutSecondsPath;
    tasks.set(name, { kind, resource, topLevel: top, wrapped: false, hashes });
    return task;
  }
  const info: TaskInfo = { kind, resource, topLevel: top, wrapped: false, hashes };
  if (typeof TimeoutSeconds === 'number') info.timeoutSeconds = TimeoutSeconds;
  if (typeof HeartbeatSeconds === 'number') info.heartbeatSeconds = HeartbeatSeconds;
  const task: StateDoc = { ...rest };
  if (TimeoutSecondsPath !== undefined || HeartbeatSecondsPath !== undefined) {
    info.wrapped = true;
    const wrapper: StateDoc =
      rest.Parameters !== undefined ? { payload: rest.Parameters } : { 'payload.$': '$' };
    if (TimeoutSecondsPath !== undefined) wrapper['timeout.$'] = TimeoutSecondsPath;
    if (HeartbeatSecondsPath !== undefined) wrapper['heartbeat.$'] = HeartbeatSecondsPath;
    task.Parameters = wrapper;
  }
  tasks.set(name, info);
  return task;
}

export function taskKind(resource: string): TaskKind {
  if (resource === waitResource) return 'wait';
  if (resource === passResource) return 'pass';
  if (resource.startsWith('arn:aws:lambda:') && resource.includes(':function:')) return 'lambda';
  const service = /^arn:aws[\w-]*:states:[^:]*:[^:]*:(.+)$/.exec(resource)?.[1];
  if (service === 'lambda:invoke') return 'invoke';
  if (service === 'lambda:invoke.waitForTaskToken') return 'token';
  return 'unsupported';
}

/** Deep-rewrites string values (not `Result` literals) so context paths resolve in resumed runs. */
function rewriteContextPaths(value: Json, stateName: string, key = ''): Json {
  if (typeof value === 'string') {
    if (!value.includes('$$.')) return value;
    return (
      value
        // Replacer functions: in a replacement string, `$$` would mean a single `$`.
        .replaceAll('$$.Execution.Input', () => '$$.Execution.CairnInput')
        .replaceAll('$$.Execution.StartTime', () => '$$.Execution.CairnStartTime')
    );
  }
  if (Array.isArray(value)) return value.map((item) => rewriteContextPaths(item, stateName));
  if (value === null || typeof value !== 'object') return value;
  const out: StateDoc = {};
  for (const [k, v] of Object.entries(value)) {
    if (key === '' && (k === 'Result' || k === 'Branches' || k === 'Iterator' || k === 'ItemProcessor')) {
      out[k] = v;
      continue;
    }
    if (k.endsWith('.$') && v === '$$.State.Name') {
      out[k.slice(0, -2)] = stateName;
      continue;
    }
    out[k] = rewriteContextPaths(v, stateName, k);
  }
  return out;
}
