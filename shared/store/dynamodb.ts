import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  type TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { exponentialBackoff, resendingUnprocessed, retrying } from '../retry.js';

/**
 * The document client every store uses. Adapters create one per Lambda container and pass it in;
 * domain code never creates clients. The SDK reads AWS_ENDPOINT_URL itself, which is how the same
 * code talks to the local edge (http://localhost:4566) or to AWS.
 */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5, ...config }), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** A transaction item that puts a new item: refused (ConditionalCheckFailed) when one with its key exists. */
export function createOnly(table: string, item: Record<string, unknown>) {
  return { Put: { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } };
}

/** Whether a write was refused by its condition (alone, or as an item of a transaction). */
export function isConditionFailure(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

/** Sends a conditional write: true when it was made, false when its condition (or a transaction item's) failed. */
export async function writeIfCondition(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** The per-item codes of a cancelled transaction; undefined for any other error. */
export function cancellationReasons(error: unknown): string[] | undefined {
  if ((error as { name?: string }).name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (!reasons?.length) return ['Unknown'];
  return reasons.map((reason) => reason.Code ?? 'None');
}

/**
 * The wait before a write that met a transaction on the same item is tried again: 5 ms doubling from
 * 10 ms, plus up to 10 ms of jitter so that the writers that collided do not collide again.
 */
export const conflictBackoff = exponentialBackoff({ baseMs: 5, jitter: { addMs: 10 } });

/** The wait before a batch request's unprocessed items are sent again: full jitter from 20 ms, at most 1 s. */
export const unprocessedBackoff = exponentialBackoff({ baseMs: 10, maxMs: 1000, jitter: 'full' });

/** The requests a transaction on the same item can refuse with TransactionConflictException. */
export type ConflictingWrite = PutCommand | UpdateCommand | DeleteCommand | TransactWriteCommand;

/**
 * A single write, again (up to 4 attempts) when it met a transaction on the same item: DynamoDB
 * rejects it with TransactionConflictException, which the SDK does not retry. `command` is built
 * again for every attempt (e.g. another random counter shard).
 */
export function sendRetryingConflicts(
  client: DynamoDBDocumentClient,
  command: () => UpdateCommand,
): Promise<UpdateCommandOutput>;
export function sendRetryingConflicts(
  client: DynamoDBDocumentClient,
  command: () => PutCommand | DeleteCommand | TransactWriteCommand,
): Promise<unknown>;
export function sendRetryingConflicts(
  client: DynamoDBDocumentClient,
  command: () => ConflictingWrite,
): Promise<unknown> {
  return retrying(() => sendWrite(client, command()), {
    attempts: 4,
    retryable: (error) => (error as { name?: string }).name === 'TransactionConflictException',
    backoff: conflictBackoff,
  });
}

function sendWrite(client: DynamoDBDocumentClient, command: ConflictingWrite): Promise<unknown> {
  // One call per command class: the client's send is typed by the command it is given.
  if (command instanceof PutCommand) return client.send(command);
  if (command instanceof UpdateCommand) return client.send(command);
  if (command instanceof DeleteCommand) return client.send(command);
  return client.send(command);
}

/** An item of a TransactWriteItems, as the document client takes it. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A Put or Update meant for a transaction, sent as a request of its own (retrying conflicts). */
export function sendItemRetryingConflicts(
  client: DynamoDBDocumentClient,
  item: { Put: PutCommandInput } | { Update: UpdateCommandInput },
): Promise<unknown> {
  return 'Put' in item
    ? sendRetryingConflicts(client, () => new PutCommand(item.Put))
    : sendRetryingConflicts(client, () => new UpdateCommand(item.Update));
}

/**
 * An item without its table keys and bookkeeping attributes (`pk`, `sk`, `expiresAt`, `seen`); `kind`
 * stays where it is part of the record (a timeline entry's `journey-step` or `message`).
 */
export function withoutKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, kind, expiresAt: _e, seen: _seen, gsi1pk: _gp, gsi1sk: _gs, ...rest } = item;
  if (kind === 'journey-step' || kind === 'message') return { kind, ...rest } as T;
  return rest as T;
}

/** Every item a Query finds, page after page until DynamoDB reports no more (one request a page). */
export async function queryAll(
  client: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Puts or deletes any number of items of one table: 25 requests a BatchWriteItem (its limit), the
 * unprocessed ones sent again after a jittered backoff until none is left.
 */
export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  table: string,
  requests: Record<string, unknown>[],
  options: Pick<BatchWriteCommandInput, 'ReturnConsumedCapacity'> = {},
): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    await resendingUnprocessed(
      requests.slice(i, i + 25),
      async (pending) => {
        const out = await client.send(
          new BatchWriteCommand({ RequestItems: { [table]: pending }, ...options }),
        );
        return (out.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
      },
      { backoff: unprocessedBackoff },
    );
  }
}

/** Deletes the items with these keys (`pk`, `sk`; other attributes are ignored), 25 a request. */
export function deleteAll(
  client: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
): Promise<void> {
  const requests = keys.map((key) => ({ DeleteRequest: { Key: { pk: key.pk, sk: key.sk } } }));
  return batchWriteAll(client, table, requests);
}
