import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isAlive } from './launcher.js';

/**
 * One local stack per data folder: two would both append to the execution journal and rewrite it at
 * start, losing executions. The lock is a file naming its process; a lock whose process is gone
 * (killed, crashed) is stale and taken over.
 */
export class DataDirLockedError extends Error {
  readonly code = 'data_dir_locked';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    startedAt: string | undefined,
  ) {
    super(
      `The data folder ${dataDir} is in use by another Cairn (process ${pid}` +
        `${startedAt ? `, started ${startedAt}` : ''}).\n` +
        `  Stop that one first (kill ${pid}), or start with --data-dir <another folder>, or --memory.`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

interface LockFile {
  pid: number;
  /** For a person reading the file; not checked (a container's host name changes on each run). */
  host: string;
  startedAt: string;
}

const held = new Set<string>();

/** Takes the folder's lock (creating the folder), or throws `DataDirLockedError` naming the holder. */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'cairn.lock');
  const mine: LockFile = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (held.has(file)) throw new DataDirLockedError(dataDir, process.pid, undefined);
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(file);
      if (holder && holder.pid !== process.pid && isAlive(holder.pid))
        throw new DataDirLockedError(dataDir, holder.pid, holder.startedAt);
      // Stale (its process is gone) or unreadable (a crash while writing it): take it over.
      rmSync(file, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(mine)}\n`);
    } finally {
      closeSync(fd);
    }
    held.add(file);
    const onExit = () => release();
    process.once('exit', onExit);
    const release = () => {
      if (!held.delete(file)) return;
      process.off('exit', onExit);
      if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
    };
    return { file, release };
  }
  throw new Error(`Could not take the lock ${file}: another process keeps recreating it`);
}

function readLock(file: string): LockFile | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockFile>;
    if (typeof parsed.pid !== 'number' || !Number.isInteger(parsed.pid) || parsed.pid <= 0) return undefined;
    return { pid: parsed.pid, host: String(parsed.host ?? ''), startedAt: String(parsed.startedAt ?? '') };
  } catch {
    return undefined;
  }
}
