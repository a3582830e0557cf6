/** The node types, one module each. Adding a type: write its module, add it to both lists below. */
import * as z from 'zod';
import { type BranchNode, branchNode, branchNodeSchema } from './branch.js';
import { type EmailNode, emailNode, emailNodeSchema } from './email.js';
import { type ExitNode, exitNode, exitNodeSchema } from './exit.js';
import { type PushNode, pushNode, pushNodeSchema } from './push.js';
import { type SmsNode, smsNode, smsNodeSchema } from './sms.js';
import { type SplitNode, splitNode, splitNodeSchema } from './split.js';
import type { NodeModule } from './types.js';
import { type UpdateNode, updateNode, updateNodeSchema } from './update.js';
import { type WaitNode, waitNode, waitNodeSchema } from './wait.js';
import { type WaitForNode, waitForNode, waitForNodeSchema } from './waitFor.js';
import { type WebhookNode, webhookNode, webhookNodeSchema } from './webhook.js';

export const journeyNodeSchema = z.discriminatedUnion('type', [
  emailNodeSchema,
  smsNodeSchema,
  pushNodeSchema,
  webhookNodeSchema,
  waitNodeSchema,
  waitForNodeSchema,
  branchNodeSchema,
  splitNodeSchema,
  updateNodeSchema,
  exitNodeSchema,
]);
export type JourneyNode = z.infer<typeof journeyNodeSchema>;
export type NodeType = JourneyNode['type'];

export const nodeModules = {
  email: emailNode,
  sms: smsNode,
  push: pushNode,
  webhook: webhookNode,
  wait: waitNode,
  waitFor: waitForNode,
  branch: branchNode,
  split: splitNode,
  update: updateNode,
  exit: exitNode,
} satisfies { [T in NodeType]: NodeModule<Extract<JourneyNode, { type: T }>, never> };

export const nodeTypes = Object.keys(nodeModules) as NodeType[];

export function isNodeType(type: unknown): type is NodeType {
  return typeof type === 'string' && Object.hasOwn(nodeModules, type);
}

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;
type DepsOf<M> = M extends { run?(step: never, deps: infer D): unknown }
  ? unknown extends D
    ? never
    : D
  : never;

/** What the run steps of every node type take, together: one object serves them all (shared/runtime/node-deps.ts). */
export type NodeDeps = UnionToIntersection<DepsOf<(typeof nodeModules)[NodeType]>>;

/** The module of a node's type, typed loosely so callers can pass any node of the union. */
export function nodeModule(type: NodeType): NodeModule<JourneyNode, NodeDeps> {
  return nodeModules[type] as unknown as NodeModule<JourneyNode, NodeDeps>;
}

export type {
  BranchNode,
  EmailNode,
  ExitNode,
  PushNode,
  SmsNode,
  SplitNode,
  UpdateNode,
  WaitForNode,
  WaitNode,
  WebhookNode,
};
