import { stepAnalytics } from '../analytics/record.js';
import { isoAt } from '../clock.js';
import { NotFoundError } from '../errors.js';
import { executionNameOf, type StepResult } from '../journeys/execution.js';
import { isHeldOut } from '../journeys/graph.js';
import { type JourneyNode, nodeModule } from '../journeys/nodes/index.js';
import type { StepContext } from '../journeys/nodes/types.js';
import type { StepRequest } from '../journeys/step.js';
import { createLogger } from '../log.js';
import { entryProperties } from './entry-data.js';
import { nodeDeps, type PendingWrites, type StepDeps } from './node-deps.js';
import { stepDeltas } from './stats.js';
import type { TimelineEntry } from './timeline-store.js';

export type { ProfileAccess, StepDeps } from './node-deps.js';

/**
 * The step Lambda's work (functions/step/handler.ts is the adapter): load the journey version and the
 * customer, run the node's step from shared/journeys/nodes with real dependencies (node-deps.ts), and
 * record what happened in ONE request (`RuntimeStore.writeStep`): per-node counters on a stats shard
 * (stats.ts), a timeline entry, and the node's own change (presence removed, task token stored,
 * message `sent`, see shared/messaging/gateway.ts).
 */

/**
 * Why a node failed, from the error the state machine caught: its name and, for a Lambda error, the
 * message in its Cause (`{"errorType","errorMessage"}`), e.g. `WebhookError: webhook request failed:
 * connection refused (ECONNREFUSED)`. Cut to 300 characters.
 */
export function failureReason(error: StepRequest['error']): string {
  const name = error?.Error ?? 'failed';
  let message: string | undefined;
  try {
    const cause = JSON.parse(error?.Cause ?? '') as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    if (error?.Cause) message = error.Cause;
  }
  return (message && message !== name ? `${name}: ${message}` : name).slice(0, 300);
}

export async function runStep(request: StepRequest, deps: StepDeps): Promise<StepResult> {
  const log = (deps.log ?? createLogger({ component: 'step' })).child({
    execution: executionNameOf(request.execution),
    nodeId: request.nodeId,
  });
  const executionName = executionNameOf(request.execution);
  const journey = await deps.getJourneyVersion(request.journeyId, request.version);
  if (!journey) throw new NotFoundError(`journey ${request.journeyId} v${request.version} is not published`);
  const node = journey.nodes[request.nodeId];
  if (!node)
    throw new NotFoundError(`journey ${request.journeyId} v${request.version} has no node ${request.nodeId}`);

  const module = nodeModule(node.type);
  const running = request.action === 'run';
  const read = running && module.needsProfile(node);
  // The entry's properties are not in the input (entry-data.ts): read, beside the profile, only
  // for a node that uses them and when the entry had any.
  const readEntry = running && request.input.entry.stored === true && (module.readsEntry?.(node) ?? true);
  const [found, kept] = await Promise.all([
    read ? deps.profiles.getProfile(request.input.profileId) : undefined,
    readEntry ? deps.store.readEntryProperties(executionName) : undefined,
  ]);
  const { stored: _stored, ...trigger } = request.input.entry;
  const state = { ...request.input, entry: { ...trigger, properties: entryProperties(trigger, kept) } };
  const profile = found || { profileId: state.profileId, traits: {} };
  const now = deps.clock.now();

  // Writes the node asked for (a sent message's status, a waitFor's token), made with the step's own.
  const pending: PendingWrites = {};
  let result: StepResult;
  if (request.action === 'fail') {
    result = { outcome: 'failed', next: null, reason: failureReason(request.error) };
    log.warn('journey step failed', {
      error: request.error?.Error,
      cause: request.error?.Cause?.slice(0, 300),
    });
  } else {
    const context: StepContext<JourneyNode> = {
      journeyId: request.journeyId,
      version: request.version,
      nodeId: request.nodeId,
      node,
      executionName,
      state,
      profile,
      now,
      heldOut: isHeldOut(journey, state),
      ...(request.taskToken && { taskToken: request.taskToken }),
    };
    const run = module.run;
    if (!run) throw new Error(`node type ${node.type} does not run in the step`);
    result = await run(context, nodeDeps(request, deps, executionName, profile, pending));
  }

  const finished = request.action === 'fail' || node.type === 'exit';
  const entry: TimelineEntry = {
    profileId: profile.profileId,
    at: isoAt(deps.clock),
    kind: module.channel && result.outcome === 'sent' ? 'message' : 'journey-step',
    journeyId: request.journeyId,
    journeyVersion: request.version,
    executionName,
    nodeId: request.nodeId,
    nodeType: node.type,
    outcome: result.outcome,
    ...(result.reason && { detail: result.detail ? `${result.reason}: ${result.detail}` : result.reason }),
    ...(result.messageId && { messageId: result.messageId }),
  };
  // Transition record; at an exit or failure the trail's counters (one Query of its timeline).
  const analytics = await stepAnalytics(deps.analytics, journey, {
    journeyId: request.journeyId,
    version: request.version,
    executionName,
    nodeId: request.nodeId,
    outcome: result.outcome,
    state,
    profileId: profile.profileId,
    ...(finished && { ending: request.action === 'fail' ? ('failed' as const) : ('exit' as const) }),
    now,
  });
  // One request: counters, timeline entry, and the presence / message change (RuntimeStore.writeStep).
  const written = deps.store.writeStep({
    analytics,
    journeyId: request.journeyId,
    deltas: stepDeltas(journey, request, result),
    timeline: entry,
    ...(finished
      ? {
          presence: {
            remove: {
              profileId: profile.profileId,
              executionName,
              entryData: request.input.entry.stored === true,
            },
          },
        }
      : pending.waiting && { presence: { setWaiting: pending.waiting } }),
    ...(pending.message && { message: pending.message }),
  });
  await written.catch(async (error) => {
    // The step is retried, but the email is not sent again: record `sent` (with SES's id) on its own.
    if (pending.message) {
      await deps.store.updateMessage(pending.message.key, pending.message.change).catch(() => undefined);
    }
    throw error;
  });
  log.info('journey step', {
    nodeType: node.type,
    outcome: result.outcome,
    ...(result.reason && { reason: result.reason }),
  });
  return result;
}
