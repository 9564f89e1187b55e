import { loadLaunchConfig, MissingConfigError } from '../shared/config';
import { ENV } from '../shared/env';
import { FleetValueError, parseFleets } from '../shared/fleets';
import { poolTableFromEnv } from '../shared/pool-table';
import type { RefillSettings } from './refill';

/** The longest pause between two passes of a run that watches (ms): a member that comes up is seen within this. */
const MAX_POLL_MS = 2000;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new MissingConfigError(name);
  return value;
}

/** The stack's fleets, as FLEETS holds them (JSON of the parsed fleets), checked again: a bad value fails the cold start, naming the variable. */
function loadFleets(env: NodeJS.ProcessEnv): RefillSettings['fleets'] {
  const raw = required(env, ENV.fleets);
  try {
    return parseFleets(JSON.parse(raw), ENV.fleets);
  } catch (err) {
    const expected = err instanceof FleetValueError ? `fleets as the stack parsed them (${err.message})` : 'JSON of the stack\'s fleets';
    throw new MissingConfigError(ENV.fleets, { value: raw, expected, cause: err });
  }
}

/**
 * The refill's configuration, read once at cold start. Passes while watching come every 2 s, or a thirtieth of
 * the watch when that is shorter (the local cloud runs a shorter watch in simulated time, and polls as often).
 */
export function loadRefillSettings(env: NodeJS.ProcessEnv = process.env): RefillSettings {
  const watchMs = Number(required(env, ENV.refillWatchMs));
  if (!Number.isFinite(watchMs) || watchMs < 0) throw new MissingConfigError(ENV.refillWatchMs, { value: env[ENV.refillWatchMs], expected: 'a number of milliseconds, 0 or more' });
  return {
    table: poolTableFromEnv(env),
    fleets: loadFleets(env),
    launch: loadLaunchConfig(env),
    watchMs,
    pollMs: Math.max(1, Math.min(MAX_POLL_MS, Math.round(watchMs / 30))),
  };
}
