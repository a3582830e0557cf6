import { EmailSendError, type EmailSender } from '../channels/email.js';
import type { Clock } from '../clock.js';
import { isoAt } from '../clock.js';
import { NotFoundError } from '../errors.js';
import { stableHash } from '../ids.js';
import { isHeldOut, walkWithoutSteps } from '../journeys/graph.js';
import type { TemplateVariables } from '../journeys/nodes/email.js';
import { type JourneyNode, nodeModule } from '../journeys/nodes/index.js';
import type { StepContext, StepProfile } from '../journeys/nodes/types.js';
import type { Journey } from '../journeys/schema.js';
import { executionNameOf, type StepRequest, type StepResult, TransientStepError } from '../journeys/step.js';
import { createLogger, type Logger } from '../log.js';
import { type EmailTemplate, renderEmail } from '../templates/render.js';
import type { RuntimeStore, StepWrite, TimelineEntry } from './store.js';
import type { PresenceRecord, StatDelta, WaitingFor } from './types.js';

/**
 * The step Lambda's work (functions/step/handler.ts is the adapter): load the journey version and the
 * customer, run the node's step from shared/journeys/nodes with real dependencies, and record what
 * happened in ONE request (`RuntimeStore.writeStep`): per-node counters on a stats shard, a timeline
 * entry, and the node's own change (presence removed, task token stored, message `sent`).
 *
 * Transitions through nodes that never call the step (waits for a duration, splits) are counted
 * here too, from `input.last` and `walkWithoutSteps`: entering them when the step before routes to
 * them, leaving them when the next step runs.
 */

export interface ProfileAccess {
  /** The profile, following merges to the surviving one; undefined when erased. */
  getProfile(profileId: string): Promise<StepProfile | undefined>;
  /** Applies an `update` node's change once per `origin.messageId` (a retried step changes nothing twice). */
  updateTraits(
    profileId: string,
    change: { set: Record<string, unknown>; increment: Record<string, number> },
    origin: { messageId: string; journeyId: string; nodeId: string; executionName: string },
  ): Promise<void>;
}

export interface StepDeps {
  /** A published version's definition (versions are immutable: cached for good). */
  getJourneyVersion(journeyId: string, version: number): Promise<Journey | undefined>;
  getTemplate(templateId: string): Promise<EmailTemplate | undefined>;
  profiles: ProfileAccess;
  store: RuntimeStore;
  email: EmailSender;
  fetch: typeof fetch;
  clock: Clock;
  /** The signed link that unsubscribes a profile (`CAIRN_UNSUBSCRIBE_URL?p=<id>&t=<token>`). */
  unsubscribeUrl(profileId: string): string;
  isInSegment?(profileId: string, segmentId: string): Promise<boolean>;
  log?: Logger;
}

/**
 * Whether a node's step reads the profile (one Query): for traits (email, a branch case on traits, a
 * wait until in the profile's time zone) or for the surviving profile id after a merge (a waitFor
 * stores its token under it, a segment is asked by it). The others act on the execution's profile id.
 */
export function needsProfile(node: JourneyNode): boolean {
  switch (node.type) {
    case 'email':
    case 'waitFor':
      return true;
    case 'wait':
      return node.until !== undefined && (node.until.timezone ?? 'profile') === 'profile';
    case 'branch':
      return node.cases.some((c) => c.when.traits !== undefined || c.when.segment !== undefined);
    default:
      return false;
  }
}

/** Outcomes during which the customer stays in the node (the execution waits there). */
const waitingOutcomes = new Set(['waiting', 'scheduled']);
/**
 * Whether the step before counted the nodes between it and this one. It did not when the customer
 * waited in it: a wait-until (`scheduled`), or a waitFor whose `$.last` the ASL fixes on resume
 * (`matched`) or timeout (`timedOut`). A branch that returns `matched` did count them.
 */
