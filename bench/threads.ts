/**
 * Per-thread CPU of a running process, from /proc: every ~100 ms the sampler reads
 * `/proc/<pid>/task/<tid>/stat` of each thread and keeps its latest utime+stime, name (`comm`, the
 * same field stat carries, so one read per thread) and start time. It costs one small read per
 * thread per tick in the bench process, synchronously so ticks never overlap; what it misses is a
 * thread's CPU after its last sample (≤ 100 ms per thread, shown as "unsampled").
 *
 * The names Node 24 and its addons give their threads, as observed on an etld run:
 * - `MainThread`: the JS thread (Node names it so); the thread whose tid is the pid.
 * - `V8Worker` and `DelayedTaskSche(duler)`: V8's platform workers (concurrent GC, compilation).
 * - `SignalInspector`: Node's signal-watching thread for the inspector.
 * - `libuv-worker`: libuv's threadpool (UV_THREADPOOL_SIZE, default 4) — where node-api addons
 *   such as @duckdb/node-api run their async calls, i.e. DuckDB's query execution.
 * - DuckDB's own worker threads carry no name of their own: a new thread inherits its creator's
 *   name, and DuckDB starts them from the pool thread that opens the database, so they appear as
 *   extra `libuv-worker` threads, started after the pool (checked: an instance with threads=4 adds
 *   exactly three). The first UV_THREADPOOL_SIZE `libuv-worker` threads by start time are therefore
 *   the pool, any later ones native workers; likewise a second `MainThread` is a native thread
 *   started from the JS thread.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports stat times in USER_HZ, which is 100 on every architecture Node supports. */
export const TICKS_PER_SECOND = 100;
const SAMPLE_MS = 100;

export interface ThreadCpu {
  readonly tid: number;
  readonly name: string;
  /** Start time after boot in ticks (orders the threads as they were created). */
  readonly start: number;
  readonly cpuSeconds: number;
  /** The process's first thread (tid = pid): the JS thread. */
  readonly main: boolean;
}

export const THREAD_GROUPS = [
  'main (JS)',
  'V8 (GC, JIT)',
  'libuv pool (DuckDB calls, fs)',
  'native workers (DuckDB)',
  'other',
] as const;
export type ThreadGroup = (typeof THREAD_GROUPS)[number];

function readStat(pid: number, tid: string): ThreadCpu | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  } catch {
    return undefined; // the thread ended between readdir and read
  }
  // comm may hold spaces or parentheses: it runs from the first "(" to the last ")".
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is stat field 3 (state): utime is field 14, stime 15, starttime 22.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return {
    tid: Number(tid),
    name: text.slice(text.indexOf('(') + 1, close),
    start: Number(fields[19]),
    cpuSeconds: ticks / TICKS_PER_SECOND,
    main: Number(tid) === pid,
  };
}

/** The first child of `parentPid` (GNU time's child is the measured command), if any yet. */
function firstChild(parentPid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${parentPid}/task/${parentPid}/children`, 'utf8').trim();
    const first = children.split(' ')[0];
    return first === undefined || first === '' ? undefined : Number(first);
  } catch {
    return undefined;
  }
}

export interface ThreadSampler {
  /** Stops sampling and returns every thread seen, with its last sampled CPU. */
  stop(): ThreadCpu[];
}

/** Samples the threads of `parentPid`'s child (the process GNU time runs) until stopped. */
export function sampleChildThreads(parentPid: number): ThreadSampler {
  const threads = new Map<number, ThreadCpu>();
  let pid: number | undefined;
  const tick = (): void => {
    pid ??= firstChild(parentPid);
    if (pid === undefined) return;
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return; // exited
    }
    for (const tid of tids) {
      const stat = readStat(pid, tid);
      if (stat !== undefined) threads.set(stat.tid, stat);
    }
  };
  const timer = setInterval(tick, SAMPLE_MS);
  return {
    stop: () => {
      clearInterval(timer);
      return [...threads.values()];
    },
  };
}

/** CPU seconds per group; `poolSize` is the libuv threadpool size the process ran with. */
export function groupThreads(threads: readonly ThreadCpu[], poolSize: number): Record<ThreadGroup, number> {
  const groups: Record<ThreadGroup, number> = {
    'main (JS)': 0,
    'V8 (GC, JIT)': 0,
    'libuv pool (DuckDB calls, fs)': 0,
    'native workers (DuckDB)': 0,
    other: 0,
  };
  const pool = new Set(
    threads
      .filter((t) => t.name === 'libuv-worker')
      .sort((a, b) => a.start - b.start || a.tid - b.tid)
      .slice(0, poolSize)
      .map((t) => t.tid),
  );
  for (const t of threads) {
    const group: ThreadGroup = t.main
      ? 'main (JS)'
      : t.name === 'V8Worker' || t.name.startsWith('DelayedTaskSche')
        ? 'V8 (GC, JIT)'
        : t.name === 'libuv-worker'
          ? pool.has(t.tid)
            ? 'libuv pool (DuckDB calls, fs)'
            : 'native workers (DuckDB)'
          : t.name === 'MainThread'
            ? 'native workers (DuckDB)'
            : 'other';
    groups[group] += t.cpuSeconds;
  }
  return groups;
}

/** Thread names seen, with counts, e.g. `MainThread×1, libuv-worker×6`. */
export function threadNames(threads: readonly ThreadCpu[]): string {
  const counts = new Map<string, number>();
  for (const t of threads) {
    counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  }
  return [...counts.entries()].map(([name, n]) => `${name}×${n}`).join(', ');
}
