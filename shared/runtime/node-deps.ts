import type { AnalyticsReader } from '../analytics/store.js';
import { type EmailSender, emailChannel } from '../channels/email.js';
import type { Clock } from '../clock.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { stableHash } from '../ids.js';
import type { NodeDeps } from '../journeys/nodes/index.js';
import type { MessageToSend, SendOutcome, TemplateVariables } from '../journeys/nodes/message.js';
import type { MessageChannel, StepProfile } from '../journeys/nodes/types.js';
import type { TaskTokenWait } from '../journeys/nodes/waitFor.js';
import type { Journey } from '../journeys/schema.js';
import type { StepRequest } from '../journeys/step.js';
import type { Logger } from '../log.js';
import type { ChannelAdapter } from '../messaging/channel.js';
import { type MessagingStore, sendThroughGateway } from '../messaging/gateway.js';
import type { MessagingPolicy } from '../messaging/policy.js';
import { chooseSendTime } from '../messaging/send-time.js';
import {
  type EmailTemplate,
  type MessageTemplate,
  type PushTemplate,
  type RenderedEmail,
  type RenderedPush,
  type RenderedSms,
  renderEmail,
  renderPush,
  renderSms,
  type SmsTemplate,
  templateChannel,
} from '../templates/render.js';
import { messageIdFor } from './message-store.js';
import { listMessages } from './queries.js';
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
  getTemplate(templateId: string): Promise<MessageTemplate | undefined>;
  profiles: ProfileAccess;
  store: RuntimeStore;
  email: EmailSender;
  /**
   * The send gateway's store (cap slots, suppressions) and the messaging policy (cached), and the
   * channels besides email; a message node of a channel that is not configured fails.
   */
  messaging: {
    store: MessagingStore;
    policy(): Promise<MessagingPolicy>;
    sms?: ChannelAdapter<RenderedSms>;
    push?: ChannelAdapter<RenderedPush>;
  };
  fetch: typeof fetch;
  clock: Clock;
  /**
   * The signed link that unsubscribes a profile, naming the message it is sent in
   * (`CAIRN_UNSUBSCRIBE_URL?p=<id>&t=<token>&e=<execution>&n=<node>`); with a topic, `&topic=<id>`:
   * its one-click unsubscribes from that topic.
   */
  unsubscribeUrl(
    profileId: string,
    message: { executionName: string; nodeId: string },
    topic?: string,
  ): string;
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
  pending: PendingWrites,
): NodeDeps {
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

    async sendMessage(message: MessageToSend, variables: TemplateVariables): Promise<SendOutcome> {
      const template = await deps.getTemplate(message.template);
      if (!template) throw new NotFoundError(`template ${message.template} does not exist`);
      const found = templateChannel(template);
      if (found !== message.channel)
        throw new ValidationError([
          {
            path: ['template'],
            message: `template ${message.template} is a ${found} template, not ${message.channel}`,
          },
        ]);
      const context = { ...variables, profile: { ...variables.profile, ...identityFields(profile) } };
      const channel = gatewayChannel(deps, message, template, context, {
        profileId: profile.profileId,
        link: { executionName, nodeId: request.nodeId },
      });
      const outcome = await sendThroughGateway(
        {
          channel: message.channel,
          category: message.category,
          ...(message.topic !== undefined && { topic: message.topic }),
          recipient: {
            profileId: profile.profileId,
            traits: profile.traits,
            ...(profile.devices && { devices: profile.devices }),
          },
          heldOut: message.heldOut,
          journeyId: request.journeyId,
          journeyVersion: request.version,
          executionName,
          nodeId: request.nodeId,
          templateId: message.template,
          render: channel.render,
          summary: channel.summary,
          ...(message.sendAt && {
            holdUntil: async () => {
              const choice = chooseSendTime(await engagementsOf(deps, profile.profileId), message.sendAt!, {
                now: deps.clock.now(),
                timeZone: profile.traits.timezone,
              });
              return choice.at;
            },
          }),
        },
        channel.adapter,
        {
          store: deps.messaging.store,
          messages: deps.store,
          policy: deps.messaging.policy,
          clock: deps.clock,
          messageIdFor,
        },
      );
      // The record's status (sent, held, skipped) goes with the step's one final write.
      const record = outcome.outcome === 'sent' ? outcome.sent : outcome.record;
      if (record) pending.message = record;
      return outcome;
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

/** The adapter, renderer and record summary of a message's channel. */
function gatewayChannel(
  deps: StepDeps,
  message: MessageToSend,
  template: MessageTemplate,
  context: TemplateVariables,
  { profileId, link }: { profileId: string; link: { executionName: string; nodeId: string } },
): {
  adapter: ChannelAdapter<unknown>;
  render(): Promise<unknown>;
  summary(content: unknown): string;
} {
  const channel: MessageChannel = message.channel;
  if (channel === 'email') {
    return {
      adapter: emailChannel(deps.email) as ChannelAdapter<unknown>,
      render: async () => ({
        ...(await renderEmail(template as EmailTemplate, context)),
        // The List-Unsubscribe header (RFC 8058 one-click) goes to the same link as the body's.
        unsubscribeUrl: deps.unsubscribeUrl(profileId, link, message.topic),
      }),
      summary: (content) => (content as RenderedEmail).subject,
    };
  }
  const adapter = channel === 'sms' ? deps.messaging.sms : deps.messaging.push;
  if (!adapter) throw new NotFoundError(`the ${channel} channel is not configured in this deployment`);
  return channel === 'sms'
    ? {
        adapter: adapter as ChannelAdapter<unknown>,
        render: () => renderSms(template as SmsTemplate, context),
        summary: (content) => (content as RenderedSms).text.slice(0, 60),
      }
    : {
        adapter: adapter as ChannelAdapter<unknown>,
        render: () => renderPush(template as PushTemplate, context),
        summary: (content) => (content as RenderedPush).title,
      };
}

/** When the customer opened or clicked messages (epoch ms), from their message history: `sendAt: best`. */
async function engagementsOf(deps: StepDeps, profileId: string): Promise<number[]> {
  const { messages } = await listMessages(deps.store, { profileIds: [profileId] });
  return messages.flatMap((message) =>
    message.history
      .filter((entry) => entry.status === 'opened' || entry.status === 'clicked')
      .map((entry) => Date.parse(entry.at)),
  );
}

function identityFields(profile: StepProfile): Record<string, unknown> {
  const { identities } = profile;
  return {
    profileId: profile.profileId,
    ...(identities?.userId?.[0] && { userId: identities.userId[0] }),
    ...(identities?.anonymousId?.[0] && { anonymousId: identities.anonymousId[0] }),
  };
}
