/**
 * What a journey execution carries and what a node's step returns: the part of the step contract
 * (README.md, "Step contract") that node modules use. It imports no node module, so nodes can import
 * it without a cycle; the step Lambda's request, which lists the node types, is in step.ts.
 */
import * as z from 'zod';
import { CairnError } from '../errors.js';

/** What a journey execution is started with (StartExecution `input`). */
export const executionInputSchema = z.object({
  profileId: z.string().min(1),
  journeyId: z.string().min(1),
  version: z.number().int().positive(),
  /**
   * The event that entered the customer (or the enrollment request): ids only. Its properties (the
   * enrollment `context`) are personal data, kept in the Journeys table rather than here, where Step
   * Functions' history would keep them (shared/runtime/entry-data.ts); `stored` says there are some.
   * The step puts them back into `properties` for the nodes that use them.
   */
  entry: z.object({
    event: z.string(),
    messageId: z.string().optional(),
    timestamp: z.string().optional(),
    properties: z.record(z.string(), z.unknown()).default({}),
    stored: z.literal(true).optional(),
    /** Set when a broadcast entered the customer (event `Broadcast`): the plan and its run. */
    broadcastId: z.string().optional(),
    runAt: z.string().optional(),
  }),
  /** When the customer entered (ISO-8601); the goal window counts from here. */
  enteredAt: z.string().optional(),
});
export type ExecutionInput = z.infer<typeof executionInputSchema>;

/** What the previous node left in `$.last` (set by each step Task and by waitFor's timeout route). */
export const lastStepSchema = z.object({
  nodeId: z.string(),
  outcome: z.string(),
  next: z.string().nullable().optional(),
  until: z.string().optional(),
});
export type LastStep = z.infer<typeof lastStepSchema>;

/** Execution state as a step sees it: the input plus what the state machine added on the way. */
export const executionStateSchema = executionInputSchema.extend({
  last: lastStepSchema.optional(),
  /** `splits[<splitNodeId>].hash`: the SHA-256 hex the split's Pass state computed (see `splitBranchIndex`). */
  splits: z.record(z.string(), z.object({ hash: z.string() })).optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type ExecutionState = z.infer<typeof executionStateSchema>;

/** How a node ended for this customer; stats count these per node. */
export type StepOutcome =
  | 'sent'
  | 'skipped'
  /** A message held by the gateway (quiet hours, `sendAt: best`): the execution sleeps until `until`. */
  | 'held'
  | 'delivered'
  | 'rejected'
  | 'scheduled'
  | 'waiting'
  | 'matched'
  | 'timedOut'
  | 'default'
  | 'updated'
  | 'completed'
  | 'failed';

/**
 * What the step Lambda returns. The Task keeps `outcome` (always required) and, for branch, `next`,
 * for wait-until, `until`; the rest is for the runtime's own records.
 */
export interface StepResult {
  outcome: StepOutcome;
  /** The node the customer goes to; null at an exit. For branch it decides the Choice. */
  next: string | null;
  /**
   * wait (until), and held messages: the instant to wait for, RFC 3339 in UTC without fractions
   * (`2026-03-02T09:00:00Z`). Message nodes always return it (now, when not held).
   */
  until?: string;
  /**
   * Why the node was skipped or held: messages `no_address`, `unsubscribed`, `no_consent`,
   * `quiet_hours`, `frequency_cap`, `suppressed`, `holdout`; held `quiet_hours`, `send_time`.
   */
  reason?: string;
  /** A skipped message: the problem in words (`must be E.164 …`, `2 any in P1D (max 2)`). */
  detail?: string;
  /** Message nodes: the message id. */
  messageId?: string;
  /** sms: the parts the text was billed as (GSM-7: 160/153 characters, UCS-2: 70/67). */
  parts?: number;
  /** webhook: the HTTP status of the last attempt. */
  status?: number;
  /** branch: index of the case that matched (absent for default). */
  caseIndex?: number;
}

/** The execution name is the last segment of its ARN. */
export function executionNameOf(executionArn: string): string {
  return executionArn.slice(executionArn.lastIndexOf(':') + 1);
}

/** An error a step throws to have Step Functions retry it with backoff (listed in the Task's Retry). */
export class TransientStepError extends CairnError {
  readonly code = 'transient';
  readonly status = 503;
}
