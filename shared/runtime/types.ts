import type { JourneyEntryRules } from '../catalog/active.js';
import type { NormalizedMessage } from '../events/normalize.js';
import type { Journey } from '../journeys/schema.js';
import type { Profile } from '../profiles/model.js';

/**
 * The runtime's ports: what the reactor and the step need from the rest of Cairn, each an interface
 * with a DynamoDB / Step Functions adapter (store.ts, executions.ts) and in-memory fakes (memory.ts).
 */

/**
 * An event as the reactor sees it: the fields of a normalised Segment message (ingest's, or Cairn's
 * own `Segment Entered` / `Segment Exited`, shared/segments/wiring.ts) that entry, goals, exits and
 * waits read.
 */
export type RuntimeEvent = Pick<NormalizedMessage, 'type' | 'messageId'> &
  Partial<
    Pick<
      NormalizedMessage,
      'event' | 'userId' | 'anonymousId' | 'properties' | 'traits' | 'context' | 'timestamp'
    >
  >;

/**
 * The profile as the reactor needs it: its id and, when the caller has them, the journey items
 * (`S#…`) the profile store reads with the profile in one Query (the reactor then reads nothing).
 */
export type RuntimeProfile = Pick<Profile, 'profileId'> & Partial<Pick<Profile, 'presence'>>;

/** Where a journey's definition comes from: the catalog (shared/catalog) in production. */
export interface JourneySource {
  /** Published, non-archived journeys with their current version (paused ones too: they still stop/resume). */
  listActiveJourneys(): Promise<JourneyEntryRules[]>;
  /** One journey's current published version, or undefined (never published / unknown). */
  getJourney(journeyId: string): Promise<JourneyEntryRules | undefined>;
  /** The catalog's change stamp (CatalogStore.catalogStamp): when it moves, the active journeys changed. */
  catalogStamp?(): Promise<number>;
  /** One published version's definition (versions never change, so callers may cache it). */
  getVersion(journeyId: string, version: number): Promise<Journey | undefined>;
}

/** One execution a profile is in, and what it waits for: item `P#<profileId>` / `S#<executionName>`. */
export interface PresenceRecord {
  profileId: string;
  executionName: string;
  executionArn?: string;
  journeyId: string;
  version: number;
  /** Epoch ms. */
  enteredAt: number;
  triggerMessageId: string;
  /** The journey's goal as of the entry, its `within` turned into a deadline (epoch ms). */
  goal?: Omit<NonNullable<Journey['goal']>, 'within'> & { until?: number };
  /** The journey's exit events as of the entry. */
  exitOn?: Journey['exitOn'];
  waiting?: WaitingFor;
  /** The entry's properties are kept beside the execution (entry-data.ts): a stop deletes them. */
  entryData?: true;
}

/** A `waitFor` step in progress: the task token and what resumes it. */
export interface WaitingFor {
  nodeId: string;
  event: string;
  where?: Record<string, unknown>;
  /** Property values the awaited event must carry (from the trigger event, by `match` key). */
  match?: Record<string, unknown>;
  token: string;
  /** Epoch ms. */
  since: number;
  /** Epoch ms: when the waitFor times out (the token is useless after). */
  expiresAt?: number;
}

/** Per-profile, per-journey entry history: item `P#<profileId>` / `S#entry#<journeyId>`. */
export interface EntryRecord {
  profileId: string;
  journeyId: string;
  lastEnteredAt: number;
  lastExecution: string;
  entries: number;
  /**
   * Per broadcast (by id), the run and slot that last entered the profile, `<runKey> <slotId>`: a
   * run enters a customer at most once, even on another version after a republish (EntryRun).
   */
  runs?: Record<string, string>;
}

/**
 * An entry that belongs to a run of a broadcast (`scope` = the broadcast id): the entry record keeps
 * `mark` (`<key> <slot>`) for the scope, and a later entry of the same run (or an earlier run) is
 * refused unless it is the same execution (a retry of the same start).
 */
export interface EntryRun {
  scope: string;
  key: string;
  mark: string;
}

/** What the reactor reads with the profile (one Query): presence and entry records. */
export interface ProfileJourneyState {
  presence: PresenceRecord[];
  entries: EntryRecord[];
}

export type StatCounter =
  | 'entered'
  | 'completed'
  | 'waiting'
  | 'failed'
  | 'skipped'
  | 'sent'
  | 'delivered'
  | 'bounced'
  | 'complained'
  | 'opened'
  | 'clicked'
  /** Unsubscribes through the node's messages (once per message). */
  | 'unsubscribed'
  | 'resumed'
  | 'timedOut'
  /** Stopped while in the node (goal, exit event, removal, erasure). */
  | 'exited';

/** One counter change: per node (`nodeId`), per split branch (`branch`), or journey-wide (`nodeId` absent). */
export interface StatDelta {
  nodeId?: string;
  counter:
    | StatCounter
    | `branch:${string}`
    /** Message nodes: skipped / held by the gateway's reason; SMS parts; holds. */
    | `skipped:${string}`
    | `held:${string}`
    | 'held'
    | 'parts'
    | 'started'
    | 'conversions'
    | 'exited'
    | 'finished'
    | 'removed'
    | 'erased'
    | 'refused';
  by?: number;
}

/** Starts, resumes and stops executions: Step Functions. */
export interface ExecutionService {
  /** Starts one; resolves `started: false` when an execution with this name already exists. */
  start(input: {
    stateMachineArn: string;
    name: string;
    input: unknown;
  }): Promise<{ executionArn: string; started: boolean }>;
  /** Resolves false when the token is no longer valid (execution ended, timed out, already resumed). */
  sendTaskSuccess(token: string, output: unknown): Promise<boolean>;
  /** Resolves false when the execution is not running any more. */
  stop(executionArn: string, cause: string): Promise<boolean>;
  /**
   * Whether the execution is running (DescribeExecution): asked only when a start found the name
   * taken, so a redelivered trigger of an ended execution leaves nothing behind (entry.ts).
   */
  isRunning(executionArn: string): Promise<boolean>;
  /**
   * The states the execution entered since its last step (a Task state), oldest first, and that
   * step's state name (undefined: none since the start): one history read, when available.
   */
  trail?(executionArn: string): Promise<{ lastStep?: string; states: string[] } | undefined>;
  /** The ARN of an execution from its state machine ARN and name (no request). */
  executionArn(stateMachineArn: string, name: string): string;
}
