import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { NormalizedMessage } from '../events/normalize.js';
import { stableHash } from '../ids.js';
import { profileFromItem } from '../profiles/dynamodb.js';
import type { ProfileRecord } from '../profiles/model.js';
import { exponentialBackoff, retrying } from '../retry.js';
import { notErased } from '../runtime/erased.js';
import { cancellationReasons, deleteAll, queryAll } from '../store/dynamodb.js';
import { eventPrefix, profilePk, profileSortKey } from '../store/keys.js';
import {
  defaultMembersLimit,
  type MembersPage,
  maxMembersLimit,
  type SegmentMembership,
  type SegmentState,
} from './port.js';
import type {
  MembershipState,
  PendingChange,
  ProfileSegmentsRead,
  SegmentRecord,
  SegmentStore,
} from './store.js';

/**
 * Segments in DynamoDB (docs/data-model.md):
 *
 * Profiles table, in the profile's own partition, so ONE Query reads the profile, its recent events
 * and every (profile, segment) item together:
 *   membership  P#<profileId>  SEG#<segmentId>  inSegment, since?, dueAt?, pendingEntered?, pendingExited?
 *               (a change not yet told to journeys: its time; cleared once told)  + sparse index attributes:
 *     memberOf = <segmentId>, memberId = <profileId>  (members only)  → index `segment-members`
 *     dueShard = DUE#<n>, dueAt = <ISO time>          (timers only)   → index `segment-due`
 *   An item exists while the profile is a member, has a window timer or a change not yet told.
 *
 * Journeys table:
 *   definition  SEGMENTS        <segmentId>   definition, status, revision, progress
 *   count       SEGMENT#<id>    COUNT#<n>     n (sharded: entries and exits ADD ±1 in their transaction)
 */
type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

export const segmentSortKey = (segmentId: string) => `SEG#${segmentId}`;
const definitionsPk = 'SEGMENTS';
const countPk = (segmentId: string) => `SEGMENT#${segmentId}`;
export const countShards = 8;
export const dueShards = 8;
const shardOf = (profileId: string, shards: number) =>
  Buffer.from(stableHash(profileId), 'base64url').readUInt16BE(0) % shards;

export interface DynamoSegmentStoreOptions {
  client: DynamoDBDocumentClient;
  profilesTable: string;
  journeysTable: string;
}

export class DynamoSegmentStore implements SegmentStore, SegmentMembership {
  private readonly client: DynamoDBDocumentClient;
  private readonly profiles: string;
  private readonly journeys: string;

  constructor(options: DynamoSegmentStoreOptions) {
    this.client = options.client;
    this.profiles = options.profilesTable;
    this.journeys = options.journeysTable;
  }

  // ---- the membership port -------------------------------------------------------------------

