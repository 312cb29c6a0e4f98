/**
 * Restart after a crash, as systemd would: when a step leaves the pipeline's newest run unfinished
 * (`running`, `queued`, `retrying`, `interrupted` — a SIGKILL, or a run cut off some other way),
 * the harness starts the long-running daemon on the same home, lets its start-up recovery retry
 * the interrupted run (same sequence), waits for that run to finish, and stops it with SIGTERM.
 *
 * Why: `etld --once` refuses to run a pipeline whose interrupted run is waiting to retry
 * ("… is waiting to retry (run …); stop it first or wait", ILLEGAL_STATE), and the next `--once`
 * would refuse again, so a killed pipeline would never run again under `--once` alone.
 *
 * Recovery happens inside the killed step, before its late transaction ends, so the retried run
 * reads the same snapshot and the model's two candidates (nothing committed / snapshot committed)
 * still apply.
 *
 * Fleet mode: the newest run is read from the shared PostgreSQL store (fleet-state.ts), and the
 * daemon that recovers is another host's (step-runner.ts says which and why), which takes the dead
 * host's run over once its run lease expires.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { DAEMON_ENTRY } from '../helpers/repo-paths.js';
import { newestRunPostgres } from './fleet-state.js';
import { stateEnv, type StateLocation } from './state-location.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const RECOVERY_TIMEOUT_MS = 45_000;

export interface RunRow {
  readonly id: string;
  readonly status: string;
  readonly verdict: string | null;
}

function newestRunSqlite(stateDb: string, pipeline: string): RunRow | null {
  if (!existsSync(stateDb)) return null;
  const db = new Database(stateDb, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // A daemon killed during its very first start-up leaves the file before its first migration
    // committed: no table, so no run was ever recorded.
    const migrated = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").get();
    if (migrated === undefined) return null;
    const row = db
      .prepare(
        'SELECT id, status, verdict FROM runs WHERE pipeline = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
      )
      .get(pipeline) as RunRow | undefined;
    return row ?? null;
  } finally {
    db.close();
  }
}

export async function newestRun(state: StateLocation, pipeline: string): Promise<RunRow | null> {
  return state.kind === 'sqlite'
    ? newestRunSqlite(state.file, pipeline)
    : newestRunPostgres(state.target, state.database, pipeline);
}

export async function needsRecovery(state: StateLocation, pipeline: string): Promise<boolean> {
  const row = await newestRun(state, pipeline);
  return row !== null && !FINAL.has(row.status);
}

export interface Recovery {
  /** Final status of the newest run, or what it was when the harness gave up. */
  readonly status: string;
  readonly durationMs: number;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface RecoveryRequest {
  readonly home: string;
  readonly config: string;
  readonly state: StateLocation;
  readonly pipeline: string;
  readonly logFile: string;
}

export async function recoverWithDaemon(request: RecoveryRequest): Promise<Recovery> {
  const { home, config, state, pipeline, logFile } = request;
  const started = Date.now();
  const child = spawn(process.execPath, [DAEMON_ENTRY, '--home', home, '--config', config], {
    env: { ...process.env, NO_COLOR: '1', ...stateEnv(state) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let status = 'unknown';
  try {
    while (
      Date.now() - started < RECOVERY_TIMEOUT_MS &&
      child.exitCode === null &&
      child.signalCode === null
    ) {
      await delay(250);
      status = (await newestRun(state, pipeline))?.status ?? 'none';
      if (FINAL.has(status)) break;
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), delay(30_000).then(() => false)]);
    if (!stopped) {
      child.kill('SIGKILL');
      await exited;
    }
    appendFileSync(logFile, `--- recovery (long-running daemon) ---\n${output}`);
  }
  return { status, durationMs: Date.now() - started };
}
