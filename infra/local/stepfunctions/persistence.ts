import { join } from 'node:path';
import type { Logger } from '../../../shared/log.js';
import { type JsonFile, jsonFile } from '../json-file.js';
import type { VirtualClock } from './clock.js';
import type { Executions } from './executions.js';
import type { Interpreter } from './interpreter.js';
import { ExecutionJournal, type ReplayedExecution } from './journal.js';
import { type Alias, type ExecutionStatus, newExecution, type Revision } from './model.js';
import type { StateMachines } from './state-machines.js';

interface RegistryFile {
  /** The virtual time when the file was written. */
  clock?: number;
  revisions: Record<string, { definition: string; roleArn: string; createdAt: number }>;
  machines: {
    name: string;
    createdAt: number;
    updatedAt?: number;
    status: 'ACTIVE' | 'DELETING';
    latest: string;
    nextVersion: number;
    versions: { number: number; revision: string; description?: string; createdAt: number }[];
    aliases: Omit<Alias, 'arn'>[];
  }[];
}

export interface ServiceParts {
  clock: VirtualClock;
  log: Logger;
  stateMachines: StateMachines;
  executions: Executions;
  interpreter: Interpreter;
}

/**
 * The data folder of the local Step Functions: `state-machines.json` (machines, the revisions still
 * referenced, versions, aliases, the virtual time reached) and `executions.jsonl` (the journal).
 */
export class Persistence {
  readonly journal: ExecutionJournal;
  private readonly registry: JsonFile<RegistryFile>;

  constructor(dataDir: string) {
    this.registry = jsonFile<RegistryFile>(join(dataDir, 'state-machines.json'));
    this.journal = new ExecutionJournal(join(dataDir, 'executions.jsonl'));
  }

  save({ clock, stateMachines }: Pick<ServiceParts, 'clock' | 'stateMachines'>): void {
    this.registry.save(() => {
      const used = new Set<Revision>();
      for (const machine of stateMachines.machines.values()) {
        used.add(machine.latest);
        for (const version of machine.versions.values()) used.add(version.revision);
        for (const exec of machine.executions.values()) used.add(exec.revision);
      }
      const revisions: RegistryFile['revisions'] = {};
      for (const revision of used)
        revisions[revision.id] = {
          definition: revision.definition,
          roleArn: revision.roleArn,
          createdAt: revision.createdAt,
        };
      return {
        clock: clock.now(),
        revisions,
        machines: [...stateMachines.machines.values()].map((machine) => ({
          name: machine.name,
          createdAt: machine.createdAt,
          updatedAt: machine.updatedAt,
          status: machine.status,
          latest: machine.latest.id,
          nextVersion: machine.nextVersion,
          versions: [...machine.versions.values()].map((v) => ({
            number: v.number,
            revision: v.revision.id,
            description: v.description,
            createdAt: v.createdAt,
          })),
          aliases: [...machine.aliases.values()].map(({ arn: _arn, ...alias }) => alias),
        })),
      };
    });
  }

  async close(): Promise<void> {
    this.registry.flush();
    await this.journal.close();
  }

  /** Loads state machines and executions; waiting ones wait again, running ones run again from their last state. */
  restore(parts: ServiceParts): void {
    const { stateMachines, clock, log } = parts;
    const saved = this.registry.load({ revisions: {}, machines: [] });
    const revision = (id: string): Revision | undefined => {
      const existing = stateMachines.revisions.get(id);
      if (existing) return existing;
      const raw = saved.revisions[id];
      if (!raw) return undefined;
      try {
        return stateMachines.newRevision(raw.definition, raw.roleArn, id, raw.createdAt);
      } catch (error) {
        log.warn('could not restore a state machine revision', {
          revisionId: id,
          error: (error as Error).message,
        });
        return undefined;
      }
    };
    for (const raw of saved.machines) {
      const latest = revision(raw.latest);
      if (!latest) continue;
      const machine = stateMachines.add({
        name: raw.name,
        createdAt: raw.createdAt,
        updatedAt: raw.updatedAt,
        status: raw.status,
        latest,
        nextVersion: raw.nextVersion,
      });
      for (const alias of raw.aliases)
        machine.aliases.set(alias.name, { ...alias, arn: `${machine.arn}:${alias.name}` });
      for (const v of raw.versions) {
        const rev = revision(v.revision);
        if (rev)
          machine.versions.set(v.number, {
            number: v.number,
            arn: `${machine.arn}:${v.number}`,
            revision: rev,
            description: v.description,
            createdAt: v.createdAt,
          });
      }
    }
    // Virtual time never goes back: a restart continues from the latest time the last run reached.
    const replayed = this.journal.load();
    let reached = saved.clock ?? 0;
    for (const execution of replayed) {
      reached = Math.max(
        reached,
        execution.start.at,
        execution.events.at(-1)?.ts ?? 0,
        execution.close?.at ?? 0,
      );
    }
    clock.skipTo(reached);
    let resumed = 0;
    for (const execution of replayed) {
      if (restoreExecution(parts, execution, revision)) resumed++;
    }
    if (resumed > 0) log.info('restored executions in flight', { count: resumed });
  }
}

function restoreExecution(
  { stateMachines, executions, interpreter }: ServiceParts,
  replayed: ReplayedExecution,
  revision: (id: string) => Revision | undefined,
): boolean {
  const { start, events, parked, close } = replayed;
  const machine = stateMachines.machines.get(start.machine);
  const rev = revision(start.revision);
  if (!machine || !rev) return false;
  const exec = newExecution({
    arn: start.arn,
    name: start.name,
    machine,
    revision: rev,
    versionArn: start.versionArn,
    aliasArn: start.aliasArn,
    input: start.input,
    status: (close?.status as ExecutionStatus | undefined) ?? 'RUNNING',
    startedAt: start.at,
    events,
  });
  exec.stoppedAt = close?.at;
  exec.output = close?.output;
  exec.error = close?.error;
  exec.cause = close?.cause;
  exec.deadlineAt = start.deadlineAt;
  executions.add(exec);
  if (exec.status !== 'RUNNING') return false;
  interpreter.armDeadline(exec);
  if (parked) {
    if (parked.kind === 'token') exec.token = parked.token;
    interpreter.park(exec, parked);
    return true;
  }
  // It was running when the stack stopped: run again from the last state it entered (at least once).
  let from = rev.compiled.startAt;
  let input: unknown = JSON.parse(exec.input);
  for (let i = events.length - 1; i >= 0; i--) {
    const details = events[i]!.details as { name?: string; input?: string } | undefined;
    if (
      events[i]!.type.endsWith('StateEntered') &&
      details?.name &&
      rev.compiled.topLevel.has(details.name)
    ) {
      from = details.name;
      input = JSON.parse(details.input ?? 'null');
      break;
    }
  }
  interpreter.runFrom(exec, from, input);
  return true;
}
