/**
 * One idle-daemon measurement: a throwaway home with N pipelines (yearly schedules, a PostgreSQL
 * source nobody listens for, Delta destinations), etld started on it, its memory read from
 * /proc/PID/status after a settling time, then SIGTERM. Linux only (/proc).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IdleOptions {
  /** The node binary (main.ts passes its own). */
  readonly nodePath: string;
  readonly etldMain: string;
  readonly pipelines: number;
  readonly settleMs: number;
  /** Extra node flags, e.g. `--max-semi-space-size=1`. */
  readonly nodeFlags: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

export interface IdleSample {
  /** VmRSS, RssAnon (private) and RssFile (mapped files, mostly the node binary), in MiB. */
  readonly rssMb: number;
  readonly anonMb: number;
  readonly fileMb: number;
  readonly threads: number;
  /** Native addons mapped into the process (duckdb.node would be a regression). */
  readonly addons: readonly string[];
}

function pipelineYaml(index: number): string {
  return [
    `name: p${index}`,
    'schedule: "0 0 1 1 *"',
    'source:',
    '  type: postgres',
    '  connection: { host: 127.0.0.1, port: 5999, database: db, user: u }',
    `  table: public.t${index}`,
    '  key: [id]',
    'load: { mode: full }',
    `destination: { type: delta, path: lake/p${index} }`,
    '',
  ].join('\n');
}

function statusKb(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status);
  return match ? Number(match[1]) : Number.NaN;
}

function sample(pid: number): IdleSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const addons = new Set<string>();
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const path = line.split(/\s+/)[5] ?? '';
    if (path.endsWith('.node')) addons.add(path.slice(path.lastIndexOf('/') + 1));
  }
  return {
    rssMb: statusKb(status, 'VmRSS') / 1024,
    anonMb: statusKb(status, 'RssAnon') / 1024,
    fileMb: statusKb(status, 'RssFile') / 1024,
    threads: statusKb(status, 'Threads'),
    addons: [...addons].sort(),
  };
}

export async function measureIdle(options: IdleOptions): Promise<IdleSample> {
  const home = mkdtempSync(join(tmpdir(), 'etld-bench-idle-'));
  try {
    mkdirSync(join(home, 'pipelines'));
    for (let i = 1; i <= options.pipelines; i++)
      writeFileSync(join(home, 'pipelines', `p${i}.yaml`), pipelineYaml(i));
    const child = spawn(options.nodePath, [...options.nodeFlags, options.etldMain, '--home', home], {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    if (child.exitCode !== null || child.pid === undefined)
      throw new Error(`etld exited during the settling time:\n${output}`);
    const result = sample(child.pid);
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`etld exited with ${code} on SIGTERM:\n${output}`);
    return result;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
