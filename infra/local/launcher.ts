import { spawnSync } from 'node:child_process';

/**
 * `npm start` runs npm → sh → tsx → node. A process manager stops it with SIGTERM to npm, which
 * passes it to `sh` only: tsx and this process would be left running, still serving. So the stack
 * watches the processes that launched it, up to npm, and stops when one of them is gone.
 */
export function launcherPids(env: NodeJS.ProcessEnv = process.env): number[] {
  if (process.platform === 'win32' || !env.npm_lifecycle_event) return [];
  const chain: number[] = [];
  let pid = process.ppid;
  for (let depth = 0; depth < 6 && pid > 1; depth++) {
    const probe = spawnSync('ps', ['-o', 'ppid=', '-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
    const match = /^\s*(\d+)\s+(.*)$/s.exec(probe.stdout ?? '');
    if (probe.status !== 0 || !match) return chain;
    chain.push(pid);
    if (/(^|[\s/])npm(-cli\.js)?(\s|$)/.test(match[2]!)) return chain;
    pid = Number(match[1]);
  }
  // No npm above us (started some other way): only the direct parent is ours to follow.
  return chain.slice(0, 1);
}

/** Calls `onGone` once when any of `pids` no longer exists (checked every `intervalMs`). */
export function watchLaunchers(pids: number[], onGone: (pid: number) => void, intervalMs = 1000): () => void {
  if (pids.length === 0) return () => undefined;
  const timer = setInterval(() => {
    const gone = pids.find((pid) => !isAlive(pid));
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
