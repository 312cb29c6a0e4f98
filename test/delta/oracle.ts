import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './fixtures.js';

const run = promisify(execFile);

export interface OracleTable {
  readonly version?: number;
  readonly schema?: { name: string; type: string; nullable: boolean }[];
  readonly rows?: Record<string, unknown>[];
  readonly error?: string;
}

function oracleDir(): string {
  return process.env.ETLD_ORACLE_DIR ?? '/opt/etld-oracles';
}

/** The oracle venv's python; fails loudly (never skips) when the install script has not run. */
function oraclePython(): string {
  const python = join(oracleDir(), 'venv', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error(
      `Delta oracles are not installed (${python} is missing): run \`bash .ci/install-delta-oracles.sh\` ` +
        '(set ETLD_ORACLE_DIR to install elsewhere) before running the Delta conformance tests',
    );
  }
  return python;
}

/** Reads tables with delta-rs or Spark (test/oracles/delta_read.py); one process for all tables. */
export async function readWithOracle(
  engine: 'deltalake' | 'spark',
  tables: readonly string[],
): Promise<Record<string, OracleTable>> {
  const { stdout } = await run(
    oraclePython(),
    [join(repoRoot, 'test', 'oracles', 'delta_read.py'), engine, ...tables],
    {
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, ETLD_ORACLE_DIR: oracleDir(), TZ: 'UTC' },
      timeout: 600_000,
    },
  );
  const lastLine = stdout.trim().split('\n').at(-1) ?? '{}';
  return (JSON.parse(lastLine) as { tables: Record<string, OracleTable> }).tables;
}
