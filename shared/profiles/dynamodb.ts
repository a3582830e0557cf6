import type { ReturnConsumedCapacity } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock.js';
import { contentHash, dedupeKey } from '../events/fingerprint.js';
import type { NormalizedMessage } from '../events/normalize.js';
import { type Identifier, identifierKey } from '../identity/index.js';
import { exponentialBackoff, resendingUnprocessed, retrying } from '../retry.js';
import { batchWriteAll, cancellationReasons, queryAll, unprocessedBackoff } from '../store/dynamodb.js';
import { eventPrefix, profilePk, profileSortKey, timelinePrefix } from '../store/keys.js';
import type { JourneyItem, Profile, ProfileRecord } from './model.js';
import {
  type CounterIncrement,
  DuplicateMessageError,
  type ErasureCounts,
  eventSortKey,
  MessageIdReusedError,
  type ProfileCommit,
  type ProfileStore,
  ProfileWriteConflict,
  type ReadOptions,
  type StoredEvent,
} from './store.js';

export { eventSortKey };

/**
 * Profiles table layout (docs/data-model.md):
 *   profile    P#<profileId>   PROFILE                   version, profileId, mergedInto?, doc (JSON)
 *   identity   I#<type>#<v>    IDENTITY                  profileId
 *   event      P#<profileId>   E#<timestamp>#<messageId> message (JSON), expiresAt
 *   dedupe     M#<dedupe key>  MESSAGE                   profileId, eventKey, contentHash, expiresAt
 *              (dedupe key: a hash of the sender's userId / anonymousId and the messageId; events/fingerprint.ts)
 *   presence   P#<profileId>   S#<executionName>         (journeys runtime)
 *   timeline   P#<profileId>   JT#<at>#…                 (journeys runtime)
 *   tombstone  P#<profileId>   ERASED                    erasedAt, expiresAt (30 days): late writes check it
 *   (an erasure's mark also sets `erasedAt` on the profile item and bumps its version: see markErased)
 */
/** The sparse index of profiles by the time a derived value changes, sharded so no partition is hot. */
export const profileDueIndex = 'profile-due';
export const profileDueShards = 4;
export function dueShardOf(profileId: string): number {
  let hash = 0;
  for (let i = 0; i < profileId.length; i++) hash = (hash * 31 + profileId.charCodeAt(i)) | 0;
  return Math.abs(hash) % profileDueShards;
}
export const identityPk = (identifier: Identifier) => `I#${identifierKey(identifier)}`;
export const dedupePk = (message: NormalizedMessage) => `M#${dedupeKey(message)}`;
/** The erasure tombstone of a profile: runtime writes under `P#<profileId>` require it to be absent. */
export const erasedKey = (profileId: string) => ({ pk: profilePk(profileId), sk: 'ERASED' });
export const erasedRetentionDays = 30;
/**
 * A transaction item that fails when the profile was erased (its tombstone exists): the journeys
 * runtime's, segments' and messaging's writes under `P#<profileId>` carry it (shared/runtime/erased.ts),
 * so nothing of an erased person is written back after the erasure's scan. +1 item (2 WCU) in a
 * transaction the write already is; no extra request. The profile store's own writes need none:
 * they are conditioned on the profile item's version, which the erasure's mark bumps (markErased).
 */
export function notErasedCheck(tableName: string, profileId: string) {
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: erasedKey(profileId),
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}
/** Sort key prefix of the journeys runtime's items (JourneyItem): its presence and entry records. */
export const presencePrefix = 'S#';
export const presenceKey = (profileId: string, executionName: string) => ({
  pk: profilePk(profileId),
  sk: `${presencePrefix}${executionName}`,
});

export interface DynamoProfileStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  /** Event history retention (TTL), default 365 days. */
  eventRetentionDays?: number;
  /** How long a messageId is remembered for dedupe, default 14 days (the longest SQS retention). */
  dedupeRetentionDays?: number;
  /** `TOTAL` makes every call return ConsumedCapacity (benchmarks); default `NONE`. */
  returnConsumedCapacity?: ReturnConsumedCapacity;
}

