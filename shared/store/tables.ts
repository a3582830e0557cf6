/**
 * The DynamoDB tables, defined once. The local stack creates them from this (infra/local) and the CDK
 * construct declares them from this (infra/aws), so local and cloud cannot drift apart.
 *
 * Both tables use a generic `pk`/`sk` string key (single-table design per bounded context) and a
 * numeric `expiresAt` TTL attribute in epoch seconds. DynamoDB deletes expired items lazily, so
 * every read of an item that can expire also filters on `expiresAt > now`.
 *
 * Item layouts are documented in docs/data-model.md next to the code that writes them.
 */
export interface TableDefinition {
  /** Stable logical name, used for CDK ids and env var names. */
  logicalName: 'Profiles' | 'Journeys';
  /** Env var the handlers read the physical table name from. */
  envVar: string;
  /** Physical name used locally (and the default when the env var is unset). */
  defaultName: string;
  partitionKey: string;
  sortKey: string;
  ttlAttribute: string;
  globalSecondaryIndexes: {
    indexName: string;
    partitionKey: string;
    sortKey: string;
    /** What the index copies; default ALL. KEYS_ONLY: writes to the item reach the index only when its keys change. */
    projection?: 'ALL' | 'KEYS_ONLY';
  }[];
}

export const profilesTable: TableDefinition = {
  logicalName: 'Profiles',
  envVar: 'CAIRN_PROFILES_TABLE',
  defaultName: 'cairn-profiles',
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  // Segments (shared/segments/dynamodb.ts): sparse indexes over the (profile, segment) items.
  globalSecondaryIndexes: [
    // Members of a segment, by profile id: listing and paging are Queries.
    { indexName: 'segment-members', partitionKey: 'memberOf', sortKey: 'memberId' },
    // Window timers by due time, sharded: the timer poller Queries `dueAt <= now` per shard.
    { indexName: 'segment-due', partitionKey: 'dueShard', sortKey: 'dueAt' },
    // Profiles by the time a derived value (stage, windowed computed trait) changes with no event:
    // the timer refreshes them then (shared/derived/timers.ts). Keys only, so the profile writes of
    // every event do not copy the profile into the index.
    {
      indexName: 'profile-due',
      partitionKey: 'profileDueShard',
      sortKey: 'profileDueAt',
      projection: 'KEYS_ONLY',
    },
  ],
};

export const journeysTable: TableDefinition = {
  logicalName: 'Journeys',
  envVar: 'CAIRN_JOURNEYS_TABLE',
  defaultName: 'cairn-journeys',
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  // Sparse, overloaded: message records by journey (`MSGJ#<journeyId>` / `<createdAt>#<execution>#<node>`).
  globalSecondaryIndexes: [{ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
};

export const tables: readonly TableDefinition[] = [profilesTable, journeysTable];

/**
 * The physical table name in `env` (the edge's configuration: CDK sets the variable), else the
 * default. Domain stores take their table names as options and default to `defaultName`.
 */
export function tableName(table: TableDefinition, env: NodeJS.ProcessEnv): string {
  return env[table.envVar] ?? table.defaultName;
}
