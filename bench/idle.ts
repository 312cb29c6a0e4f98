/**
 * The idle daemon case: etld as a service with many configured pipelines, none due. Starts
 * `etld --home H` with N pipeline files whose cron schedules fire once a year, half a year from
 * now; waits until the control socket answers `list` with all N (or, failing that, a fixed settle
 * time); samples the resident set for a few seconds; then stops it with SIGTERM.
 */
import { spawn } from 'node:child_process';
import { launcherFlags } from './cases.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectClient } from '../shared/client/ws-client.js';
import type { Connection } from './cases.js';
import { median } from './measure.js';
import { memory } from './proc-status.js';

export interface IdleOptions {
  readonly nodePath: string;
  readonly etldMain: string;
  readonly home: string;
  readonly pg: Connection;
  readonly pipelines: number;
  readonly env: NodeJS.ProcessEnv;
  readonly now: Date;
}

export interface IdleResult {
  readonly pipelines: number;
  /** Seconds from spawn until `list` answered with every pipeline; null if it never did. */
  readonly readySeconds: number | null;
  /** Highest RSS since start (VmHWM at the end of the window), MB. */
  readonly peakRssMb: number;
  /** Median and highest RSS over the sampling window, MB. */
  readonly steadyRssMb: number;
  readonly windowMaxRssMb: number;
  readonly samples: number;
  readonly error: string | null;
}

const READY_TIMEOUT_MS = 60_000;
/** Used when the socket never answers: long enough for startup to be over. */
const SETTLE_MS = 10_000;
const WINDOW_MS = 5_000;
const SAMPLE_MS = 250;
const STOP_TIMEOUT_MS = 30_000;

function writePipelines(options: IdleOptions): void {
  const dir = join(options.home, 'pipelines');
  mkdirSync(dir, { recursive: true });
  // Day 1 of the month six months ahead, 03:00: never due while the bench runs, whatever the date.
  const month = ((options.now.getMonth() + 6) % 12) + 1;
  const { host, port, database, user } = options.pg;
  for (let i = 1; i <= options.pipelines; i++) {
    const name = `idle_${String(i).padStart(3, '0')}`;
    writeFileSync(
      join(dir, `${name}.yaml`),
      `name: ${name}
schedule: "0 3 1 ${month} *"
source:
  type: postgres
  connection: { host: ${host}, port: ${port}, database: ${database}, user: ${user} }
  table: public.bench
  key: [id]
load: { mode: full }
destination: { type: delta, path: ${name} }
`,
    );
  }
}

/** How many pipelines the daemon at `socketPath` lists, or undefined while it does not answer. */
export async function listedPipelines(socketPath: string): Promise<number | undefined> {
  try {
    const client = await connectClient({ socketPath, clientName: 'etld-bench', reconnect: false });
    try {
      return (await client.call('list', {}, { timeoutMs: 5_000 })).length;
    } finally {
      await client.close();
    }
  } catch {
    return undefined; // not listening yet
  }
}

export async function runIdleCase(options: IdleOptions): Promise<IdleResult> {
  writePipelines(options);
  const started = performance.now();
  const child = spawn(
    options.nodePath,
    [...launcherFlags(options.etldMain), options.etldMain, '--home', options.home, '--log-level', 'warning'],
    {
      env: options.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  const failed = (error: string): IdleResult => ({
    pipelines: options.pipelines,
    readySeconds: null,
    peakRssMb: Number.NaN,
    steadyRssMb: Number.NaN,
    windowMaxRssMb: Number.NaN,
    samples: 0,
    error,
  });
  if (pid === undefined) return failed('etld did not start');
  try {
    let readySeconds: number | null = null;
    const socketPath = join(options.home, 'run', 'etld.sock');
    while (performance.now() - started < READY_TIMEOUT_MS && child.exitCode === null) {
      if ((await listedPipelines(socketPath)) === options.pipelines) {
        readySeconds = (performance.now() - started) / 1000;
        break;
      }
      await sleep(SAMPLE_MS);
    }
    if (child.exitCode !== null) return failed(`etld exited ${child.exitCode}: ${stderr.trim().slice(-300)}`);
    if (readySeconds === null) await sleep(Math.max(0, SETTLE_MS - (performance.now() - started)));

    const rss: number[] = [];
    let hwm = Number.NaN;
    for (let t = 0; t < WINDOW_MS; t += SAMPLE_MS) {
      const m = memory(pid);
      if (m === undefined) break;
      rss.push(m.rss);
      hwm = m.hwm;
      await sleep(SAMPLE_MS);
    }
    if (rss.length === 0) return failed(`etld exited while sampled: ${stderr.trim().slice(-300)}`);
    return {
      pipelines: options.pipelines,
      readySeconds,
      peakRssMb: hwm,
      steadyRssMb: median(rss),
      windowMaxRssMb: Math.max(...rss),
      samples: rss.length,
      error: readySeconds === null ? 'control socket never listed every pipeline; sampled after 10 s' : null,
    };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
      if (!stopped) child.kill('SIGKILL');
    }
  }
}
