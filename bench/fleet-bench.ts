/**
 * `npm run bench -- --fleet N`: the fleet comparison alone (fleet-case.ts). It needs only
 * PostgreSQL, which holds both the generated table and the fleets' state databases; no MariaDB,
 * baselines, peers or idle daemon. Returns the report main.ts prints and writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { createDataset, pgTableBytes } from './dataset.js';
import { runFleetCase } from './fleet-case.js';
import type { Report } from './report.js';
import { machine, nodePackageVersion, serverVersions } from './versions.js';

export interface FleetBenchOptions {
  readonly rows: number;
  readonly repeat: number;
  readonly hosts: number;
  readonly root: string;
  readonly commit: string;
  readonly startedAt: Date;
  readonly nodePath: string;
  readonly nodeVersion: string;
  readonly etldMain: string;
  readonly etlctlMain: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (text: string) => void;
  readonly signal: AbortSignal;
}

export async function runFleetBench(options: FleetBenchOptions): Promise<Report> {
  const { rows, log } = options;
  const workDir = mkdtempSync(join(tmpdir(), 'etld-bench-fleet-'));
  try {
    log(`starting PostgreSQL, generating ${rows.toLocaleString('en-US')} rows…\n`);
    const server = await startPostgres({ settings: { max_wal_size: '4GB' } });
    try {
      await server.createDatabase('bench');
      const source = { host: server.host, port: server.port, user: server.user, database: 'bench' };
      const dataset = await createDataset(source, null, rows, workDir);
      const tableMb = (await pgTableBytes(source)) / 1024 / 1024;
      log(
        `table: ${rows.toLocaleString('en-US')} rows, ${tableMb.toFixed(0)} MB heap in PostgreSQL; ` +
          `generated in ${dataset.totalSeconds.toFixed(1)} s\n\n`,
      );
      const fleet = await runFleetCase({ ...options, server, source, workDir });
      return {
        startedAt: options.startedAt,
        rows,
        repeat: options.repeat,
        tableMb,
        machine: machine(),
        versions: {
          etld: options.commit,
          node: options.nodeVersion,
          '@duckdb/node-api': nodePackageVersion(options.root, '@duckdb/node-api'),
          ...(await serverVersions(source, null)),
        },
        dataset,
        peerInstallSeconds: null,
        results: [],
        idle: null,
        checks: null,
        targets: [],
        fleet,
        skipped: [
          'baselines, the other cases, peers and the idle daemon: --fleet runs the fleet comparison alone',
        ],
      };
    } finally {
      await server.destroy();
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