const day = 86_400;
/** TransactWriteItems accepts at most 100 items. */
const maxTransactItems = 100;

export class DynamoProfileStore implements ProfileStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly clock: Clock;
  private readonly eventTtl: number;
  private readonly dedupeTtl: number;
  private readonly capacity: ReturnConsumedCapacity | undefined;

  constructor(options: DynamoProfileStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.clock = options.clock;
    this.eventTtl = (options.eventRetentionDays ?? 365) * day;
    this.dedupeTtl = (options.dedupeRetentionDays ?? 14) * day;
    this.capacity = options.returnConsumedCapacity;
  }

  async lookupIdentities(identifiers: Identifier[], options: ReadOptions = {}): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    const keys = [...new Map(identifiers.map((i) => [identityPk(i), i])).keys()];
    if (keys.length === 0) return owners;
    const record = (item: Record<string, unknown> | undefined) => {
      if (item && typeof item.profileId === 'string') owners.set(String(item.pk).slice(2), item.profileId);
    };
    if (keys.length === 1) {
      const out = await this.client.send(
        new GetCommand({
          TableName: this.table,
          Key: { pk: keys[0], sk: 'IDENTITY' },
          ConsistentRead: options.consistent,
          ReturnConsumedCapacity: this.capacity,
        }),
      );
      record(out.Item);
      return owners;
    }
    await resendingUnprocessed<Record<string, unknown>>(
      keys.map((pk) => ({ pk, sk: 'IDENTITY' })),
      async (pending) => {
        const out = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.table]: { Keys: pending, ConsistentRead: options.consistent } },
            ReturnConsumedCapacity: this.capacity,
          }),
        );
        for (const item of out.Responses?.[this.table] ?? []) record(item);
        return out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      },
      { backoff: unprocessedBackoff },
    );
    return owners;
  }

  async readProfile(profileId: string, options: ReadOptions = {}): Promise<Profile | null> {
    const items = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND sk >= :sk',
      ExpressionAttributeValues: { ':pk': profilePk(profileId), ':sk': profileSortKey },
      ConsistentRead: options.consistent,
    });
    const head = items[0];
    if (!head || head.sk !== profileSortKey) return null;
    const presence = items.filter((item) => String(item.sk).startsWith(presencePrefix)).map(presenceFromItem);
    // Segment items (`SEG#<id>`, shared/segments) sort after the journey items: the same Query reads them.
    const memberOf = items
      .filter((item) => String(item.sk).startsWith('SEG#') && item.inSegment === true)
      .map((item) => String(item.sk).slice(4));
    return {
      ...profileFromItem(head),
      // Marked by an erasure under way (markErased): ingest drops the event, nothing writes it.
      ...(typeof head.erasedAt === 'string' && { erasedAt: head.erasedAt }),
      presence,
      memberOf,
    };
  }

  async commit(change: ProfileCommit): Promise<void> {
    const now = Math.floor(this.clock.now() / 1000);
    const { message, profile } = change;
    const profileId = profile.profileId;
    const eventKey = eventSortKey(message);
    const dedupe = dedupePk(message);
    const hash = contentHash(message);
    // Index 0 is the dedupe record: a failed condition there means "duplicate", anywhere else
    // "conflict". No erasure check is needed: every existing profile this writes under (the survivor
    // and each merged one) is conditioned on the version read, which an erasure's mark bumps before
    // anything is deleted, and on having no `erasedAt` (markErased); a retry reads the mark, or finds
    // the profile gone, and ingest drops the event (ProfileErasedError).
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      {
        Put: {
          TableName: this.table,
          Item: {
            pk: dedupe,
            sk: 'MESSAGE',
            profileId,
            eventKey,
            contentHash: hash,
            expiresAt: now + this.dedupeTtl,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Put: {
          TableName: this.table,
          Item: {
            pk: profilePk(profileId),
            sk: eventKey,
            messageId: message.messageId,
            // Erasure deletes the dedupe record through this.
            dedupe,
            message: JSON.stringify(message),
            expiresAt: now + this.eventTtl,
          },
        },
      },
      { Put: this.profilePut(profile, change.expectedVersion) },
    ];
    for (const { identifier, expectedOwner } of change.identities) {
      items.push({
        Put: {
          TableName: this.table,
          Item: { pk: identityPk(identifier), sk: 'IDENTITY', profileId },
          ...(expectedOwner === null
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'profileId = :owner',
                ExpressionAttributeValues: { ':owner': expectedOwner },
              }),
        },
      });
    }
    for (const merged of change.merged)
      items.push({ Put: this.profilePut(merged.profile, merged.expectedVersion) });
    for (const { fromProfileId, presence } of change.movePresence) {
      const { executionName, ...attributes } = presence;
      items.push({
        Put: {
          TableName: this.table,
          Item: {
            ...attributes,
            profileId,
            movedFrom: fromProfileId,
            ...presenceKey(profileId, executionName),
          },
        },
      });
      items.push({ Delete: { TableName: this.table, Key: presenceKey(fromProfileId, executionName) } });
    }
    for (const { profileId: owner, executionName } of change.deletePresence ?? []) {
      items.push({ Delete: { TableName: this.table, Key: presenceKey(owner, executionName) } });
    }
    for (const counter of change.counters ?? []) items.push({ Update: this.counterUpdate(counter) });
    if (items.length > maxTransactItems) {
      // Not a conflict (retrying cannot shrink it): the queue redelivers it, then dead-letters it.
      throw new Error(`a merge needs ${items.length} writes; one transaction holds ${maxTransactItems}`);
    }
    try {
      await this.client.send(
        new TransactWriteCommand({ TransactItems: items, ReturnConsumedCapacity: this.capacity }),
      );
    } catch (error) {
      throw classifyTransactionError(error, message.messageId, hash);
    }
  }

  async listEvents(profileIds: string[], page: { after?: string; limit: number }): Promise<StoredEvent[]> {
    const now = Math.floor(this.clock.now() / 1000);
    // Strictly after the cursor: the smallest string greater than `after` is `after + U+0000`.
    const from = page.after === undefined ? eventPrefix : `${page.after}\u0000`;
    const perProfile = await Promise.all(
      profileIds.map(async (profileId) => {
        // DynamoDB deletes expired items late and they are the oldest, so a page can be mostly
        // expired: keep reading until `limit` live events or the end, or paging would stop early.
        const live: StoredEvent[] = [];
        let startKey: Record<string, unknown> | undefined;
        do {
          const out = await this.client.send(
            new QueryCommand({
              TableName: this.table,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
              ExpressionAttributeValues: {
                ':pk': profilePk(profileId),
                ':from': from,
                ':to': `${eventPrefix}\uffff`,
              },
              Limit: page.limit - live.length,
              ExclusiveStartKey: startKey,
              ReturnConsumedCapacity: this.capacity,
            }),
          );
          for (const item of out.Items ?? []) {
            if (typeof item.expiresAt === 'number' && item.expiresAt <= now) continue;
            live.push({
              profileId,
              key: String(item.sk),
              message: JSON.parse(String(item.message)) as NormalizedMessage,
            });
          }
          startKey = out.LastEvaluatedKey;
        } while (startKey !== undefined && live.length < page.limit);
        return live;
      }),
    );
    return perProfile
      .flat()
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, page.limit);
  }

  async isErased(profileId: string): Promise<boolean> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: erasedKey(profileId), ConsistentRead: true }),
    );
    const expiresAt = out.Item?.expiresAt;
    // Past its TTL but not yet removed by DynamoDB: expired all the same.
    return out.Item !== undefined && !(typeof expiresAt === 'number' && expiresAt <= this.clock.now() / 1000);
  }

  async markErased(profileIds: string[], live: { profileId: string; version: number }[] = []): Promise<void> {
    const now = this.clock.now();
    const erasedAt = new Date(now).toISOString();
    const versions = new Map(live.map((p) => [p.profileId, p.version]));
    // Per profile: its tombstone and, when it has an item, the item marked (`erasedAt`, version + 1,
    // off the due index) on the version read. The mark fails the version condition of every profile
    // write that read it before (an ingest's commit, a timer's save, a merge), and whoever reads it
    // after sees `erasedAt`: neither writes under it again. Conditioned on the version, so a merge
    // committed since the erasure read the profile fails the mark (ProfileWriteConflict) and the
    // erasure reads again (the newly merged profile included). 50 profiles a transaction.
    const items = [...new Set(profileIds)].map((profileId) => {
      const version = versions.get(profileId);
      return [
        {
          Put: {
            TableName: this.table,
            Item: {
              ...erasedKey(profileId),
              erasedAt,
              expiresAt: Math.floor(now / 1000) + erasedRetentionDays * day,
            },
          },
        },
        ...(version === undefined
          ? []
          : [
              {
                Update: {
                  TableName: this.table,
                  Key: { pk: profilePk(profileId), sk: profileSortKey },
                  UpdateExpression:
                    'SET version = :next, erasedAt = :at REMOVE profileDueAt, profileDueShard',
                  ConditionExpression: 'version = :read',
                  ExpressionAttributeValues: { ':read': version, ':next': version + 1, ':at': erasedAt },
                },
              },
            ]),
      ];
    });
    for (let i = 0; i < items.length; i += maxTransactItems / 2) {
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: items.slice(i, i + maxTransactItems / 2).flat(),
            ReturnConsumedCapacity: this.capacity,
          }),
        );
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'TransactionCanceledException' || name === 'TransactionConflictException')
          throw new ProfileWriteConflict('profile changed since the erasure read it');
        throw error;
      }
    }
  }

  async deleteProfiles(
    profiles: ProfileRecord[],
    options: { counters?(profile: ProfileRecord): CounterIncrement[] } = {},
  ): Promise<ErasureCounts> {
    const counts: ErasureCounts = {
      profiles: 0,
      identities: 0,
      events: 0,
      dedupeRecords: 0,
      presence: 0,
      journeySteps: 0,
    };
    // Identities first, so no new event attaches to a profile being erased.
    const identityKeys = new Set<string>();
    for (const profile of profiles) {
      for (const [type, values] of Object.entries(profile.identities)) {
        for (const value of values) identityKeys.add(identityPk({ type: type as Identifier['type'], value }));
      }
    }
    await this.deleteKeys([...identityKeys].map((pk) => ({ pk, sk: 'IDENTITY' })));
    counts.identities = identityKeys.size;
    for (const profile of profiles) {
      const items = await this.queryAll({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': profilePk(profile.profileId) },
        ProjectionExpression: 'pk, sk, messageId, dedupe',
        ConsistentRead: true,
      });
      const dedupe = items
        .filter((item) => String(item.sk).startsWith(eventPrefix))
        // Events stored before dedupe was scoped to the sender name their record by messageId alone.
        .map((item) => ({
          pk: typeof item.dedupe === 'string' ? item.dedupe : `M#${String(item.messageId)}`,
          sk: 'MESSAGE',
        }));
      await this.deleteKeys(dedupe);
      counts.dedupeRecords += dedupe.length;
      // The profile item last: while it exists, a retry of the erasure can find everything again.
      const rest = items.filter((item) => item.sk !== profileSortKey && item.sk !== erasedKey('').sk);
      await this.deleteKeys(rest.map((item) => ({ pk: item.pk, sk: item.sk })));
      counts.events += rest.filter((item) => String(item.sk).startsWith(eventPrefix)).length;
      counts.presence += rest.filter((item) => String(item.sk).startsWith(presencePrefix)).length;
      counts.journeySteps += rest.filter((item) => String(item.sk).startsWith(timelinePrefix)).length;
      if (items.some((item) => item.sk === profileSortKey)) {
        if (await this.deleteProfileItem(profile, options.counters?.(profile) ?? [])) counts.profiles += 1;
      }
    }
    return counts;
  }

  async saveProfile(profile: ProfileRecord, expectedVersion: number, counters: CounterIncrement[] = []) {
    // Conditioned on the version read (and no `erasedAt`): an erasure's mark bumps it, so a timer's
    // refresh of the profile as read just before its erasure neither writes it back nor moves the
    // lifecycle counts the erasure takes it off.
    const put = this.profilePut(profile, expectedVersion);
    try {
      if (counters.length === 0) {
        await this.client.send(new PutCommand({ ...put, ReturnConsumedCapacity: this.capacity }));
      } else {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [{ Put: put }, ...counters.map((c) => ({ Update: this.counterUpdate(c) }))],
            ReturnConsumedCapacity: this.capacity,
          }),
        );
      }
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException')
        throw new ProfileWriteConflict(`profile ${profile.profileId} changed`);
      throw error;
    }
  }

  async dueProfiles(now: string, limit: number): Promise<{ profileId: string; dueAt: string }[]> {
    const shards = await Promise.all(
      Array.from({ length: profileDueShards }, (_, shard) =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: profileDueIndex,
            KeyConditionExpression: 'profileDueShard = :shard AND profileDueAt <= :now',
            ExpressionAttributeValues: { ':shard': `PDUE#${shard}`, ':now': now },
            Limit: limit,
            ReturnConsumedCapacity: this.capacity,
          }),
        ),
      ),
    );
    return (
      shards
        .flatMap((out) => out.Items ?? [])
        // Keys-only index: the profile id is in the table key.
        .map((item) => ({ profileId: String(item.pk).slice(2), dueAt: String(item.profileDueAt) }))
        .sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0))
        .slice(0, limit)
    );
  }

  private counterUpdate({ pk, sk, add }: CounterIncrement) {
    const names: Record<string, string> = {};
    const values: Record<string, number> = {};
    const parts = Object.entries(add).map(([attribute, by], i) => {
      names[`#c${i}`] = attribute;
      values[`:c${i}`] = by;
      return `#c${i} :c${i}`;
    });
    return {
      TableName: this.table,
      Key: { pk, sk },
      UpdateExpression: `ADD ${parts.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  private profilePut(profile: ProfileRecord, expectedVersion: number | null) {
    return {
      TableName: this.table,
      Item: profileItem(profile),
      ...(expectedVersion === null
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            // An erasure's mark bumps the version and sets `erasedAt` (markErased): a write that read
            // the profile before fails on the version, one that read it after (and missed the mark)
            // on `erasedAt`, one after the item's delete on both.
            ConditionExpression: 'version = :expected AND attribute_not_exists(erasedAt)',
            ExpressionAttributeValues: { ':expected': expectedVersion },
          }),
    };
  }

  private queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    return queryAll(this.client, { ...input, ReturnConsumedCapacity: this.capacity });
  }

  /**
   * The profile item's delete, with the counters it is counted in taken down in the same
   * transaction: a retried erasure (the item already gone) changes no counter again.
   */
  private async deleteProfileItem(profile: ProfileRecord, counters: CounterIncrement[]): Promise<boolean> {
    const key = { pk: profilePk(profile.profileId), sk: profileSortKey };
    if (counters.length === 0) {
      await this.deleteKeys([key]);
      return true;
    }
    // Counter shards are shared by every profile: a conflict is retried.
    return retrying(
      async () => {
        try {
          await this.client.send(
            new TransactWriteCommand({
              TransactItems: [
                { Delete: { TableName: this.table, Key: key, ConditionExpression: 'attribute_exists(pk)' } },
                ...counters.map((c) => ({ Update: this.counterUpdate(c) })),
              ],
              ReturnConsumedCapacity: this.capacity,
            }),
          );
          return true;
        } catch (error) {
          if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') return false;
          throw error;
        }
      },
      {
        attempts: 6,
        retryable: (error) => cancellationReasons(error)?.includes('TransactionConflict') ?? false,
        backoff: profileDeleteBackoff,
      },
    );
  }

  private deleteKeys(keys: Record<string, unknown>[]): Promise<void> {
    return this.batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
  }

  private batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    return batchWriteAll(this.client, this.table, requests, { ReturnConsumedCapacity: this.capacity });
  }
}

/** The profile item as stored (the inverse of `profileFromItem`); benchmarks write profiles with it. */
export function profileItem(profile: ProfileRecord): Record<string, unknown> {
  // `memberOf` comes with a read (the segment items), never from the profile item: not stored in it.
  const {
    profileId,
    version,
    mergedInto,
    firstSeen,
    lastSeen,
    updatedAt,
    memberOf: _memberOf,
    erasedAt: _erasedAt,
    ...doc
  } = profile as ProfileRecord & { memberOf?: unknown; erasedAt?: unknown };
  return {
    pk: profilePk(profileId),
    sk: profileSortKey,
    profileId,
    version,
    firstSeen,
    lastSeen,
    updatedAt,
    ...(mergedInto === undefined ? {} : { mergedInto }),
    // Sparse index `profile-due`: a timer refreshes derived values then (shared/derived/timers.ts).
    ...(profile.dueAt !== undefined &&
      mergedInto === undefined && {
        profileDueAt: profile.dueAt,
        profileDueShard: `PDUE#${dueShardOf(profileId)}`,
      }),
    doc: JSON.stringify(doc),
  };
}

