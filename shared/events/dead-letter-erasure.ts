import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock.js';
import { deleteAll, queryAll } from '../store/dynamodb.js';

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
        const items = await queryAll(client, {
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `DLQ#${date}` },
          ProjectionExpression: 'pk, sk, body',
        });
        keys.push(...items.filter((item) => names(item.body)));
      }
      await deleteAll(client, tableName, keys);
      return keys.length;
    },
  };
}
