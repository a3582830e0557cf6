/**
 * Frequency caps over sliding windows. A customer's recent marketing sends are kept per channel
 * (`SendLog`: send instants, newest last), trimmed to what any cap can still need. Checking caps
 * and claiming a send is pure here; the store makes the claim one conditional write on the log's
 * version, so two sends racing for the last slot cannot both pass (the loser re-reads and is
 * counted against the cap it now meets).
 */
import { durationSeconds } from '../journeys/duration.js';
import type { Channel, FrequencyCap } from './policy.js';

/** Recent marketing send instants (epoch ms) by channel, and the version the claim conditions on. */
export interface SendLog {
  version: number;
  sends: Partial<Record<Channel, number[]>>;
}

export const emptySendLog: SendLog = { version: 0, sends: {} };

export type CapVerdict =
  | { allowed: true; next: SendLog }
  | { allowed: false; cap: FrequencyCap; count: number; retryAt: number };

/** Longest window and largest max of the caps: how much history a log must keep (1 day, 1 send at least). */
function retention(caps: readonly FrequencyCap[]): { windowMs: number; keep: number } {
  let windowMs = 86_400_000;
  let keep = 1;
  for (const cap of caps) {
    windowMs = Math.max(windowMs, durationSeconds(cap.per) * 1000);
    keep = Math.max(keep, cap.max);
  }
  return { windowMs, keep };
}

function sendsIn(log: SendLog, channel: FrequencyCap['channel']): number[] {
  if (channel !== 'any') return log.sends[channel] ?? [];
  return Object.values(log.sends).flatMap((times) => times ?? []);
}

/**
 * Whether one more `channel` send at `now` stays within every cap; when it does, the log with the
 * send added (and old sends trimmed), to be written conditionally on `log.version`.
 */
export function claimSend(
  log: SendLog,
  caps: readonly FrequencyCap[],
  channel: Channel,
  now: number,
): CapVerdict {
  for (const cap of caps) {
    if (cap.channel !== 'any' && cap.channel !== channel) continue;
    const windowMs = durationSeconds(cap.per) * 1000;
    const inWindow = sendsIn(log, cap.channel)
      .filter((at) => at > now - windowMs)
      .sort((a, b) => a - b);
    if (inWindow.length >= cap.max) {
      // The window frees a slot when its oldest counted send leaves it.
      const oldest = inWindow[inWindow.length - cap.max] ?? now;
      return { allowed: false, cap, count: inWindow.length, retryAt: oldest + windowMs };
    }
  }
  const { windowMs, keep } = retention(caps);
  const sends: SendLog['sends'] = {};
  for (const name of Object.keys(log.sends) as Channel[]) {
    const kept = (log.sends[name] ?? []).filter((at) => at > now - windowMs).slice(-keep);
    if (kept.length > 0) sends[name] = kept;
  }
  sends[channel] = [...(sends[channel] ?? []), now].slice(-keep);
  return { allowed: true, next: { version: log.version + 1, sends } };
}
