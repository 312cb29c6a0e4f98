/**
 * Builds the product (`dist/`) once before any test file runs: integration tests spawn the built
 * daemon, console and CLI, and a build started by one worker while another spawns `dist/` would
 * race. `npm test` and a bare `npx vitest run` both get a fresh build this way.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function buildOnce(): void {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
}
