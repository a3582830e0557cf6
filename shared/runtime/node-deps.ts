import type { AnalyticsReader } from '../analytics/store.js';
import type { EmailSender } from '../channels/email.js';
import type { Clock } from '../clock.js';
import { NotFoundError } from '../errors.js';
import { stableHash } from '../ids.js';
import type { TemplateVariables } from '../journeys/nodes/email.js';
import { type JourneyNode, nodeModule } from '../journeys/nodes/index.js';
import type { StepProfile } from '../journeys/nodes/types.js';
import type { TaskTokenWait } from '../journeys/nodes/waitFor.js';
import type { Journey } from '../journeys/schema.js';
import type { StepRequest } from '../journeys/step.js';
import type { Logger } from '../log.js';
import { type EmailTemplate, renderEmail } from '../templates/render.js';
import { sendOnce } from './send-once.js';
import type { RuntimeStore, StepWrite } from './store.js';
import type { PresenceRecord, WaitingFor } from './types.js';

/**
 * What the step needs from the rest of Cairn (`StepDeps`), and the dependencies each node type's run
 * step gets from them (`nodeDeps`): rendering, sending once, updating traits, storing a task token.
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
  /** The signed link that unsubscribes a profile from one message (`CAIRN_UNSUBSCRIBE_URL?p=<id>&t=<token>&e=<execution>&n=<node>`). */
  unsubscribeUrl(profileId: string, message: { executionName: string; nodeId: string }): string;
  isInSegment?(profileId: string, segmentId: string): Promise<boolean>;
  /** Reads an ending execution's timeline entries for its analytics trail (shared/analytics); none: no trail counters. */
  analytics?: Pick<AnalyticsReader, 'executionEntries'>;
  log?: Logger;
}

/** Writes a node's step asks for, left to the step's one final request (`RuntimeStore.writeStep`). */
export interface PendingWrites {
  message?: NonNullable<StepWrite['message']>;
  waiting?: { presence: Omit<PresenceRecord, 'waiting'>; waiting: WaitingFor };
}

/** The dependencies every node type's run step takes, in one object. */
export function nodeDeps(
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
      const { messageId, sent } = await sendOnce(
        {
          profileId: profile.profileId,
          executionName,
          nodeId: request.nodeId,
          journeyId: request.journeyId,
          journeyVersion: request.version,
          templateId: nodeModule(node.type).templates?.(node)[0] ?? '',
          message,
        },
        deps,
      );
      if (sent) pending.message = sent;
      return { messageId };
    },

    async saveTaskToken(wait: TaskTokenWait) {
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