function stepBeforeCounted(journey: Journey, last: NonNullable<StepRequest['input']['last']>): boolean {
  if (last.outcome === 'scheduled') return false;
  const waitedForEvent = journey.nodes[last.nodeId]?.type === 'waitFor';
  return !(waitedForEvent && (last.outcome === 'matched' || last.outcome === 'timedOut'));
}

/** The counter changes for one step call, including the nodes passed without a step. */
export function stepDeltas(
  journey: Journey,
  request: Pick<StepRequest, 'nodeId' | 'action' | 'input'>,
  result: StepResult,
): StatDelta[] {
  const deltas: StatDelta[] = [];
  const profileId = request.input.profileId;
  const last = request.input.last;
  // Leaving the node the customer waited in before this step (a resumed waitFor is counted by the reactor).
  if (last?.outcome === 'scheduled') {
    deltas.push(
      { nodeId: last.nodeId, counter: 'waiting', by: -1 },
      { nodeId: last.nodeId, counter: 'completed' },
    );
  }
  if (last?.outcome === 'timedOut') {
    deltas.push(
      { nodeId: last.nodeId, counter: 'waiting', by: -1 },
      { nodeId: last.nodeId, counter: 'timedOut' },
      { nodeId: last.nodeId, counter: 'completed' },
    );
  }
  // Nodes passed without a step since the last one.
  const from = last ? (last.next ?? undefined) : journey.start;
  if (from !== undefined && from !== request.nodeId) {
    // The start (reactor) counted the nodes before the first step; the step before counted the others.
    const countedBefore = last === undefined || stepBeforeCounted(journey, last);
    for (const passed of walkWithoutSteps(journey, from, profileId).passed) {
      if (countedBefore) {
        if (passed.type === 'wait') {
          deltas.push(
            { nodeId: passed.nodeId, counter: 'waiting', by: -1 },
            { nodeId: passed.nodeId, counter: 'completed' },
          );
        }
        continue;
      }
      deltas.push(
        { nodeId: passed.nodeId, counter: 'entered' },
        { nodeId: passed.nodeId, counter: 'completed' },
      );
      if (passed.branchIndex !== undefined)
        deltas.push({ nodeId: passed.nodeId, counter: `branch:${passed.branchIndex}` });
    }
  }
  // This node.
  const nodeId = request.nodeId;
  if (request.action === 'fail') {
    deltas.push({ nodeId, counter: 'failed' }, { counter: 'failed' });
    return deltas;
  }
  deltas.push({ nodeId, counter: 'entered' });
  if (waitingOutcomes.has(result.outcome)) deltas.push({ nodeId, counter: 'waiting' });
  else deltas.push({ nodeId, counter: 'completed' });
  if (result.outcome === 'skipped') deltas.push({ nodeId, counter: 'skipped' });
  if (result.outcome === 'sent') deltas.push({ nodeId, counter: 'sent' });
  if (result.outcome === 'rejected') deltas.push({ nodeId, counter: 'failed' });
  if (result.outcome === 'matched') deltas.push({ nodeId, counter: `branch:${result.caseIndex ?? 0}` });
  if (result.outcome === 'default') deltas.push({ nodeId, counter: 'branch:default' });
  if (journey.nodes[nodeId]?.type === 'exit') deltas.push({ counter: 'finished' });
  // Nodes the customer goes into next without a step: entering them now (leaving them at the next step).
  if (result.next && !waitingOutcomes.has(result.outcome)) {
    deltas.push(...enteringDeltas(journey, result.next, profileId));
  }
  return deltas;
}

/**
 * Entering the nodes a customer goes into from `from` without a step (waits for a duration,
 * splits): a wait is entered and waited in, a split entered, passed and its branch counted.
 * Leaving a wait is counted by the next step. Used by the step and by the journey start.
 */
