import middy from '@middy/core';
import { withUnsubscribeSecret } from '../../shared/channels/unsubscribe.js';
import type { StepResult } from '../../shared/journeys/execution.js';
import { stepRequestSchema } from '../../shared/journeys/step.js';
import { createRuntime, type Runtime } from '../../shared/runtime/runtime.js';
import { runStep } from '../../shared/runtime/step.js';

/**
 * The Step Functions task Lambda: one journey node for one customer (contract: shared/journeys/README.md).
 * Errors propagate with their name, which the state machine's Retry/Catch match on.
 */
let runtime: Runtime | undefined;

export const handler = middy<unknown, StepResult>().handler(async (event) => {
  // The unsubscribe secret is read once per container (Secrets Manager on AWS), never from plain env.
  runtime ??= createRuntime({ role: 'step', env: await withUnsubscribeSecret(process.env) });
  return runStep(stepRequestSchema.parse(event), runtime.step);
});
