/**
 * What every message node shares (`email`, `sms`, `push`): the template, the `category` and `topic`
 * the send gateway applies the messaging policy by, `sendAt: best`, the compiled states, and the run
 * step that hands the message to the gateway (shared/messaging/gateway.ts). A channel's node module
 * is `messageNodeModule(<channel>, schema)`: adding a channel adds its module and a registry line.
 *
 * Compiled: the step Task `<id>`, then a Choice `<id>.sent` that leads elsewhere only when the
 * gateway held the message (quiet hours `hold`, or `sendAt: best`): the Wait `<id>.hold` until
 * `$.last.until`, then the Task again, which sends (or holds or skips) it then. No Lambda waits.
 * Common path: 2 transitions.
 */
import * as z from 'zod';
import { idSchema } from '../../ids.js';
import { messageCategories } from '../../messaging/policy.js';
import type { SendTimeRule } from '../../messaging/send-time.js';
import { type AslState, failureStates, stepTask } from '../asl.js';
import { durationSeconds } from '../duration.js';
import type { StepResult } from '../execution.js';
import { duration, nodeId, timeOfDay } from '../fields.js';
import { linkTo, type MessageChannel, type NodeModule, type StepContext } from './types.js';
import { formatTimestamp } from './wait.js';

const sendAtSchema = z
  .union([
    z.literal('best'),
    z.strictObject({
      best: z.literal(true),
      within: duration
        .default('P1D')
        .describe('The longest the message may wait for the best time (default P1D, at most P7D).'),
      default: timeOfDay
        .optional()
        .describe('Local time of day (HH:MM) used when the customer has no opens or clicks yet.'),
    }),
  ])
  .describe(
    '`best`: send at the hour of day this customer opened or clicked most (their own history, in their ' +
      '`timezone`), within `within` (default P1D); no history: at `default`, else now.',
  );

/** The fields of a message node, besides `type` and the channel's own. */
function messageFields<C extends MessageChannel>(channel: C) {
  return {
    type: z.literal(channel),
    template: idSchema('template').describe(
      `Id of a ${channel} template (\`PUT /templates/{id}\`, or statemachines/templates/<id>.template.yaml). ` +
        'Liquid sees: `profile` = the traits flattened, plus `profileId`, `userId` and `anonymousId` (first of each), ' +
        '`computed`, `stage`, `scores` ({{ profile.firstName }}); `event` = the trigger event’s properties, the ' +
        'enrollment `context`, or for a broadcast `{ broadcastId, runAt }` ({{ event.cartId }}); ' +
        '`journey` = { id, version }; `unsubscribe_url`.' +
        (channel === 'email' ? ' Output is HTML-escaped in `html`.' : ''),
    ),
    category: z
      .enum(messageCategories)
      .default('marketing')
      .describe(
        '`marketing` (default) passes the messaging policy: consent and unsubscribes, quiet hours, frequency ' +
          'caps. `transactional` (a receipt, a reset link) bypasses those; never an address that bounced or opted out.',
      ),
    topic: idSchema('topic')
      .optional()
      .describe(
        'A topic of the messaging policy (`topics`); customers unsubscribed from it get nothing. Refused at ' +
          'save and publish when the policy does not list it.',
      ),
    sendAt: sendAtSchema.optional(),
    next: nodeId,
  };
}

const maxSendWithinSeconds = 7 * 86_400;

/** A message node's schema for one channel. */
export function messageNodeSchema<C extends MessageChannel>(channel: C, description: string) {
  return z.strictObject(messageFields(channel)).describe(description);
}

/** A message node as the run step sees it (any channel). */
export type MessageNode = z.infer<ReturnType<typeof messageNodeSchema<MessageChannel>>>;

/** What templates see. `event` is the entry event's properties. */
export interface TemplateVariables {
  profile: Record<string, unknown> & { profileId: string };
  event: Record<string, unknown>;
  journey: { id: string; version: number };
  unsubscribe_url: string;
}

/** One message for the gateway, as the node asks for it. */
export interface MessageToSend {
  channel: MessageChannel;
  template: string;
  category: MessageNode['category'];
  topic?: string;
  heldOut: boolean;
  /** Wait for the customer's best time first (absent when the message was held once already). */
  sendAt?: SendTimeRule;
}

/** What the gateway decided (shared/messaging/gateway.ts `GatewayOutcome`). */
export type SendOutcome =
  | { outcome: 'sent'; messageId: string; parts?: number; recipients?: number }
  | { outcome: 'skipped'; reason: string; detail?: string }
  | { outcome: 'held'; until: string; reason: string };

export interface MessageDeps {
  /** Renders the template with these variables and sends it through the gateway. */
  sendMessage(message: MessageToSend, variables: TemplateVariables): Promise<SendOutcome>;
  /**
   * The signed unsubscribe link naming the message it is sent in (an unsubscribe counts for its
   * node); with a topic, the link's one-click unsubscribes from that topic.
   */
  unsubscribeUrl(
    profileId: string,
    message: { executionName: string; nodeId: string },
    topic?: string,
  ): string;
}

/** `sendAt` with its defaults applied. */
export function sendTimeRule(sendAt: NonNullable<MessageNode['sendAt']>): SendTimeRule {
  if (sendAt === 'best') return { within: 'P1D' };
  return { within: sendAt.within, ...(sendAt.default && { default: sendAt.default }) };
}

