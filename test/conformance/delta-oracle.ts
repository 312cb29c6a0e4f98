/**
 * Reads Delta tables with an engine that is not ours: runs `test/oracles/delta_read.py` (delta-rs or
 * Apache Spark, values normalised to text) with the oracle virtualenv's python, one process for all
 * tables of a call. A missing virtualenv is an error, never a skip: `.ci/install-delta-oracles.sh`
 * installs it, and ETLD_ORACLE_DIR moves it. Used by the Delta tests, the destination conformance
 * suite and `npm run chaos` (which runs compiled from build/chaos, hence the walked-up repo root).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DELTA_ORACLE_SCRIPT } from '../helpers/repo-paths.js';

const run = promisify(execFile);

export interface OracleTable {
  readonly version?: number;
  readonly schema?: { name: string; type: string; nullable: boolean }[];
  readonly rows?: Record<string, unknown>[];
  readonly error?: string;
}

export function oracleDir(): string {
  return process.env.ETLD_ORACLE_DIR ?? '/opt/etld-oracles';
}

export function oraclePython(): string {
  const python = join(oracleDir(), 'venv', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error(
      `Delta oracles are not installed (${python} is missing): run \`bash .ci/install-delta-oracles.sh\` ` +
        '(set ETLD_ORACLE_DIR to install elsewhere) before running the Delta tests',
    );
  }
  return python;
}

/** Reads `tables` with delta-rs or Spark; one entry per path, each with rows or its own error. */
export async function readWithOracle(
  engine: 'deltalake' | 'spark',
  tables: readonly string[],
  options: { readonly storageOptions?: Readonly<Record<string, string>> } = {},
): Promise<Record<string, OracleTable>> {
  const { stdout } = await run(oraclePython(), [DELTA_ORACLE_SCRIPT, engine, ...tables], {
    maxBuffer: 256 * 1024 * 1024,
    env: {
      ...process.env,
      ETLD_ORACLE_DIR: oracleDir(),
      TZ: 'UTC',
      // delta-rs storage options for s3:// / az:// / gs:// tables (an emulator's endpoint and keys).
      ETLD_ORACLE_STORAGE_OPTIONS: JSON.stringify(options.storageOptions ?? {}),
    },
    timeout: 600_000,
  });
  const lastLine = stdout.trim().split('\n').at(-1) ?? '{}';
  return (JSON.parse(lastLine) as { tables: Record<string, OracleTable> }).tables;
}

/**
 * Runs SQL statements in Apache Spark with delta-spark (one JVM), e.g. to create a table Spark's
 * way before etld writes to it; rejects with Spark's error when a statement fails.
 */
export async function runSparkSql(statements: readonly string[]): Promise<void> {
  await run(oraclePython(), [DELTA_ORACLE_SCRIPT, 'spark-sql', ...statements], {
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ETLD_ORACLE_DIR: oracleDir(), TZ: 'UTC' },
    timeout: 600_000,
  });
}
