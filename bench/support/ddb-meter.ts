import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Counts the DynamoDB requests a client sends (every HTTP attempt, retries included) and sums the
 * capacity they report (when called with ReturnConsumedCapacity). Counting, not timing: this is the
 * AWS bill per event.
 */
export interface DynamoMeter {
  requests: number;
  byCommand: Record<string, number>;
  readCapacityUnits: number;
  writeCapacityUnits: number;
  reset(): void;
  snapshot(): { requests: number; byCommand: Record<string, number>; rcu: number; wcu: number };
}

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

export function meterDynamo(client: DynamoDBClient | DynamoDBDocumentClient): DynamoMeter {
  const meter: DynamoMeter = {
    requests: 0,
    byCommand: {},
    readCapacityUnits: 0,
    writeCapacityUnits: 0,
    reset() {
      meter.requests = 0;
      meter.byCommand = {};
      meter.readCapacityUnits = 0;
      meter.writeCapacityUnits = 0;
    },
    snapshot() {
      return {
        requests: meter.requests,
        byCommand: { ...meter.byCommand },
        rcu: meter.readCapacityUnits,
        wcu: meter.writeCapacityUnits,
      };
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      meter.requests += 1;
      meter.byCommand[name] = (meter.byCommand[name] ?? 0) + 1;
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] } | undefined)
        ?.ConsumedCapacity;
      for (const capacity of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const read = capacity.ReadCapacityUnits ?? 0;
        const write = capacity.WriteCapacityUnits ?? 0;
        // Some responses report only the total: attribute it by the kind of command.
        const total = capacity.CapacityUnits ?? read + write;
        if (read === 0 && write === 0) {
          if (/Get|Query|Scan/.test(name)) meter.readCapacityUnits += total;
          else meter.writeCapacityUnits += total;
        } else {
          meter.readCapacityUnits += read;
          meter.writeCapacityUnits += write;
        }
      }
      return result;
    },
    { step: 'deserialize', priority: 'high', name: 'cairnDynamoMeter', override: true },
  );
  return meter;
}
