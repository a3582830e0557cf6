import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock.js';

/**
 * Erasure of dead letters (shared/events/dead-letters.ts) that name a person: the rejected bodies of
 * the retention window (one partition per day), one Query per day (paged), deleting those whose body
 * contains one of the identifiers as a JSON string (`"ada@example.com"`). Erasures are rare and dead
 * letters few, so reading the window is cheaper than indexing every rejected body by identifier.
 */
export function dynamoDeadLetterErasure(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  /** The dead letters' retention: how many days back to look; default 30. */
  retentionDays?: number;
}) {
  const { client, tableName, clock } = options;
  const days = (options.retentionDays ?? 30) + 1;
  return {
    async eraseNaming(identifiers: string[]): Promise<number> {
      const needles = identifiers.filter((id) => id !== '').map((id) => JSON.stringify(id));
      if (needles.length === 0) return 0;
      const names = (body: unknown) =>
        typeof body === 'string' && needles.some((needle) => body.includes(needle));
      const now = clock.now();
      const keys: Record<string, unknown>[] = [];
      for (let day = 0; day < days; day++) {
        const date = new Date(now - day * 86_400_000).toISOString().slice(0, 10);
        let startKey: Record<string, unknown> | undefined;
        do {
          const out = await client.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': `DLQ#${date}` },
              ProjectionExpression: 'pk, sk, body',
              ExclusiveStartKey: startKey,
            }),
          );
          for (const item of out.Items ?? []) if (names(item.body)) keys.push({ pk: item.pk, sk: item.sk });
          startKey = out.LastEvaluatedKey;
        } while (startKey);
      }
      for (let i = 0; i < keys.length; i += 25) {
        let pending: Record<string, unknown>[] = keys
          .slice(i, i + 25)
          .map((Key) => ({ DeleteRequest: { Key } }));
        for (let round = 0; pending.length > 0; round++) {
          const out = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
          pending = (out.UnprocessedItems?.[tableName] ?? []) as Record<string, unknown>[];
          if (pending.length) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** round)));
        }
      }
      return keys.length;
    },
  };
}