/** Whether this step runs the node again after a hold (the Wait state looped back to its Task). */
export function resumedFromHold(step: Pick<StepContext<unknown>, 'nodeId' | 'state'>): boolean {
  const last = step.state.last;
  return last?.nodeId === step.nodeId && last.outcome === 'held';
}

export async function runMessage(step: StepContext<MessageNode>, deps: MessageDeps): Promise<StepResult> {
  const { node } = step;
  const resumed = resumedFromHold(step);
  const outcome = await deps.sendMessage(
    {
      channel: node.type,
      template: node.template,
      category: node.category,
      ...(node.topic !== undefined && { topic: node.topic }),
      heldOut: step.heldOut,
      ...(node.sendAt !== undefined && !resumed && { sendAt: sendTimeRule(node.sendAt) }),
    },
    {
      // Traits flattened; computed traits, stage and scores under their own names (README.md, "Template context").
      profile: {
        ...step.profile.traits,
        computed: step.profile.computed ?? {},
        stage: step.profile.stage ?? null,
        scores: step.profile.scores ?? {},
        profileId: step.profile.profileId,
      },
      event: step.state.entry.properties,
      journey: { id: step.journeyId, version: step.version },
      unsubscribe_url: deps.unsubscribeUrl(
        step.profile.profileId,
        { executionName: step.executionName, nodeId: step.nodeId },
        node.topic,
      ),
    },
  );
  // `until` is always there: the Task keeps it in `$.last` (a missing path fails the ResultSelector).
  const now = formatTimestamp(step.now);
  const next = node.next;
  if (outcome.outcome === 'held')
    return {
      outcome: 'held',
      reason: outcome.reason,
      next,
      until: formatTimestamp(Date.parse(outcome.until)),
    };
  if (outcome.outcome === 'skipped')
    return {
      outcome: 'skipped',
      reason: outcome.reason,
      ...(outcome.detail && { detail: outcome.detail }),
      next,
      until: now,
    };
  return {
    outcome: 'sent',
    messageId: outcome.messageId,
    ...(outcome.parts !== undefined && { parts: outcome.parts }),
    next,
    until: now,
  };
}

/** The Wait a held message sleeps in. */
export function holdStateName(nodeId: string): string {
  return `${nodeId}.hold`;
}

function sentChoiceName(nodeId: string): string {
  return `${nodeId}.sent`;
}

function compileMessage(
  id: string,
  node: MessageNode,
  { journeyId }: { journeyId: string },
): Record<string, AslState> {
  return {
    [id]: stepTask({
      journeyId,
      nodeId: id,
      nodeType: node.type,
      next: sentChoiceName(id),
      result: { next: node.next, 'until.$': '$.Payload.until' },
    }),
    [sentChoiceName(id)]: {
      Type: 'Choice',
      Choices: [{ Variable: '$.last.outcome', StringEquals: 'held', Next: holdStateName(id) }],
      Default: node.next,
    },
    [holdStateName(id)]: { Type: 'Wait', TimestampPath: '$.last.until', Next: id },
    ...failureStates({ journeyId, nodeId: id, nodeType: node.type }),
  };
}

/** Counters `GET /journeys/{id}/stats` shows for every message node (skippedBy/heldBy come with them). */
export const messageCounters = [
  'sent',
  'held',
  'delivered',
  'bounced',
  'complained',
  'opened',
  'clicked',
  'unsubscribed',
] as const;

/** The node module of one channel's message node. */
export function messageNodeModule<N extends MessageNode>(
  channel: N['type'],
  schema: z.ZodType<N>,
  extraCounters: readonly string[] = [],
): NodeModule<N, MessageDeps> {
  return {
    type: channel,
    schema,
    links: (node) => linkTo(['next'], node.next),
    pauses: false,
    callsStep: () => true,
    // For the address, consent and time-zone traits.
    needsProfile: () => true,
    channel,
    templates: (node) => [node.template],
    stats: { counters: [...messageCounters, ...extraCounters] },
    check(node, context) {
      const issues = [];
      if (context.templateExists && !context.templateExists(node.template)) {
        issues.push({ path: ['template'], message: `unknown template '${node.template}'` });
      } else {
        const templateChannel = context.templateChannel?.(node.template);
        if (templateChannel !== undefined && templateChannel !== channel)
          issues.push({
            path: ['template'],
            message: `template '${node.template}' is a ${templateChannel} template; a ${channel} node needs a ${channel} template`,
          });
      }
      if (node.topic !== undefined && context.topicExists && !context.topicExists(node.topic))
        issues.push({
          path: ['topic'],
          message: `unknown topic '${node.topic}': add it to the messaging policy's topics (PUT /messaging/policy) first`,
        });
      if (
        node.sendAt !== undefined &&
        typeof node.sendAt === 'object' &&
        durationSeconds(node.sendAt.within) > maxSendWithinSeconds
      )
        issues.push({ path: ['sendAt', 'within'], message: 'must be at most P7D' });
      return issues;
    },
    compile: (id, node, context) => compileMessage(id, node, context),
    run: runMessage,
  };
}
