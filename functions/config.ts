import { type Clock, systemClock } from '../shared/clock.js';
import { createLogger, type Logger, type LogLevel } from '../shared/log.js';
import { journeysTable, profilesTable, tableName } from '../shared/store/tables.js';

/**
 * The edge's process-wide configuration: what every function's `deps.ts` passes into the domain, so
 * nothing in `shared/` reads the environment or a global.
 */

const installed = Symbol.for('cairn.handlerClock');
type ClockHolder = { [installed]?: Clock };

/**
 * The clock the functions give the domain: the system clock on AWS. The embedded local stack runs the
 * handlers in its own process and points this at its virtual clock (`useHandlerClock`), so waits, goal
 * windows and re-entry rules follow `POST /local/clock`. A symbol on `globalThis`, because the stack
 * and a handler may load this module through different module graphs.
 */
export const handlerClock: Clock = {
  now: () => ((globalThis as ClockHolder)[installed] ?? systemClock).now(),
};

/** Makes `handlerClock` read `clock` (undefined: back to the system clock). Only the local stack calls it. */
export function useHandlerClock(clock: Clock | undefined): void {
  (globalThis as ClockHolder)[installed] = clock;
}

/** The physical table names (CDK sets `CAIRN_PROFILES_TABLE`/`CAIRN_JOURNEYS_TABLE`; locally the defaults). */
export function tableNames(env: NodeJS.ProcessEnv = process.env): { profiles: string; journeys: string } {
  return { profiles: tableName(profilesTable, env), journeys: tableName(journeysTable, env) };
}

const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** A logger at the level `CAIRN_LOG_LEVEL` names (default `info`): how the edge makes its loggers. */
export function edgeLogger(base: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Logger {
  const named = env.CAIRN_LOG_LEVEL as LogLevel | undefined;
  return createLogger(base, { level: named && logLevels.includes(named) ? named : 'info' });
}
