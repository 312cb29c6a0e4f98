/**
 * Starts goccy/bigquery-emulator (built by .ci/install-bigquery-emulator.sh) on free loopback
 * ports with an in-memory database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/process.js';

export interface BigQueryEmulator {
  readonly endpoint: string;
  readonly project: string;
  /** jobs.query against the emulator; values as the API returns them (text or null). */
  query(sql: string): Promise<(string | null)[][]>;
  stop(): Promise<void>;
}

export function findEmulatorBinary(env: NodeJS.ProcessEnv): string {
  const candidates = [
    env.ETLD_BQ_EMULATOR,
    env.ETLD_ORACLES_BIN && join(env.ETLD_ORACLES_BIN, 'bigquery-emulator'),
    '/opt/etld-oracles/bin/bigquery-emulator',
  ];
  const found = candidates.find((c): c is string => typeof c === 'string' && c !== '' && existsSync(c));
  if (found === undefined) {
    throw new Error(
      'goccy/bigquery-emulator not found (looked at $ETLD_BQ_EMULATOR, $ETLD_ORACLES_BIN/bigquery-emulator, /opt/etld-oracles/bin/bigquery-emulator): run .ci/install-bigquery-emulator.sh',
    );
  }
  return found;
}

export async function startEmulator(binary: string, project = 'etld-emu'): Promise<BigQueryEmulator> {
  const [port, grpcPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(
    binary,
    [
      `--project=${project}`,
      '--host=127.0.0.1',
      `--port=${port}`,
      `--grpc-port=${grpcPort}`,
      '--log-level=error',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`emulator exited: ${stderr}`);
      const res = await fetch(`${endpoint}/bigquery/v2/projects/${project}/datasets`);
      return res.ok ? true : undefined;
    },
    { timeoutMs: 60_000, what: `bigquery-emulator on port ${port}` },
  );
  return {
    endpoint,
    project,
    async query(sql) {
      const res = await fetch(`${endpoint}/bigquery/v2/projects/${project}/queries`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: sql, useLegacySql: false }),
      });
      const body = (await res.json()) as {
        rows?: { f: { v: string | null }[] }[];
        error?: { message: string };
      };
      if (!res.ok) throw new Error(`emulator query failed: ${body.error?.message ?? res.status}`);
      return (body.rows ?? []).map((r) => r.f.map((c) => c.v));
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
