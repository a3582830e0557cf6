/**
 * What the catalog keeps: journeys (a draft, published versions, a status) and message templates.
 * Layouts in the Journeys table are in README.md next to this file.
 */

export type JourneyStatus = 'draft' | 'active' | 'paused' | 'archived';

import type { Journey } from '../journeys/schema.js';
import type { MessageTemplate } from '../templates/render.js';

/** The published version executions currently start on. */
export interface PublishedVersion {
  version: number;
  /** ARN of the Step Functions state machine version (`…:stateMachine:cairn-x:3`). */
  versionArn: string;
  stateMachineArn: string;
  /** The alias moved to this version (`…:stateMachine:cairn-x:live`), when aliases are used. */
  aliasArn?: string;
  definition: Journey;
  publishedAt: string;
  /** sha-256 of the deployed ASL: a publish that compiles to the same ASL deploys nothing. */
  aslSha256: string;
}

/** One journey's head item: everything `GET /journeys` lists. */
export interface JourneyRecord {
  id: string;
  name?: string;
  status: JourneyStatus;
  /** The last saved draft (validated when saved). */
  draft: Journey;
  draftUpdatedAt: string;
  /** 0 until first published. */
  latestVersion: number;
  published?: PublishedVersion;
  /** The (unversioned) state machine, once created. */
  stateMachineArn?: string;
  createdAt: string;
  updatedAt: string;
  /** Optimistic-concurrency counter: every write checks the revision it read. */
  revision: number;
}

/** One published version, immutable once written. */
export interface JourneyVersionRecord {
  journeyId: string;
  version: number;
  definition: Journey;
  /** The compiled ASL as deployed (after placeholder substitution), JSON text. */
  asl: string;
  versionArn: string;
  stateMachineArn: string;
  publishedAt: string;
}

/** A version without its definition and ASL: what listings need. */
export type JourneyVersionSummary = Pick<
  JourneyVersionRecord,
  'journeyId' | 'version' | 'versionArn' | 'stateMachineArn' | 'publishedAt'
>;

/** A stored template: one channel's fields (shared/templates/render.ts `MessageTemplate`). */
export type TemplateRecord = MessageTemplate & {
  id: string;
  createdAt: string;
  updatedAt: string;
  revision: number;
};

/** Persistence the catalog needs; DynamoCatalogStore is the real one. */
export interface CatalogStore {
  getJourney(id: string): Promise<JourneyRecord | undefined>;
  /** Every journey head, archived ones included (one Query in DynamoDB). */
  listJourneys(): Promise<JourneyRecord[]>;
  /**
   * Writes a journey head if nobody else wrote it since `expectedRevision` was read (undefined: it
   * must not exist yet). Throws ConflictError otherwise. `statusChanged`: the write changes what runs
   * (pause, resume, archive), so the change stamp moves; a draft save leaves it.
   */
  saveJourney(
    record: JourneyRecord,
    expectedRevision: number | undefined,
    options?: { statusChanged?: boolean },
  ): Promise<void>;
  /**
   * Writes a new version and the head that points at it, atomically; ConflictError on a race.
   * `expectedRevision` undefined: the head must not exist yet.
   */
  savePublished(
    head: JourneyRecord,
    expectedRevision: number | undefined,
    version: JourneyVersionRecord,
  ): Promise<void>;
  getVersion(journeyId: string, version: number): Promise<JourneyVersionRecord | undefined>;
  /** Versions newest first, without definitions and ASL. */
  listVersions(journeyId: string): Promise<JourneyVersionSummary[]>;
  getTemplate(id: string): Promise<TemplateRecord | undefined>;
  listTemplates(): Promise<TemplateRecord[]>;
  saveTemplate(record: TemplateRecord): Promise<void>;
  /**
   * The catalog's change stamp: it moves on every publish and status change (not on draft saves). The
   * runtime reads it to know when its cached active journeys are stale, in any process (one GetItem).
   */
  catalogStamp(): Promise<number>;
}
