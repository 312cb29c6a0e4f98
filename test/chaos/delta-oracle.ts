/**
 * Reads Delta tables with delta-rs: runs the repository's oracle script
 * (`test/oracles/delta_read.py deltalake TABLE…`, values normalised to text) with the oracle
 * virtualenv's python, one process for all tables of a round. A missing virtualenv is an error,
 * never a skip (`.ci/install-delta-oracles.sh` installs it; ETLD_ORACLE_DIR moves it).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DELTA_ORACLE_SCRIPT } from './repo-paths.js';

const execFileAsync = promisify(execFile);

export interface DeltaTableRead {
  readonly schema?: { name: string; type: string; nullable: boolean }[];
  readonly rows?: Record<string, unknown>[];
  readonly error?: string;
}

export async function readDeltaTables(paths: readonly string[]): Promise<Record<string, DeltaTableRead>> {
  const dir = process.env.ETLD_ORACLE_DIR ?? '/opt/etld-oracles';
  const python = join(dir, 'venv', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error(
      `the delta-rs oracle is not installed (${python} is missing): run \`bash .ci/install-delta-oracles.sh\``,
    );
  }
  const { stdout } = await execFileAsync(python, [DELTA_ORACLE_SCRIPT, 'deltalake', ...paths], {
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ETLD_ORACLE_DIR: dir, TZ: 'UTC' },
    timeout: 300_000,
  });
  const last = stdout.trim().split('\n').at(-1) ?? '{}';
  return (JSON.parse(last) as { tables: Record<string, DeltaTableRead> }).tables;
}
