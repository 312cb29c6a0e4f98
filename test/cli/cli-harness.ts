import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, type CommandResult } from '../helpers/process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'tui', 'cli', 'main.js');

/**
 * dist/ is built once by vitest's global setup (test/global-setup.ts): a file that rebuilt it
 * would rewrite the modules other files' daemons are importing at that moment.
 */
export function assertCliBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: the tests' global setup builds dist/ first`);
}

const ENV = { ...process.env, NO_COLOR: '1', ETLD_HOME: '' };

export function etlctl(args: readonly string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return runCommand(process.execPath, [CLI, ...args], { env: { ...ENV, ...env } });
}

/** Starts etlctl without waiting for it (for -f / --wait); output accumulates in the returned buffers. */
export function spawnEtlctl(args: readonly string[]): {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, out, exit };
}
