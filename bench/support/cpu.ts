/**
 * CPU time (ms) spent by this process's main thread, its other threads (workers, GC, libuv), and
 * another process (DynamoDB Local's JVM), read from /proc (Linux; zeros elsewhere). Tells where a
 * phase's time goes when the machine's cores are shared.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSample {
  mainThread: number;
  otherThreads: number;
  other: number;
}

const tick = 1000 / 100; // USER_HZ is 100 on Linux

function ticks(statPath: string): number {
  try {
    const stat = readFileSync(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

export function cpuSample(otherPid: number | undefined): CpuSample {
  const mainThread = ticks(`/proc/self/task/${process.pid}/stat`) * tick;
  let all = 0;
  try {
    for (const task of readdirSync('/proc/self/task')) all += ticks(`/proc/self/task/${task}/stat`);
  } catch {}
  return {
    mainThread,
    otherThreads: all * tick - mainThread,
    other: otherPid ? ticks(`/proc/${otherPid}/stat`) * tick : 0,
  };
}

/** CPU ms per unit of work between two samples. */
export function cpuPer(before: CpuSample, after: CpuSample, units: number): CpuSample {
  const per = (k: keyof CpuSample) => Math.round(((after[k] - before[k]) / units) * 1000) / 1000;
  return { mainThread: per('mainThread'), otherThreads: per('otherThreads'), other: per('other') };
}
