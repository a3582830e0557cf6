import middy from '@middy/core';
import type { StepResult } from '../../shared/journeys/execution.js';
import { type StepRequest, stepRequestSchema } from '../../shared/journeys/step.js';
import { runStep } from '../../shared/runtime/step.js';
import { edgeLogger } from '../config.js';
import { lambdaLog, parsedEvent } from '../middleware/index.js';
import { createRuntime, type Runtime } from '../runtime/runtime.js';
import { withUnsubscribeSecret } from '../runtime/unsubscribe-secret.js';

/**
 * The Step Functions task Lambda: one journey node for one customer (contract: shared/journeys/README.md).
 * Errors propagate with their name, which the state machine's Retry/Catch match on.
 */
let runtime: Runtime | undefined;

export const handler = middy<unknown, StepResult>()
  .use(
    lambdaLog({
      log: edgeLogger({ component: 'step' }),
      // The execution name: `<journey>-v<version>-<hash>`, no personal data.
      correlationId: (event) =>
        String((event as { execution?: unknown })?.execution ?? '')
          .split(':')
          .at(-1),
      level: 'debug',
    }),
  )
  .use(parsedEvent(stepRequestSchema))
  .handler(async (event) => {
    // The unsubscribe secret is read once per container (Secrets Manager on AWS), never from plain env.
    runtime ??= createRuntime({ role: 'step', env: await withUnsubscribeSecret(process.env) });
    // parsedEvent has replaced the raw event by the parsed request.
    return runStep(event as StepRequest, runtime.step);
  });