export function profileFromItem(item: Record<string, unknown>): ProfileRecord {
  const doc = JSON.parse(String(item.doc)) as Omit<
    ProfileRecord,
    'profileId' | 'version' | 'mergedInto' | 'firstSeen' | 'lastSeen' | 'updatedAt'
  >;
  return {
    ...doc,
    profileId: String(item.profileId),
    version: Number(item.version),
    firstSeen: String(item.firstSeen),
    lastSeen: String(item.lastSeen),
    updatedAt: String(item.updatedAt),
    ...(typeof item.mergedInto === 'string' ? { mergedInto: item.mergedInto } : {}),
  };
}

function presenceFromItem(item: Record<string, unknown>): JourneyItem {
  const { pk: _pk, sk, ...attributes } = item;
  return { ...attributes, executionName: String(sk).slice(presencePrefix.length) };
}

interface CancellationReason {
  Code?: string;
  Item?: Record<string, unknown>;
}

function classifyTransactionError(error: unknown, messageId: string, hash: string): unknown {
  const name = (error as { name?: string })?.name;
  if (name === 'TransactionConflictException') return new ProfileWriteConflict('transaction conflict');
  if (name !== 'TransactionCanceledException') return error;
  const reasons = ((error as { CancellationReasons?: CancellationReason[] }).CancellationReasons ??
    []) as CancellationReason[];
  const dedupe = reasons[0];
  if (dedupe?.Code === 'ConditionalCheckFailed') {
    // The exception carries the old item in wire format ({ S: '...' }), not unmarshalled.
    const text = (value: unknown) =>
      typeof value === 'string' ? value : (value as { S?: string } | undefined)?.S;
    const stored = text(dedupe.Item?.contentHash);
    if (stored !== undefined && stored !== hash) return new MessageIdReusedError(messageId);
    return new DuplicateMessageError(messageId, text(dedupe.Item?.profileId));
  }
  const retryable = new Set(['ConditionalCheckFailed', 'TransactionConflict', 'None', undefined]);
  if (reasons.length === 0 || reasons.every((reason) => retryable.has(reason.Code))) {
    return new ProfileWriteConflict(
      `profile changed while writing (${reasons.map((r) => r.Code).join(',')})`,
    );
  }
  return error;
}

/** Full jitter up to 40 ms doubling (no cap): the counter shards of a profile's erasure are shared by every profile. */
const profileDeleteBackoff = exponentialBackoff({ baseMs: 20, jitter: 'full' });
