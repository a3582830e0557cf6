import { functionName, invokeFunction, lambdaContext } from '../functions.js';
import { localClock, type VirtualClock } from './clock.js';
import { type FunctionInvoker, LocalStepFunctions } from './service.js';

export {
  createVirtualClock,
  localClock,
  type ScheduledWake,
  setLocalClock,
  timeScaleFromEnv,
  type VirtualClock,
  type VirtualClockOptions,
} from './clock.js';
export { type FunctionInvoker, LocalStepFunctions, type LocalStepFunctionsOptions } from './service.js';

/** A function handler as `resolveFunction` returns it: called with the payload (and a Lambda context). */
export type ResolvedFunction = (payload: unknown, context?: never) => unknown;
export type FunctionResolver = (nameOrArn: string) => ResolvedFunction | Promise<ResolvedFunction>;

export interface CreateLocalStepFunctionsOptions {
  /** Default: the process-wide `localClock()`. */
  clock?: VirtualClock;
  /** Resolves a Lambda name/ARN to its handler. Default: `invokeFunction` of infra/local/functions.ts. */
  resolveFunction?: FunctionResolver;
  /** Or invoke directly (takes precedence over resolveFunction). */
  invoke?: FunctionInvoker;
  /** Directory for state machines, versions and executions (e.g. `.cairn/stepfunctions`); omit = memory only. */
  dataDir?: string;
  region?: string;
  accountId?: string;
}

export interface LocalStepFunctionsStack {
  service: LocalStepFunctions;
  clock: VirtualClock;
  stop(): Promise<void>;
}

export function createLocalStepFunctions(
  options: CreateLocalStepFunctionsOptions = {},
): LocalStepFunctionsStack {
  const clock = options.clock ?? localClock();
  const resolve = options.resolveFunction;
  const invoke: FunctionInvoker =
    options.invoke ??
    (resolve
      ? async (nameOrArn, payload) => {
          const handler = await resolve(nameOrArn);
          return handler(payload, lambdaContext(functionName(nameOrArn), Date.now() + 60_000) as never);
        }
      : (nameOrArn, payload) => invokeFunction(nameOrArn, payload));
  const service = new LocalStepFunctions({
    clock,
    invoke,
    dataDir: options.dataDir,
    region: options.region,
    accountId: options.accountId,
  });
  return { service, clock, stop: () => service.stop() };
}
