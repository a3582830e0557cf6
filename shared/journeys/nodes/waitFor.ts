/**
 * `waitFor`: pause until an event arrives for the customer (then), or the timeout passes (else).
 * One `.waitForTaskToken` Task: the step stores the token, ingest calls SendTaskSuccess when a
 * matching event arrives; TimeoutSeconds → States.Timeout → a Pass noting the timeout → else.
 */
import * as z from 'zod';
import { matchesPattern } from '../../patterns/index.js';
import { failureStates, stepTask } from '../asl.js';
import { durationSeconds } from '../duration.js';
import type { StepResult } from '../execution.js';
import { duration, eventName, eventPattern, nodeId, propertyAt, propertyPath } from '../fields.js';
import { linkTo, type NodeModule, type StepContext } from './types.js';

export const waitForNodeSchema = z
  .strictObject({
    type: z.literal('waitFor'),
    event: eventName.describe('Name of the awaited track event.'),
    where: eventPattern.optional().describe('Pattern the awaited message must also match.'),
    match: z
      .array(propertyPath)
      .min(1)
      .optional()
      .describe('Properties that must be equal in the entry event and the awaited event (e.g. cartId).'),
    timeout: duration.describe('How long to wait before taking `else`.'),
    // biome-ignore lint/suspicious/noThenProperty: `then` is the journey format's field, never awaited
    then: nodeId.describe('Where to go when the event arrives.'),
    else: nodeId.describe('Where to go when the timeout passes first.'),
  })
  .describe('Wait for an event, with a timeout.');
export type WaitForNode = z.infer<typeof waitForNodeSchema>;

/** What ingest needs to recognise the awaited event; `match` holds the entry's values of the match keys. */
export interface AwaitedEvent {
  event: string;
  where?: Record<string, unknown>;
  match: Record<string, unknown>;
}

export function awaitedEventOf(node: WaitForNode, entryProperties: Record<string, unknown>): AwaitedEvent {
  const match: Record<string, unknown> = {};
  for (const key of node.match ?? []) match[key] = propertyAt(entryProperties, key) ?? null;
  return { event: node.event, ...(node.where ? { where: node.where } : {}), match };
}

/** Whether a tracked message is the awaited one. A match key missing from the entry never matches. */
export function awaitedEventMatches(
  awaited: AwaitedEvent,
  message: { event?: string; properties?: Record<string, unknown> } & Record<string, unknown>,
): boolean {
  if (message.event !== awaited.event) return false;
  for (const [key, expected] of Object.entries(awaited.match)) {
    if (expected === null) return false;
    if (JSON.stringify(propertyAt(message.properties, key)) !== JSON.stringify(expected)) return false;
  }
  return awaited.where ? matchesPattern(awaited.where, message) : true;
}

/** A waiting customer's task token and the event it waits for, until `expiresAt` (epoch ms). */
export interface TaskTokenWait {
  taskToken: string;
  executionName: string;
  profileId: string;
  journeyId: string;
  version: number;
  nodeId: string;
  awaited: AwaitedEvent;
  expiresAt: number;
}

export interface WaitForDeps {
  /** Stores the token until `expiresAt` so ingest can resume the execution. */
  saveTaskToken(wait: TaskTokenWait): Promise<void>;
}

export async function runWaitFor(step: StepContext<WaitForNode>, deps: WaitForDeps): Promise<StepResult> {
  if (!step.taskToken) throw new Error(`waitFor node ${step.nodeId} was called without a task token`);
  await deps.saveTaskToken({
    taskToken: step.taskToken,
    executionName: step.executionName,
    profileId: step.profile.profileId,
    journeyId: step.journeyId,
    version: step.version,
    nodeId: step.nodeId,
    awaited: awaitedEventOf(step.node, step.state.entry.properties),
    expiresAt: step.now + durationSeconds(step.node.timeout) * 1000,
  });
  return { outcome: 'waiting', next: null };
}

export function timeoutStateName(nodeId: string): string {
  return `${nodeId}.timeout`;
}

export const waitForNode: NodeModule<WaitForNode, WaitForDeps> = {
  type: 'waitFor',
  schema: waitForNodeSchema,
  links: (node) => [...linkTo(['then'], node.then), ...linkTo(['else'], node.else)],
  pauses: true,
  callsStep: () => true,
  // The token is stored under the surviving profile id after a merge.
  needsProfile: () => true,
  // For the entry's values of the `match` keys.
  readsEntry: (node) => (node.match?.length ?? 0) > 0,
  stats: { counters: ['resumed', 'timedOut'] },
  compile: (id, node, { journeyId }) => ({
    [id]: stepTask({
      journeyId,
      nodeId: id,
      nodeType: 'waitFor',
      next: node.then,
      waitForTaskToken: true,
      // SendTaskSuccess's output is not trusted as state: the result is fixed.
      result: { outcome: 'matched', next: node.then },
      timeoutSeconds: durationSeconds(node.timeout),
      catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.last', Next: timeoutStateName(id) }],
    }),
    [timeoutStateName(id)]: {
      Type: 'Pass',
      Result: { nodeId: id, outcome: 'timedOut', next: node.else },
      ResultPath: '$.last',
      Next: node.else,
    },
    ...failureStates({ journeyId, nodeId: id, nodeType: 'waitFor' }),
  }),
  run: runWaitFor,
};
