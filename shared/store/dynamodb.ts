import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

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

/** Whether a write was refused by its condition (alone, or as an item of a transaction). */
export function isConditionFailure(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

/** The per-item codes of a cancelled transaction; undefined for any other error. */
export function cancellationReasons(error: unknown): string[] | undefined {
  if ((error as { name?: string }).name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (!reasons?.length) return ['Unknown'];
  return reasons.map((reason) => reason.Code ?? 'None');
}

/**
 * A single write, again (up to 4 attempts) when it met a transaction on the same item: DynamoDB
 * rejects it with TransactionConflictException, which the SDK does not retry. `command` is built
 * again for every attempt (e.g. another random counter shard).
 */
export async function sendRetryingConflicts<O>(
  client: DynamoDBDocumentClient,
  command: () => { readonly input: unknown },
): Promise<O> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await client.send(command() as never)) as O;
    } catch (error) {
      if ((error as { name?: string }).name !== 'TransactionConflictException' || attempt >= 4) throw error;
      await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
    }
  }
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
