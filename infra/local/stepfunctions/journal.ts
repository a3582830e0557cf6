import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { HistoryEntry } from './history.js';

/**
 * The executions' on-disk log: one JSON line per change (started, history event, parked, closed),
 * appended through one buffered stream, replayed at start and rewritten compactly. What a line
 * holds is only what a restart needs to resume an execution: where it waits and with what input.
 */
export type JournalLine =
  | {
      k: 'start';
      arn: string;
      name: string;
      machine: string;
      revision: string;
      versionArn?: string;
      aliasArn?: string;
      input: string;
      at: number;
      deadlineAt?: number;
    }
  | { k: 'event'; arn: string; e: HistoryEntry }
  | { k: 'park'; arn: string; p: ParkedState }
  | { k: 'close'; arn: string; status: string; at: number; output?: string; error?: string; cause?: string };

/** Where a waiting execution is: enough to start the interpreter again from that state. */
export interface ParkedState {
  kind: 'wait' | 'token';
  state: string;
  /** The state's raw input (before InputPath), as JSON text. */
  input: string;
  wakeAt?: number;
  token?: string;
  timeoutAt?: number;
  heartbeatSeconds?: number;
  heartbeatAt?: number;
}

export interface ReplayedExecution {
  start: Extract<JournalLine, { k: 'start' }>;
  events: HistoryEntry[];
  parked?: ParkedState;
  close?: Extract<JournalLine, { k: 'close' }>;
}

export class ExecutionJournal {
  private stream: WriteStream | undefined;

  constructor(private readonly path: string) {}

  /** Reads the journal (tolerating a torn last line) and rewrites it compactly. */
  load(): ReplayedExecution[] {
    const executions = new Map<string, ReplayedExecution>();
    if (existsSync(this.path)) {
      for (const raw of readFileSync(this.path, 'utf8').split('\n')) {
        if (raw === '') continue;
        let line: JournalLine;
        try {
          line = JSON.parse(raw) as JournalLine;
        } catch {
          continue;
        }
        if (line.k === 'start') {
          executions.set(line.arn, { start: line, events: [] });
          continue;
        }
        const execution = executions.get(line.arn);
        if (!execution) continue;
        if (line.k === 'event') {
          execution.events.push(line.e);
          // Any event after a park means the execution was resumed from it.
          execution.parked = undefined;
        } else if (line.k === 'park') execution.parked = line.p;
        else execution.close = line;
      }
    }
    // Closed executions are kept 90 days (in virtual time, measured from the newest line).
    let newest = 0;
    for (const execution of executions.values())
      newest = Math.max(newest, execution.close?.at ?? execution.start.at);
    const replayed = [...executions.values()].filter(
      (execution) => !execution.close || execution.close.at >= newest - 90 * 86_400_000,
    );
    this.rewrite(replayed);
    return replayed;
  }

  append(line: JournalLine): void {
    if (!this.stream) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.stream = createWriteStream(this.path, { flags: 'a' });
    }
    this.stream.write(`${JSON.stringify(line)}\n`);
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) await new Promise<void>((resolve) => stream.end(resolve));
  }

  private rewrite(executions: ReplayedExecution[]): void {
    const lines: string[] = [];
    for (const execution of executions) {
      lines.push(JSON.stringify(execution.start));
      for (const e of execution.events)
        lines.push(JSON.stringify({ k: 'event', arn: execution.start.arn, e }));
      if (execution.parked)
        lines.push(JSON.stringify({ k: 'park', arn: execution.start.arn, p: execution.parked }));
      if (execution.close) lines.push(JSON.stringify(execution.close));
    }
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(`${this.path}.tmp`, lines.length ? `${lines.join('\n')}\n` : '');
    renameSync(`${this.path}.tmp`, this.path);
  }
}
