import { spawn, type SpawnOptions } from 'node:child_process';

// waitFor lives in wait.ts, which unit-tier tests import without child_process; re-exported for
// the tests that import it from here.
export { waitFor } from './wait.js';

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion, capturing output; never throws for a non-zero exit. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    // A command that exits before reading its input closes the pipe, and writing to it then fails
    // with EPIPE: that is the command's business (its exit code and output say what happened), not
    // an error of this helper, and unhandled it fails the whole test run.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}
