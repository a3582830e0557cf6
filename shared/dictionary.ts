/**
 * Maps keyed by user data (event names, trait names, property names) held in plain objects, because
 * they are stored and served as JSON. A plain object inherits `constructor`, `toString`, … and treats
 * `__proto__` as its prototype, so `counts[name] = (counts[name] ?? 0) + 1` corrupts or drops data for
 * those names. These helpers read and write own properties only, so any string is a safe key.
 */

/** An object with no prototype: `in`, reads and writes see own keys only, `__proto__` included. */
export function dictionary<T>(entries?: Iterable<readonly [string, T]>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  if (entries) for (const [key, value] of entries) out[key] = value;
  return out;
}

/** A copy of `record` as a dictionary (own enumerable keys only). */
export function dictionaryOf<T>(record: Readonly<Record<string, T>> | undefined): Record<string, T> {
  return dictionary(record ? Object.entries(record) : undefined);
}

export function hasOwn(record: object, key: string): boolean {
  return Object.hasOwn(record, key);
}

/** The own value at `key`, never an inherited one. */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Sets an own data property, even for `__proto__` on an ordinary object. */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
