import { ValidationError } from '../errors.js';
import type { DeadLetter, DeadLetterStore } from './dead-letters.js';

/** Dead letters in memory, listed per day like DynamoDeadLetterStore (unit tests, benchmarks). */
export class MemoryDeadLetterStore implements DeadLetterStore {
  readonly letters: DeadLetter[] = [];

  async put(letter: DeadLetter): Promise<void> {
    this.letters.push(structuredClone(letter));
  }

  async list(query: { date: string; limit?: number; cursor?: string }) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(query.date)) {
      throw new ValidationError([{ path: ['date'], message: 'date must be YYYY-MM-DD' }]);
    }
    const day = this.letters
      .filter((letter) => letter.receivedAt.startsWith(query.date))
      .sort((a, b) => `${a.receivedAt}#${a.id}`.localeCompare(`${b.receivedAt}#${b.id}`));
    const from = query.cursor === undefined ? 0 : Number(query.cursor);
    const limit = query.limit ?? 100;
    const items = day.slice(from, from + limit).map((letter) => structuredClone(letter));
    return { items, ...(from + limit < day.length && { nextCursor: String(from + limit) }) };
  }
}
