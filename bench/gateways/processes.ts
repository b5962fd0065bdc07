import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * Child processes of the gateway benchmark: started pinned to a CPU (`taskset`), output to a file so
 * the parent's CPU never spends time draining it, stopped by their own pid, and measured by the
 * peak resident set size the kernel recorded for them (VmHWM).
 */

export interface CpuPlan {
  /** CPU of the gateway under test; undefined when the machine cannot pin. */
  gateway: number | undefined;
  /** CPU of the subgraphs and the load generator. */
  rest: number | undefined;
  note: string;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * With two CPUs or more and `taskset`: the gateway alone on CPU 1, everything else on CPU 0 (this
 * process included, pinned here). Otherwise nothing is pinned and the report says so.
 */
export function planCpus(): CpuPlan {
  if (process.platform !== 'linux' || availableParallelism() < 2 || !hasTaskset()) {
    return {
      gateway: undefined,
      rest: undefined,
      note: 'not pinned (needs Linux, taskset and 2 CPUs): figures share every CPU',
    };
  }
  execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
  return {
    gateway: 1,
    rest: 0,
    note: 'gateway alone on CPU 1; subgraphs and load generator on CPU 0 (taskset)',
  };
}

export interface Child {
  process: ChildProcess;
  pid: number;
  logFile: string;
  /** The last part of the log, for a failure message. */
  tail(): string;
  /** Ends the process (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnPinned(options: {
  cpu: number | undefined;
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  logFile: string;
  cwd?: string;
}): Child {
  const out = openSync(options.logFile, 'a');
  const [command, args] =
    options.cpu === undefined
      ? [options.command, options.args]
      : ['taskset', ['-c', String(options.cpu), options.command, ...options.args]];
  // taskset execs the command, so the pid is the gateway's own.
  const child = spawn(command, args, {
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      // No contender calls home during a run (@apollo/gateway's telemetry is on by default).
      APOLLO_TELEMETRY_DISABLED: 'true',
      ...options.env,
    },
    stdio: ['ignore', out, out],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    process: child,
    pid: child.pid,
    logFile: options.logFile,
    tail: () => (existsSync(options.logFile) ? readFileSync(options.logFile, 'utf8').slice(-4_000) : ''),
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      await exited;
    },
  };
}

function statusField(pid: number, field: string): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    const kb = line ? Number(/(\d+)/.exec(line)?.[1]) : NaN;
    return Number.isFinite(kb) ? kb * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The ppid is the 4th field after the command, which is parenthesised and may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Peak resident memory of a process and its descendants (each one's VmHWM, summed), in bytes;
 * undefined where /proc is not there. Read before the process stops.
 */
export function peakRss(pid: number): number | undefined {
  if (!existsSync(`/proc/${pid}/status`)) return undefined;
  let total = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.pop() as number;
    total += statusField(next, 'VmHWM') ?? 0;
    queue.push(...childrenOf(next));
  }
  return total;
}
