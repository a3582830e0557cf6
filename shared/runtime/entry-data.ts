import { DeleteCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ExecutionInput } from '../journeys/execution.js';
import { executionPk } from '../store/keys.js';
import { journeysTable } from '../store/tables.js';

/**
 * The entry's data (the trigger event's properties, or the enrollment `context`) is personal data:
 * it stays out of the execution input, because Step Functions keeps every execution's input and
 * state inputs/outputs in its history for 90 days, beyond erasure's reach. It is kept instead in the
 * Journeys table beside the execution's message records, `MSG#<executionName>` / `#entry` (`#` never
 * starts a node id), written in the entry's own transaction (no extra request), read by the steps of
 * nodes that use it (one GetItem), and deleted when the execution ends: an item of the write that
 * ends it (the exit or failure step's transaction, a stop's; no extra request), which the presence
 * item's `entryData` flag (or the input's `stored`) asks for. Its one-year TTL (the longest a
 * Standard execution runs) only catches an execution that ended without either (a timeout). Erasure
 * deletes it with the message records (the same Query finds it). It holds no re-entry state: the
 * re-entry rules read the per-journey entry record `P#<profileId>` / `S#entry#<journeyId>`
 * (presence-store.ts), which stays.
 */

/** What the entry item holds besides its key. */
export interface EntryData {
  properties: Record<string, unknown>;
  /** Epoch seconds (TTL). */
  expiresAt: number;
}

/** A Standard execution runs at most a year: the entry's data is never needed after that. */
export const entryDataRetentionSeconds = 366 * 86_400;

export function entryDataKey(executionName: string) {
  return { pk: executionPk(executionName), sk: '#entry' };
}

/** Reads the entry's data of an execution (the step: only for nodes that use it). */
export interface EntryDataStore {
  /** The properties kept for the execution; undefined when there are none (ended, expired or erased). */
  readEntryProperties(executionName: string): Promise<Record<string, unknown> | undefined>;
  /** Deletes them (the execution ended); a request of its own only where `writeStep` writes separately. */
  deleteEntryData(executionName: string): Promise<void>;
}

/**
 * Splits a trigger into the execution input's entry (ids only: event name, messageId, timestamp,
 * broadcast and run) and the properties to keep in the Journeys table (undefined when there are
 * none beyond the ids the input carries anyway).
 */
export function splitEntry(trigger: ExecutionInput['entry']): {
  entry: ExecutionInput['entry'];
  properties?: Record<string, unknown>;
} {
  const { properties = {}, stored: _stored, ...ids } = trigger;
  const kept: Record<string, unknown> = { ...properties };
  // A broadcast's entry names its plan and run in the input already (and `event` shows them again).
  for (const key of ['broadcastId', 'runAt'] as const) {
    if (ids[key] !== undefined && kept[key] === ids[key]) delete kept[key];
  }
  if (Object.keys(kept).length === 0) return { entry: { ...ids, properties: {} } };
  return { entry: { ...ids, properties: {}, stored: true }, properties: kept };
}

/**
 * The entry's properties as nodes see them (templates' `event`, `when.properties`, `relativeTo`,
 * `match`, a webhook's body): the kept ones, the broadcast's ids, or the input's own (executions
 * started before the entry's data moved out of the input carry their properties inline).
 */
export function entryProperties(
  entry: ExecutionInput['entry'],
  kept: Record<string, unknown> | undefined,
): Record<string, unknown> {
  return {
    ...(entry.broadcastId !== undefined && { broadcastId: entry.broadcastId }),
    ...(entry.runAt !== undefined && { runAt: entry.runAt }),
    ...entry.properties,
    ...kept,
  };
}

/** The entry item's Delete, for the transaction that ends the execution. */
export function entryDataDelete(table: string, executionName: string) {
  return { TableName: table, Key: entryDataKey(executionName) };
}

/** The entry item as a Put of a transaction (the entry's TransactWriteItems). */
export function entryDataPut(table: string, executionName: string, data: EntryData) {
  return { TableName: table, Item: { ...entryDataKey(executionName), kind: 'journey-entry-data', ...data } };
}

export function dynamoEntryDataStore(
  client: DynamoDBDocumentClient,
  options: { tableName?: string; now?: () => number } = {},
): EntryDataStore {
  const table = options.tableName ?? journeysTable.defaultName;
  const now = options.now ?? Date.now;
  return {
    async readEntryProperties(executionName) {
      // Consistent: the first step may run milliseconds after the entry's transaction.
      const out = await client.send(
        new GetCommand({ TableName: table, Key: entryDataKey(executionName), ConsistentRead: true }),
      );
      const item = out.Item;
      if (!item || (typeof item.expiresAt === 'number' && item.expiresAt <= Math.floor(now() / 1000)))
        return undefined;
      return item.properties as Record<string, unknown>;
    },
    async deleteEntryData(executionName) {
      await client.send(new DeleteCommand(entryDataDelete(table, executionName)));
    },
  };
}
