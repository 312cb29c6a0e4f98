/**
 * The repository root, found by walking up from this file: the bench is compiled into
 * `build/bench/` (not `dist/`, which ships only the product), so a fixed number of `../` would tie
 * it to one output layout. The daemon it measures is the product build, `dist/daemon/main.js`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function isRepoRoot(dir: string): boolean {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return false;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'etld';
}

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!isRepoRoot(dir)) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no etld repository above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** The built daemon the bench runs (`npm run build`). */
export function etldMainPath(): string {
  return join(repoRoot(), 'dist', 'daemon', 'main.js');
}

/** The built etlctl, which starts the fleet case's runs as an operator would. */
export function etlctlMainPath(): string {
  return join(repoRoot(), 'dist', 'tui', 'cli', 'main.js');
}
