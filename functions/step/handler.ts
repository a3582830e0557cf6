import middy from '@middy/core';
import type { StepResult } from '../../shared/journeys/execution.js';
import { type StepRequest, stepRequestSchema } from '../../shared/journeys/step.js';
import { runStep, type StepDeps } from '../../shared/runtime/step.js';
import { membershipTrigger, reevaluatingTraitChanges } from '../../shared/segments/wiring.js';
import { edgeLogger } from '../config.js';
import { lambdaLog, parsedEvent } from '../middleware/index.js';
import { createRuntime } from '../runtime/runtime.js';
import { withUnsubscribeSecret } from '../runtime/unsubscribe-secret.js';
import { createSegments } from '../segments/deps.js';

/**
 * The Step Functions task Lambda: one journey node for one customer (contract: shared/journeys/README.md).
 * Errors propagate with their name, which the state machine's Retry/Catch match on.
 */
let deps: StepDeps | undefined;

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
    if (!deps) {
      const runtime = createRuntime({ role: 'step', env: await withUnsubscribeSecret(process.env) });
      // An update node's trait change moves the customer in or out of segments, which may start journeys.
      const engine = createSegments({ role: 'step-segments' }).engine(membershipTrigger(runtime.reactor));
      deps = { ...runtime.step, profiles: reevaluatingTraitChanges(runtime.step.profiles, engine) };
    }
    // parsedEvent has replaced the raw event by the parsed request.
    return runStep(event as StepRequest, deps);
  });
