/**
 * The slice of the Amazon States Language the compiler emits (JSONPath query language), and the
 * building blocks every node type shares: the step Task, its retry policy and its failure route.
 */

export interface AslDefinition {
  Comment?: string;
  QueryLanguage?: 'JSONPath';
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, AslState>;
}

export type AslState = { Type: 'Task' | 'Pass' | 'Wait' | 'Choice' | 'Succeed' | 'Fail' } & Record<
  string,
  unknown
>;

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds: number;
  MaxAttempts: number;
  BackoffRate: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

/**
 * The DefinitionSubstitutions placeholders compiled ASL may contain (`${Name}`), and what each
 * becomes. CDK fills them with `definitionSubstitutions`; everything else (the catalog's publish, the
 * deployed-journey resource) with `fillAslPlaceholders`.
 */
export interface AslSubstitutions {
  /** The step Lambda's ARN. */
  StepFunctionArn: string;
}

/** The names of `AslSubstitutions`: a checked-in ASL with any other placeholder cannot be deployed. */
export const aslSubstitutionNames = [
  'StepFunctionArn',
] as const satisfies readonly (keyof AslSubstitutions)[];

// biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder, not a JS template
export const STEP_FUNCTION_PLACEHOLDER = '${StepFunctionArn}';

const placeholderPattern = /\$\{([A-Za-z0-9_]+)\}/g;

/** The `${Name}` placeholders an ASL document refers to, each once, in order of appearance. */
export function aslPlaceholders(asl: string): string[] {
  return [...new Set([...asl.matchAll(placeholderPattern)].map((match) => match[1]!))];
}

/**
 * ASL (JSON text, or the document, e.g. an `AslDefinition`) as JSON text with its placeholders
 * filled; a placeholder not in `values` is left as it is.
 */
export function fillAslPlaceholders(asl: string | object, values: AslSubstitutions): string {
  const text = typeof asl === 'string' ? asl : JSON.stringify(asl);
  const byName: Record<string, string> = { ...values };
  return text.replace(placeholderPattern, (whole, name: string) => byName[name] ?? whole);
}

/** Name of the Fail state every failure route ends in. Helper state names contain a `.`; node ids never do. */
export const FAILED_STATE = 'journey.failed';

/** Error names a step may throw to be retried with backoff (besides the Lambda service errors). */
export const RETRYABLE_STEP_ERRORS = [
  'TransientStepError',
  'ThrottlingException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
];

/** Lambda service and throttling errors: always safe to retry (steps are idempotent per execution and node). */
export const lambdaRetry: AslRetrier = {
  ErrorEquals: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'Lambda.ClientExecutionTimeoutException',
  ],
  IntervalSeconds: 1,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 30,
  JitterStrategy: 'FULL',
};

export const transientRetry: AslRetrier = {
  ErrorEquals: RETRYABLE_STEP_ERRORS,
  IntervalSeconds: 2,
  MaxAttempts: 5,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: 'FULL',
};

/** A step that hung (TimeoutSeconds) is retried twice; waitFor never retries its timeout: that is its else path. */
export const timeoutRetry: AslRetrier = {
  ErrorEquals: ['States.Timeout'],
  IntervalSeconds: 1,
  MaxAttempts: 2,
  BackoffRate: 2,
};

/** Seconds a step Lambda call may take before it counts as hung. */
export const DEFAULT_STEP_TIMEOUT_SECONDS = 60;

export function failedStateName(nodeId: string): string {
  return `${nodeId}.failed`;
}

export interface StepTaskOptions {
  journeyId: string;
  nodeId: string;
  nodeType: string;
  /** Where to go next; omitted for the exit node (End). */
  next?: string;
  /** Fields the Task keeps in `$.last` besides `nodeId` (e.g. `"next.$": "$.Payload.next"`). */
  result?: Record<string, unknown>;
  timeoutSeconds?: number;
  /** Extra retriers tried before the shared ones (e.g. webhook retries). */
  retry?: AslRetrier[];
  /** Extra catchers tried before the failure route (e.g. waitFor's States.Timeout → else). */
  catch?: Record<string, unknown>[];
  /** waitFor: `.waitForTaskToken` integration, no timeout retry. */
  waitForTaskToken?: boolean;
}

/** The payload every step call carries (the contract in shared/journeys/README.md). */
function stepPayload(options: {
  journeyId: string;
  nodeId: string;
  nodeType: string;
  action: 'run' | 'fail';
}) {
  return {
    journeyId: options.journeyId,
    'version.$': '$.version',
    nodeId: options.nodeId,
    nodeType: options.nodeType,
    action: options.action,
    'execution.$': '$$.Execution.Id',
    'input.$': '$',
  };
}

/** What a step Task keeps of its result, in `$.last`. A waitFor result is the SendTaskSuccess output: ignored. */
function resultSelector(options: StepTaskOptions): Record<string, unknown> {
  if (options.waitForTaskToken) return { nodeId: options.nodeId, ...options.result };
  return { nodeId: options.nodeId, 'outcome.$': '$.Payload.outcome', ...options.result };
}

/**
 * A Task calling the step Lambda for one node. Its result goes to `$.last` (`{ nodeId, outcome, next … }`),
 * which the next step receives in `input.last`: that is how the runtime records node transitions.
 */
export function stepTask(options: StepTaskOptions): AslState {
  const payload: Record<string, unknown> = stepPayload({ ...options, action: 'run' });
  if (options.waitForTaskToken) payload['taskToken.$'] = '$$.Task.Token';
  const retry = [...(options.retry ?? []), lambdaRetry, transientRetry];
  if (!options.waitForTaskToken) retry.push(timeoutRetry);
  return {
    Type: 'Task',
    Resource: options.waitForTaskToken
      ? 'arn:aws:states:::lambda:invoke.waitForTaskToken'
      : 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: STEP_FUNCTION_PLACEHOLDER, Payload: payload },
    ...(options.next === undefined ? {} : { ResultSelector: resultSelector(options) }),
    ResultPath: options.next === undefined ? null : '$.last',
    TimeoutSeconds: options.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT_SECONDS,
    Retry: retry,
    Catch: [
      ...(options.catch ?? []),
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: failedStateName(options.nodeId) },
    ],
    ...(options.next === undefined ? { End: true } : { Next: options.next }),
  };
}

/**
 * The failure route of a node: one more step call (`action: "fail"`, with `$.error`) so the runtime
 * counts the failure and clears the customer's presence, then the Fail state so the execution shows FAILED.
 */
export function failureStates(options: {
  journeyId: string;
  nodeId: string;
  nodeType: string;
}): Record<string, AslState> {
  return {
    [failedStateName(options.nodeId)]: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: STEP_FUNCTION_PLACEHOLDER,
        Payload: { ...stepPayload({ ...options, action: 'fail' }), 'error.$': '$.error' },
      },
      ResultPath: null,
      TimeoutSeconds: DEFAULT_STEP_TIMEOUT_SECONDS,
      Retry: [lambdaRetry, transientRetry, timeoutRetry],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.recordError', Next: FAILED_STATE }],
      Next: FAILED_STATE,
    },
  };
}

/** The states of a node that is one step Task: the Task (named after the node) and its failure route. */
export function stepStates(options: StepTaskOptions): Record<string, AslState> {
  return { [options.nodeId]: stepTask(options), ...failureStates(options) };
}
