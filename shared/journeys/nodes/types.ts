/**
 * What one node type provides: its schema, its links to other nodes, its compile step and (for the
 * nodes that run in the step Lambda) the pure part of its run step. Adding a node type = one module
 * here plus a line in index.ts.
 */
import type * as z from 'zod';
import type { Issue } from '../../errors.js';
import type { Profile, ProfileRecord } from '../../profiles/model.js';
import type { AslState } from '../asl.js';
import type { ExecutionState, StepResult } from '../execution.js';

/** A reference from a node to another node, with the path of the field (relative to the node). */
export interface NodeLink {
  path: (string | number)[];
  target: string;
}

export interface CheckContext {
  /** When given, email templates must exist. */
  templateExists?: (templateId: string) => boolean;
  /** When given, segments named by a trigger or a branch case (`when.segment`) must exist. */
  segmentExists?: (segmentId: string) => boolean;
  /** When given, the channel of each known template: a message node needs one of its own channel. */
  templateChannel?: (templateId: string) => MessageChannel | undefined;
  /** When given, a message node's `topic` must be one of the messaging policy's topics. */
  topicExists?: (topic: string) => boolean;
}

export interface CompileContext {
  journeyId: string;
}

/**
 * The customer as a step sees it (loaded once per step by the runtime): the profile's own fields
 * (shared/profiles/model.ts), those a node may read. Its identities give the templates `userId` and
 * `anonymousId`; computed traits, stage and scores are as of the profile's last write; `memberOf`
 * (read with the profile) makes `branch` on segments cost no request; devices are where push sends.
 */
export type StepProfile = Pick<ProfileRecord, 'profileId' | 'traits'> &
  Partial<Pick<Profile, 'identities' | 'computed' | 'stage' | 'scores' | 'memberOf' | 'devices'>>;

/** Everything a node's run step needs to know, independent of Lambda and of AWS. */
export interface StepContext<N> {
  journeyId: string;
  version: number;
  nodeId: string;
  node: N;
  executionName: string;
  state: ExecutionState;
  profile: StepProfile;
  /** Milliseconds since the epoch, from the injected clock. */
  now: number;
  taskToken?: string;
  /** True when the customer is in a split's holdout branch: message nodes send nothing. */
  heldOut: boolean;
}

export interface NodeModule<N extends { type: string }, Deps = unknown> {
  type: N['type'];
  schema: z.ZodType<N>;
  /** Links to other nodes. Works on unvalidated input so graph problems show up next to schema problems. */
  links(node: Record<string, unknown>): NodeLink[];
  /** Time passes in this node (a wait): a cycle through it is not a busy loop. */
  pauses: boolean;
  /**
   * Whether entering the node calls the step Lambda. Nodes that do not (a wait for a duration, a
   * split) are counted by the step after them (shared/runtime/stats.ts).
   */
  callsStep(node: N): boolean;
  /**
   * Whether the run step reads the profile (one Query): for traits, derived values, the profile's
   * time zone, or the surviving profile id after a merge. The others act on the execution's profile id.
   */
  needsProfile(node: N): boolean;
  /**
   * Whether the run step uses the entry's properties (`state.entry.properties`: templates' `event`,
   * `when.properties`, `relativeTo`, `match`, a webhook's body). They are kept out of the execution
   * input (shared/runtime/entry-data.ts), so the runtime reads them for these nodes only (one
   * GetItem, when the entry had any). Absent: yes.
   */
  readsEntry?(node: N): boolean;
  /** The channel a message node sends on; its sends are timeline `message` entries and message records. */
  channel?: MessageChannel;
  /** The templates the node renders (the catalog checks they exist). */
  templates?(node: N): string[];
  /**
   * What `GET /journeys/{id}/stats` shows for the node beyond entered/completed/waiting/failed/skipped:
   * extra counters (shown as 0 until they move), and for nodes that route, the label of each branch
   * counter (`branch:<key>`).
   */
  stats?: { counters?: readonly string[]; branchLabel?(node: N, key: string): string | undefined };
  /** Checks beyond the schema (e.g. template exists), paths relative to the node. */
  check?(node: N, context: CheckContext): Issue[];
  /** The node's states; the first one is named after the node id. */
  compile(nodeId: string, node: N, context: CompileContext): Record<string, AslState>;
  /** The node's work in the step Lambda; absent when the node never calls the step (split). */
  run?(step: StepContext<N>, deps: Deps): Promise<StepResult>;
}

/** The channels message nodes send on. */
export type MessageChannel = 'email' | 'sms' | 'push';

export function linkTo(path: (string | number)[], target: unknown): NodeLink[] {
  return typeof target === 'string' ? [{ path, target }] : [];
}

/**
 * The links of a list of choices (a branch's `cases`, a split's `branches`), each to its `next`.
 * Links are read before the schema has checked the node, so the list may be anything.
 */
export function linksOfEach(list: unknown, field: string): NodeLink[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: unknown, index) =>
    linkTo([field, index, 'next'], (item as { next?: unknown } | null)?.next),
  );
}