  async listMembers(segmentId: string, page: { limit?: number; cursor?: string } = {}): Promise<MembersPage> {
    const limit = Math.min(Math.max(1, Math.floor(page.limit ?? defaultMembersLimit)), maxMembersLimit);
    const after = page.cursor ? decodeCursor(page.cursor) : undefined;
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.profiles,
        IndexName: 'segment-members',
        KeyConditionExpression: after ? 'memberOf = :s AND memberId > :after' : 'memberOf = :s',
        ExpressionAttributeValues: { ':s': segmentId, ...(after && { ':after': after }) },
        Limit: limit,
      }),
    );
    const members = (out.Items ?? []).map((item) => ({
      profileId: String(item.memberId),
      since: String(item.since),
    }));
    const last = members.at(-1);
    return { members, next: out.LastEvaluatedKey && last ? encodeCursor(last.profileId) : null };
  }

  async isMember(segmentId: string, profileId: string): Promise<boolean> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.profiles,
        Key: { pk: profilePk(profileId), sk: segmentSortKey(segmentId) },
        ProjectionExpression: 'inSegment',
      }),
    );
    return out.Item?.inSegment === true;
  }

  async status(segmentId: string): Promise<SegmentState | undefined> {
    const [record, count] = await Promise.all([this.getSegment(segmentId), this.countOf(segmentId)]);
    if (!record) return undefined;
    return {
      status: record.status,
      count,
      ...(record.status === 'building' && { progress: { evaluated: record.progress?.evaluated ?? 0 } }),
    };
  }

  // ---- definitions -----------------------------------------------------------------------------

  async listSegments(): Promise<SegmentRecord[]> {
    const items = await this.queryAll({
      TableName: this.journeys,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': definitionsPk },
    });
    return items.map(recordFromItem);
  }

  async getSegment(segmentId: string): Promise<SegmentRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.journeys,
        Key: { pk: definitionsPk, sk: segmentId },
        ConsistentRead: true,
      }),
    );
    return out.Item ? recordFromItem(out.Item) : undefined;
  }

  async saveSegment(record: SegmentRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.journeys,
        Item: { pk: definitionsPk, sk: record.id, ...record, definition: JSON.stringify(record.definition) },
      }),
    );
  }

  async setProgress(
    segmentId: string,
    revision: number,
    progress: { status: SegmentRecord['status']; evaluated: number; cursor?: string },
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.journeys,
          Key: { pk: definitionsPk, sk: segmentId },
          UpdateExpression: 'SET #status = :status, progress = :progress',
          ConditionExpression: 'revision = :revision',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': progress.status,
            ':progress': {
              evaluated: progress.evaluated,
              ...(progress.cursor && { cursor: progress.cursor }),
            },
            ':revision': revision,
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async deleteSegment(segmentId: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.journeys, Key: { pk: definitionsPk, sk: segmentId } }),
    );
  }

  async countOf(segmentId: string): Promise<number> {
    const items = await this.queryAll({
      TableName: this.journeys,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': countPk(segmentId) },
    });
    return items.reduce((sum, item) => sum + Number(item.n ?? 0), 0);
  }

  // ---- per profile -----------------------------------------------------------------------------

  /**
   * One Query of the profile's partition: from the first event at or after `historySince` (or from
   * the profile item when no history is needed) to the last segment item.
   */
  async readProfile(profileId: string, historySince?: string | null): Promise<ProfileSegmentsRead> {
    const from =
      historySince === undefined || historySince === null ? profileSortKey : `${eventPrefix}${historySince}`;
    const items = await this.queryAll({
      TableName: this.profiles,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': profilePk(profileId), ':from': from, ':to': 'SEG#\uffff' },
      ConsistentRead: true,
    });
    let profile: ProfileRecord | null = null;
    const events: NormalizedMessage[] = [];
    const states = new Map<string, MembershipState>();
    for (const item of items) {
      const sk = String(item.sk);
      if (sk === profileSortKey) profile = profileFromItem(item);
      else if (sk.startsWith(eventPrefix)) events.push(JSON.parse(String(item.message)) as NormalizedMessage);
      else if (sk.startsWith('SEG#')) {
        const segmentId = sk.slice(4);
        states.set(segmentId, {
          segmentId,
          member: item.inSegment === true,
          ...(typeof item.since === 'string' && { since: item.since }),
          ...(typeof item.dueAt === 'string' && { dueAt: item.dueAt }),
          ...((typeof item.pendingEntered === 'string' || typeof item.pendingExited === 'string') && {
            pending: {
              ...(typeof item.pendingEntered === 'string' && { entered: item.pendingEntered }),
              ...(typeof item.pendingExited === 'string' && { exited: item.pendingExited }),
            },
          }),
        });
      }
    }
    return { profile, events, states };
  }

  /**
   * Enters the profile (if not already in) and counts it, in one transaction. False: it already was.
   * With `pending`, the entry is marked not yet told (`pendingEntered` = since) and the timer is set
   * no later than `retryAt`, so an entry whose journeys were never told is told by the timer.
   */
  async enter(
    segmentId: string,
    profileId: string,
    since: string,
    dueAt?: string,
    pending?: PendingChange,
  ): Promise<boolean> {
    const timer = earliest(dueAt, pending?.retryAt);
    return this.transition(segmentId, profileId, +1, {
      Update: {
        TableName: this.profiles,
        Key: { pk: profilePk(profileId), sk: segmentSortKey(segmentId) },
        UpdateExpression: `SET inSegment = :true, since = :since, memberOf = :seg, memberId = :pid${pending ? ', pendingEntered = :since' : ''}${timer ? ', dueAt = :due, dueShard = :shard' : ' REMOVE dueAt, dueShard'}`,
        ConditionExpression: 'attribute_not_exists(inSegment) OR inSegment = :false',
        ExpressionAttributeValues: {
          ':true': true,
          ':false': false,
          ':since': since,
          ':seg': segmentId,
          ':pid': profileId,
          ...(timer && { ':due': timer, ':shard': dueShardOf(profileId) }),
        },
      },
    });
  }

  /**
   * Takes the profile out (if in) and counts it, in one transaction. False: it was not a member.
   * With `pending`, the item stays with the exit marked not yet told (`pendingExited` = at).
   */
  async exit(
    segmentId: string,
    profileId: string,
    dueAt?: string,
    pending?: PendingChange & { at: string },
  ): Promise<boolean> {
    const key = { pk: profilePk(profileId), sk: segmentSortKey(segmentId) };
    const timer = earliest(dueAt, pending?.retryAt);
    return this.transition(
      segmentId,
      profileId,
      -1,
      timer
        ? {
            Update: {
              TableName: this.profiles,
              Key: key,
              UpdateExpression: `SET inSegment = :false, dueAt = :due, dueShard = :shard${pending ? ', pendingExited = :at' : ''} REMOVE since, memberOf, memberId`,
              ConditionExpression: 'inSegment = :true',
              ExpressionAttributeValues: {
                ':true': true,
                ':false': false,
                ':due': timer,
                ':shard': dueShardOf(profileId),
                ...(pending && { ':at': pending.at }),
              },
            },
          }
        : {
            Delete: {
              TableName: this.profiles,
              Key: key,
              ConditionExpression: 'inSegment = :true',
              ExpressionAttributeValues: { ':true': true },
            },
          },
    );
  }

  /**
   * Clears the pending mark of a change that was told (only that change: a newer one keeps its
   * mark), with the window timer in the same write; an item left with nothing to keep is deleted.
   */
  async settle(
    segmentId: string,
    profileId: string,
    told: { kind: 'entered' | 'exited'; at: string; member: boolean; dueAt?: string | null },
  ): Promise<void> {
    const key = { pk: profilePk(profileId), sk: segmentSortKey(segmentId) };
    const [mark, other] =
      told.kind === 'entered' ? ['pendingEntered', 'pendingExited'] : ['pendingExited', 'pendingEntered'];
    if (!told.member && told.dueAt === null) {
      try {
        await this.client.send(
          new DeleteCommand({
            TableName: this.profiles,
            Key: key,
            ConditionExpression: `${mark} = :at AND attribute_not_exists(${other}) AND (attribute_not_exists(inSegment) OR inSegment = :false)`,
            ExpressionAttributeValues: { ':at': told.at, ':false': false },
          }),
        );
        return;
      } catch (error) {
        ignoreConditionFailure(error);
      }
    }
    const set = typeof told.dueAt === 'string' ? ' SET dueAt = :due, dueShard = :shard' : '';
    const remove = told.dueAt === null ? `${mark}, dueAt, dueShard` : mark;
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.profiles,
          Key: key,
          UpdateExpression: `${set} REMOVE ${remove}`.trim(),
          ConditionExpression: `${mark} = :at`,
          ExpressionAttributeValues: {
            ':at': told.at,
            ...(typeof told.dueAt === 'string' && { ':due': told.dueAt, ':shard': dueShardOf(profileId) }),
          },
        }),
      )
      .catch(ignoreConditionFailure);
  }

  /**
   * Sets (or clears) the window timer of a (profile, segment) without changing membership. Setting
   * one never puts an item back under an erased profile: the erasure tombstone is checked in the same
   * transaction (one request, as the Update was; +1 item), and a refused timer returns false. Clearing
   * one only touches an item that exists (an Update of a missing key would create it).
   */
  async setDue(
    segmentId: string,
    profileId: string,
    dueAt: string | undefined,
    member: boolean,
  ): Promise<boolean> {
    const key = { pk: profilePk(profileId), sk: segmentSortKey(segmentId) };
    if (!dueAt) {
      await this.client
        .send(
          member
            ? new UpdateCommand({
                TableName: this.profiles,
                Key: key,
                UpdateExpression: 'REMOVE dueAt, dueShard',
                ConditionExpression: `attribute_exists(pk) AND ${notPending}`,
              })
            : new DeleteCommand({
                TableName: this.profiles,
                Key: key,
                ConditionExpression: `(attribute_not_exists(inSegment) OR inSegment = :false) AND ${notPending}`,
                ExpressionAttributeValues: { ':false': false },
              }),
        )
        .catch(ignoreConditionFailure);
      return true;
    }
    return this.transact([
      {
        Update: {
          TableName: this.profiles,
          Key: key,
          UpdateExpression:
            'SET dueAt = :due, dueShard = :shard, inSegment = if_not_exists(inSegment, :false)',
          ExpressionAttributeValues: { ':due': dueAt, ':shard': dueShardOf(profileId), ':false': false },
        },
      },
      notErased(this.profiles, profileId),
    ]);
  }

  /** (profile, segment) timers due at or before `now`, at most `limit` per shard. */
  async dueTimers(
    now: string,
    limit: number,
  ): Promise<{ segmentId: string; profileId: string; dueAt: string }[]> {
    const items = await this.queryDueShards('dueShard = :shard AND dueAt <= :now', { ':now': now }, limit);
    return items.map((item) => ({
      segmentId: String(item.sk).slice(4),
      profileId: String(item.pk).slice(2),
      dueAt: String(item.dueAt),
    }));
  }

  /** The earliest pending timer, if any (the local stack re-arms its wake-up with it on start). */
  async earliestDue(): Promise<string | undefined> {
    const items = await this.queryDueShards('dueShard = :shard', {}, 1);
    return items.map((item) => String(item.dueAt)).sort()[0];
  }

  /** One Query per shard of the `segment-due` index, all at once: the first `limit` items of each. */
  private async queryDueShards(
    keyCondition: string,
    values: Record<string, unknown>,
    limit: number,
  ): Promise<Record<string, unknown>[]> {
    const pages = await Promise.all(
      Array.from({ length: dueShards }, (_, shard) =>
        this.client.send(
          new QueryCommand({
            TableName: this.profiles,
            IndexName: 'segment-due',
            KeyConditionExpression: keyCondition,
            ExpressionAttributeValues: { ':shard': `DUE#${shard}`, ...values },
            Limit: limit,
          }),
        ),
      ),
    );
    return pages.flatMap((page) => page.Items ?? []);
  }

  /** A page of live profiles (a parallel Scan segment), for backfills. */
  async scanProfiles(page: {
    cursor?: string;
    limit: number;
    segment?: number;
    segments?: number;
  }): Promise<{ profiles: ProfileRecord[]; next: string | null }> {
    const out = await this.client.send(
      new ScanCommand({
        TableName: this.profiles,
        FilterExpression: 'sk = :profile AND attribute_not_exists(mergedInto)',
        ExpressionAttributeValues: { ':profile': profileSortKey },
        Limit: page.limit,
        ...(page.segments && { Segment: page.segment ?? 0, TotalSegments: page.segments }),
        ...(page.cursor && {
          ExclusiveStartKey: JSON.parse(Buffer.from(page.cursor, 'base64url').toString()),
        }),
      }),
    );
    return {
      profiles: (out.Items ?? []).map(profileFromItem),
      next: out.LastEvaluatedKey
        ? Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url')
        : null,
    };
  }

  /** Deletes up to `limit` membership items of a deleted segment and their count; returns how many. */
  async removeMembers(segmentId: string, limit = 500): Promise<number> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.profiles,
        IndexName: 'segment-members',
        KeyConditionExpression: 'memberOf = :s',
        ExpressionAttributeValues: { ':s': segmentId },
        Limit: limit,
      }),
    );
    const keys = (out.Items ?? []).map((item) => ({ pk: item.pk, sk: item.sk }));
    await deleteAll(this.client, this.profiles, keys);
    if (keys.length === 0) {
      const shards = Array.from({ length: countShards }, (_, n) => ({
        DeleteRequest: { Key: { pk: countPk(segmentId), sk: `COUNT#${n}` } },
      }));
      await this.client.send(new BatchWriteCommand({ RequestItems: { [this.journeys]: shards } }));
    }
    return keys.length;
  }

  // ---- internals -------------------------------------------------------------------------------

  private async transition(
    segmentId: string,
    profileId: string,
    by: 1 | -1,
    membership: TransactItems[number],
  ): Promise<boolean> {
    const items: TransactItems = [
      membership,
      {
        Update: {
          TableName: this.journeys,
          Key: { pk: countPk(segmentId), sk: `COUNT#${shardOf(profileId, countShards)}` },
          UpdateExpression: 'ADD n :by',
          ExpressionAttributeValues: { ':by': by },
        },
      },
    ];
    // An entry never puts an item back under an erased profile (its tombstone, shared/profiles/erasure.ts).
    if (by === 1) items.push(notErased(this.profiles, profileId));
    return this.transact(items);
  }

  /**
   * One TransactWriteItems, sent again while it meets other transactions (conflicts); false when a
   * condition refused it (the membership's, or the erasure tombstone's).
   */
  private transact(items: TransactItems): Promise<boolean> {
    return retrying(
      async () => {
        try {
          await this.client.send(new TransactWriteCommand({ TransactItems: items }));
          return true;
        } catch (error) {
          if (cancellationReasons(error)?.includes('ConditionalCheckFailed')) return false;
          throw error;
        }
      },
      {
        attempts: 9,
        retryable: (error) =>
          (error as { name?: string }).name === 'TransactionConflictException' ||
          (cancellationReasons(error)?.includes('TransactionConflict') ?? false),
        backoff: membershipBackoff,
      },
    );
  }

  private queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    return queryAll(this.client, input);
  }
}

/** As ingest's (shared/profiles/ingest.ts): the membership and count items are contended the same way. */
const membershipBackoff = exponentialBackoff({ baseMs: 5, maxMs: 200, jitter: 'full' });

/** An item whose change is not yet told keeps its (retry) timer: settle clears both. */
const notPending = 'attribute_not_exists(pendingEntered) AND attribute_not_exists(pendingExited)';

/** The earlier of two ISO times (either may be missing). */
function earliest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

function dueShardOf(profileId: string): string {
  return `DUE#${shardOf(profileId, dueShards)}`;
}

function ignoreConditionFailure(error: unknown): void {
  if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
}

function recordFromItem(item: Record<string, unknown>): SegmentRecord {
  return {
    id: String(item.sk),
    definition: JSON.parse(String(item.definition)),
    status: item.status === 'building' ? 'building' : 'ready',
    revision: Number(item.revision ?? 1),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    ...(item.progress !== undefined && { progress: item.progress as SegmentRecord['progress'] }),
  } as SegmentRecord;
}

function encodeCursor(profileId: string): string {
  return Buffer.from(profileId, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  return Buffer.from(cursor, 'base64url').toString('utf8');
}
