/**
 * Paths into the repository, found by walking up from this file: test code runs both from source
 * (vitest) and compiled into build/chaos/ (npm run chaos), where a fixed number of `../` is wrong.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (
      existsSync(join(dir, 'package.json')) &&
      existsSync(join(dir, 'daemon')) &&
      existsSync(join(dir, 'test', 'oracles'))
    )
      return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`cannot find the etld repository above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export const REPO_ROOT = findRepoRoot();
export const DAEMON_ENTRY = join(REPO_ROOT, 'dist', 'daemon', 'main.js');
export const DELTA_ORACLE_SCRIPT = join(REPO_ROOT, 'test', 'oracles', 'delta_read.py');

export function assertDaemonBuilt(): void {
  if (!existsSync(DAEMON_ENTRY))
    throw new Error(`${DAEMON_ENTRY} is missing: run "npm run build" first (npm run chaos does)`);
}