export function enteringDeltas(journey: Journey, from: string, profileId: string): StatDelta[] {
  const deltas: StatDelta[] = [];
  for (const passed of walkWithoutSteps(journey, from, profileId).passed) {
    deltas.push({ nodeId: passed.nodeId, counter: 'entered' });
    deltas.push({ nodeId: passed.nodeId, counter: passed.type === 'wait' ? 'waiting' : 'completed' });
    if (passed.branchIndex !== undefined)
      deltas.push({ nodeId: passed.nodeId, counter: `branch:${passed.branchIndex}` });
  }
  return deltas;
}

/** The message id Cairn gives a send: stable per (execution, node), so retries and feedback agree. */
export function messageIdFor(executionName: string, nodeId: string): string {
  return `msg-${stableHash(executionName, nodeId).slice(0, 22)}`;
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

  const state = request.input;
  const read = request.action === 'run' && needsProfile(node);
  const profile = (read && (await deps.profiles.getProfile(state.profileId))) || {
    profileId: state.profileId,
    traits: {},
  };
  const now = deps.clock.now();

  // Writes the node asked for (a sent message's status, a waitFor's token), made with the step's own.
  const pending: PendingWrites = {};
  let result: StepResult;
  if (request.action === 'fail') {
    result = { outcome: 'failed', next: null, reason: request.error?.Error ?? 'failed' };
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
    const run = nodeModule(node.type).run;
    if (!run) throw new Error(`node type ${node.type} does not run in the step`);
    result = await run(context, nodeDeps(request, deps, executionName, profile, node, pending) as never);
  }

  const finished = request.action === 'fail' || node.type === 'exit';
  const entry: TimelineEntry = {
    profileId: profile.profileId,
    at: isoAt(deps.clock),
    kind: node.type === 'email' && result.outcome === 'sent' ? 'message' : 'journey-step',
    journeyId: request.journeyId,
    journeyVersion: request.version,
    executionName,
    nodeId: request.nodeId,
    nodeType: node.type,
    outcome: result.outcome,
    ...(result.reason && { detail: result.reason }),
    ...(result.messageId && { messageId: result.messageId }),
  };
  // One request: counters, timeline entry, and the presence / message change (RuntimeStore.writeStep).
  const written = deps.store.writeStep({
    journeyId: request.journeyId,
    deltas: stepDeltas(journey, request, result),
    timeline: entry,
    ...(finished
      ? { presence: { remove: { profileId: profile.profileId, executionName } } }
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

/** Writes a node's step asks for, left to the step's one final request (`RuntimeStore.writeStep`). */
interface PendingWrites {
  message?: NonNullable<StepWrite['message']>;
  waiting?: { presence: Omit<PresenceRecord, 'waiting'>; waiting: WaitingFor };
}

/** The dependencies every node type's run step takes, in one object. */
function nodeDeps(
  request: StepRequest,
  deps: StepDeps,
  executionName: string,
  profile: StepProfile,
  node: JourneyNode,
  pending: PendingWrites,
) {
  return {
    fetch: deps.fetch,
    isInSegment: deps.isInSegment,
    unsubscribeUrl: deps.unsubscribeUrl,
    updateTraits: (
      profileId: string,
      change: { set: Record<string, unknown>; increment: Record<string, number> },
    ) =>
      deps.profiles.updateTraits(profileId, change, {
        messageId: `journey-update-${stableHash(executionName, request.nodeId).slice(0, 22)}`,
        journeyId: request.journeyId,
        nodeId: request.nodeId,
        executionName,
      }),

    async renderTemplate(templateId: string, variables: TemplateVariables) {
      const template = await deps.getTemplate(templateId);
      if (!template) throw new NotFoundError(`template ${templateId} does not exist`);
      return renderEmail(template, {
        ...variables,
        profile: { ...variables.profile, ...identityFields(profile) },
      });
    },

    async sendEmail(message: {
      to: string;
      subject: string;
      html?: string;
      text?: string;
      tags: Record<string, string>;
    }) {
      return sendOnce(
        request,
        deps,
        executionName,
        profile,
        node.type === 'email' ? node.template : '',
        message,
        pending,
      );
    },

    async saveTaskToken(wait: {
      taskToken: string;
      executionName: string;
      profileId: string;
      journeyId: string;
      version: number;
      nodeId: string;
      awaited: { event: string; where?: Record<string, unknown>; match: Record<string, unknown> };
      expiresAt: number;
    }) {
      const entered = request.input.enteredAt ? Date.parse(request.input.enteredAt) : deps.clock.now();
      // Stored with the step's counters and timeline entry, before the step returns (the execution
      // then waits for the token).
      pending.waiting = {
        presence: {
          profileId: wait.profileId,
          executionName: wait.executionName,
          journeyId: wait.journeyId,
          version: wait.version,
          enteredAt: entered,
          triggerMessageId: request.input.entry.messageId ?? '',
        },
        waiting: {
          nodeId: wait.nodeId,
          event: wait.awaited.event,
          ...(wait.awaited.where && { where: wait.awaited.where }),
          match: wait.awaited.match,
          token: wait.taskToken,
          since: deps.clock.now(),
          expiresAt: wait.expiresAt,
        },
      };
    },
  };
}

function identityFields(profile: StepProfile): Record<string, unknown> {
  const identities = (profile as StepProfile & { identities?: Record<string, string[]> }).identities;
  return {
    profileId: profile.profileId,
    ...(identities?.userId?.[0] && { userId: identities.userId[0] }),
    ...(identities?.anonymousId?.[0] && { anonymousId: identities.anonymousId[0] }),
  };
}

/**
 * Sends at most once per (execution, node): a conditional put of the message record before sending,
 * its status after. A retry finds the record and returns the first send's id. A send that failed in
 * a way worth retrying leaves the record in `retry`, which the next attempt may claim again. A crash
 * between the send and the status update leaves `sending`: the retry then does not send again
 * (at most once: a lost email is better than a duplicate).
 */
async function sendOnce(
  request: StepRequest,
  deps: StepDeps,
  executionName: string,
  profile: StepProfile,
  templateId: string,
  message: { to: string; subject: string; html?: string; text?: string; tags: Record<string, string> },
  pending: PendingWrites,
): Promise<{ messageId: string }> {
  const at = isoAt(deps.clock);
  const key = { executionName, nodeId: request.nodeId };
  const messageId = messageIdFor(executionName, request.nodeId);
  const claimed = await deps.store.claimMessage({
    profileId: profile.profileId,
    executionName,
    nodeId: request.nodeId,
    journeyId: request.journeyId,
    journeyVersion: request.version,
    messageId,
    channel: 'email',
    templateId,
    status: 'sending',
    subject: message.subject,
    createdAt: at,
    history: [{ status: 'sending', at }],
  });
  if (!claimed) {
    const existing = await deps.store.getMessage(executionName, request.nodeId);
    if (existing?.status === 'failed') throw new EmailSendError(existing.reason ?? 'failed', false);
    return { messageId: existing?.providerMessageId ?? messageId };
  }
  try {
    const { providerMessageId } = await deps.email.send({
      to: message.to,
      subject: message.subject,
      ...(message.html !== undefined && { html: message.html }),
      ...(message.text !== undefined && { text: message.text }),
      tags: { ...message.tags, execution: executionName },
      unsubscribeUrl: deps.unsubscribeUrl(profile.profileId),
    });
    // `sent` is recorded with the step's counters and timeline entry (one request). Until then the
    // record says `sending`, which a retry never sends again.
    pending.message = {
      key,
      change: { status: 'sent', at: isoAt(deps.clock), providerMessageId, ifStatusIn: ['sending', 'retry'] },
    };
    return { messageId: providerMessageId || messageId };
  } catch (error) {
    if (error instanceof EmailSendError) {
      await deps.store.updateMessage(key, {
        status: error.retryable ? 'retry' : 'failed',
        at: isoAt(deps.clock),
        reason: error.reason,
        detail: error.reason,
      });
      if (error.retryable) throw new TransientStepError(`email send failed: ${error.reason}`);
    }
    throw error;
  }
}
