import './polyfill.js';
import { edgeLogger } from '../../../functions/config.js';
import type { Logger } from '../../../shared/log.js';
import { AwsServiceError, type EdgeService } from '../edge.js';
import type { ApiInput } from './api.js';
import type { VirtualClock } from './clock.js';
import { Executions } from './executions.js';
import { Interpreter } from './interpreter.js';
import { Persistence } from './persistence.js';
import { StateMachines, validateDefinition } from './state-machines.js';
import { TaskTokens } from './task-tokens.js';
import type { FunctionInvoker } from './tasks.js';

export type { FunctionInvoker } from './tasks.js';

export interface LocalStepFunctionsOptions {
  clock: VirtualClock;
  invoke: FunctionInvoker;
  /** Directory for state machines and executions; omit to keep everything in memory. */
  dataDir?: string;
  region?: string;
  accountId?: string;
  log?: Logger;
}

/**
 * The `AWSStepFunctions.*` JSON service of the local stack, over the aws-local-stepfunctions
 * interpreter. Executions that wait (Wait states, `.waitForTaskToken`) leave the interpreter and
 * are kept as data (state name, input, wake time or token): one entry in the clock's queue each.
 * When they wake, the interpreter starts again from that state. See README.md.
 *
 * This class routes each API call to the part that owns it: `StateMachines` (machines, versions,
 * aliases), `Executions`, `TaskTokens`, the `Interpreter` (running, with `Tasks`), `Persistence`.
 */
export class LocalStepFunctions implements EdgeService {
  readonly targetPrefix = 'AWSStepFunctions';
  private readonly stateMachines: StateMachines;
  private readonly executions: Executions;
  private readonly interpreter: Interpreter;
  private readonly tokens: TaskTokens;
  private readonly persistence: Persistence | undefined;
  private readonly routes: Record<string, (input: ApiInput) => unknown>;
  private readonly clock: VirtualClock;
  private stopped = false;

  constructor(options: LocalStepFunctionsOptions) {
    const clock = options.clock;
    this.clock = clock;
    const region = options.region ?? 'us-east-1';
    const account = options.accountId ?? '000000000000';
    const log = options.log ?? edgeLogger({ component: 'stepfunctions' });
    const persistence = options.dataDir ? new Persistence(options.dataDir) : undefined;
    const journal = persistence?.journal;
    const stateMachines = new StateMachines({
      clock,
      region,
      account,
      changed: () => persistence?.save({ clock, stateMachines }),
    });
    const interpreter = new Interpreter({
      clock,
      invoke: options.invoke,
      region,
      log,
      journal,
      closed: (exec) => stateMachines.purgeIfDone(exec.machine),
    });
    const executions = new Executions({ clock, region, account, stateMachines, interpreter, journal });
    this.stateMachines = stateMachines;
    this.interpreter = interpreter;
    this.executions = executions;
    this.tokens = new TaskTokens({
      clock,
      interpreter,
      journal,
      execution: (arn) => executions.byArn.get(arn),
    });
    this.persistence = persistence;
    const machines = this.stateMachines;
    const tokens = this.tokens;
    this.routes = {
      CreateStateMachine: (input) => machines.create(input),
      UpdateStateMachine: (input) => machines.update(input),
      PublishStateMachineVersion: (input) => machines.publishVersion(input),
      DescribeStateMachine: (input) => machines.describe(input),
      ListStateMachines: (input) => machines.list(input),
      ListStateMachineVersions: (input) => machines.listVersions(input),
      DeleteStateMachine: (input) => machines.delete(input),
      CreateStateMachineAlias: (input) => machines.createAlias(input),
      UpdateStateMachineAlias: (input) => machines.updateAlias(input),
      DescribeStateMachineAlias: (input) => machines.describeAlias(input),
      DeleteStateMachineAlias: (input) => machines.deleteAlias(input),
      ValidateStateMachineDefinition: validateDefinition,
      StartExecution: (input) => executions.start(input),
      DescribeExecution: (input) => executions.describe(input),
      DescribeStateMachineForExecution: (input) => executions.describeStateMachine(input),
      StopExecution: (input) => executions.stop(input),
      ListExecutions: (input) => executions.list(input),
      GetExecutionHistory: (input) => executions.history(input),
      SendTaskSuccess: (input) => tokens.sendSuccess(input),
      SendTaskFailure: (input) => tokens.sendFailure(input),
      SendTaskHeartbeat: (input) => tokens.sendHeartbeat(input),
    };
    persistence?.restore({ clock, log, stateMachines, executions, interpreter });
  }

  async handle(action: string, body: unknown): Promise<unknown> {
    if (this.stopped)
      throw new AwsServiceError('ServiceUnavailable', 'The local Step Functions service is stopped', 503);
    const route = Object.hasOwn(this.routes, action) ? this.routes[action] : undefined;
    if (!route)
      throw new AwsServiceError(
        'UnknownOperationException',
        `The local Step Functions does not implement ${action}`,
      );
    return route((body && typeof body === 'object' ? body : {}) as ApiInput);
  }

  /** Executions currently waiting (parked) in a Wait or for a task token. */
  waitingCount(): number {
    return this.executions.waitingCount();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.persistence?.save({ clock: this.clock, stateMachines: this.stateMachines });
    for (const exec of this.executions.byArn.values()) this.interpreter.halt(exec);
    await this.persistence?.close();
  }
}
