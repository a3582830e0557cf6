/** `email`: render a Liquid template for the customer and send it (once per execution and node). */
import * as z from 'zod';
import { isMailbox } from '../../identity/identifiers.js';
import { idRules } from '../../ids.js';
import { stepStates } from '../asl.js';
import type { StepResult } from '../execution.js';
import { nodeId } from '../fields.js';
import { linkTo, type NodeModule, type StepContext } from './types.js';

export const emailNodeSchema = z
  .strictObject({
    type: z.literal('email'),
    template: z
      .string()
      .regex(idRules.template.pattern, { message: idRules.template.message })
      .describe(
        'Id of the template (`PUT /templates/{id}`, or statemachines/templates/<id>.template.yaml). ' +
          'Liquid sees: `profile` = the traits flattened, plus `profileId`, `userId` and `anonymousId` (first of each), ' +
          '`computed`, `stage`, `scores` ({{ profile.firstName }}); `event` = the trigger event’s properties, or the ' +
          'enrollment `context` ({{ event.cartId }}); `journey` = { id, version }; `unsubscribe_url`. ' +
          'Output is HTML-escaped in `html`.',
      ),
    next: nodeId,
  })
  .describe('Send an email rendered from a template to the profile’s `email` trait.');
export type EmailNode = z.infer<typeof emailNodeSchema>;

/** What templates see. `event` is the entry event's properties. */
export interface TemplateVariables {
  profile: Record<string, unknown> & { profileId: string };
  event: Record<string, unknown>;
  journey: { id: string; version: number };
  unsubscribe_url: string;
}

export interface RenderedEmail {
  subject: string;
  html?: string;
  text?: string;
}

export interface EmailDeps {
  renderTemplate(templateId: string, variables: TemplateVariables): Promise<RenderedEmail>;
  /**
   * Sends once per `idempotencyKey` (`<executionName>/<nodeId>`): a retried step returns the first
   * send's message id instead of sending again.
   */
  sendEmail(
    message: RenderedEmail & { to: string; idempotencyKey: string; tags: Record<string, string> },
  ): Promise<{
    messageId: string;
  }>;
  unsubscribeUrl(profileId: string, message: { executionName: string; nodeId: string }): string;
}

/** Why this customer must not get the email, or undefined when they may. */
export function emailSkipReason(traits: Record<string, unknown>, heldOut: boolean): string | undefined {
  if (heldOut) return 'holdout';
  // One mailbox only: `a@example.com,b@evil.example` would mail two people.
  if (typeof traits.email !== 'string' || !isMailbox(traits.email)) return 'no_email';
  if (traits.unsubscribed === true) return 'unsubscribed';
  const consent = traits.consent as { email?: unknown } | undefined;
  if (traits.emailConsent === false || (typeof consent === 'object' && consent?.email === false))
    return 'no_consent';
  return undefined;
}

export async function runEmail(step: StepContext<EmailNode>, deps: EmailDeps): Promise<StepResult> {
  const next = step.node.next;
  const reason = emailSkipReason(step.profile.traits, step.heldOut);
  if (reason) return { outcome: 'skipped', reason, next };
  const rendered = await deps.renderTemplate(step.node.template, {
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
    unsubscribe_url: deps.unsubscribeUrl(step.profile.profileId, {
      executionName: step.executionName,
      nodeId: step.nodeId,
    }),
  });
  const { messageId } = await deps.sendEmail({
    ...rendered,
    to: step.profile.traits.email as string,
    idempotencyKey: `${step.executionName}/${step.nodeId}`,
    tags: {
      journeyId: step.journeyId,
      journeyVersion: String(step.version),
      nodeId: step.nodeId,
      profileId: step.profile.profileId,
    },
  });
  return { outcome: 'sent', messageId, next };
}

export const emailNode: NodeModule<EmailNode, EmailDeps> = {
  type: 'email',
  schema: emailNodeSchema,
  links: (node) => linkTo(['next'], node.next),
  pauses: false,
  callsStep: () => true,
  // For the address and consent traits.
  needsProfile: () => true,
  channel: 'email',
  templates: (node) => [node.template],
  stats: { counters: ['sent', 'delivered', 'bounced', 'complained', 'opened', 'clicked', 'unsubscribed'] },
  check(node, context) {
    if (context.templateExists && !context.templateExists(node.template)) {
      return [{ path: ['template'], message: `unknown template '${node.template}'` }];
    }
    return [];
  },
  compile: (id, node, { journeyId }) =>
    stepStates({ journeyId, nodeId: id, nodeType: 'email', next: node.next, result: { next: node.next } }),
  run: runEmail,
};
