import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A JSON document kept on disk for the local stack (outbox, DLQ) when it is not run with --memory.
 * Saves are coalesced (at most one write per `delayMs`) and atomic (write then rename), and `flush()`
 * writes what is pending, so a stop never loses the last changes.
 */
export interface JsonFile<T> {
  load(fallback: T): T;
  save(value: () => T): void;
  flush(): void;
}

export function jsonFile<T>(path: string | undefined, delayMs = 200): JsonFile<T> {
  let pending: (() => T) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const write = () => {
    timer = undefined;
    if (!path || !pending) return;
    const value = pending();
    pending = undefined;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, JSON.stringify(value));
    renameSync(`${path}.tmp`, path);
  };
  return {
    load(fallback) {
      if (!path || !existsSync(path)) return fallback;
      try {
        return JSON.parse(readFileSync(path, 'utf8')) as T;
      } catch {
        return fallback;
      }
    },
    save(value) {
      if (!path) return;
      pending = value;
      timer ??= setTimeout(write, delayMs);
      timer.unref();
    },
    flush() {
      if (timer) clearTimeout(timer);
      write();
    },
  };
}
