import { CairnError } from './errors.js';

/**
 * Reading numbers from the environment. A bad value is a deployment mistake: fail at cold start
 * naming the variable, instead of running with NaN (which, e.g., made a batch run no workers at all).
 */
export class ConfigError extends CairnError {
  readonly code = 'config_invalid';
  readonly status = 500;
}

/** The integer in `env[name]`, at least `min`; `fallback` when unset or empty. */
export function integerFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
