/**
 * Runs `etld --once PIPELINE` as a child process for one step and reports how it ended: exit
 * code, or the signal that killed it and whether the harness sent it.
 *
 * Decisions:
 * - Output (stdout and stderr, debug level) is appended to the pipeline's step log file (kept with
 *   the work dir of a failed session) and searched to decide whether a fault fired (e.g. ENOSPC).
 * - `killAfterMs` SIGKILLs the process at that moment if it still runs (fault 1); a process that
 *   dies by SIGKILL the harness did not send killed itself (the failpoint of fault 2).
 * - A run that outlives `timeoutMs` is SIGKILLed and reported as hung.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { DAEMON_ENTRY } from '../helpers/repo-paths.js';

export interface DaemonRunRequest {
  readonly home: string;
  readonly config: string;
  readonly pipeline: string;
  readonly env: Readonly<Record<string, string>>;
  readonly killAfterMs: number | null;
  readonly timeoutMs: number;
  readonly logFile: string;
  /** Called once the process is spawned (faults that act at a moment after the start). */
  readonly onSpawn?: () => void;
}

export interface DaemonRunResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The harness sent the SIGKILL (fault 1) while the process still ran. */
  readonly killedByHarness: boolean;
  readonly hung: boolean;
  readonly durationMs: number;
  /** The whole output of this run. */
  readonly output: string;
}

export function runDaemonOnce(request: DaemonRunRequest): Promise<DaemonRunResult> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      DAEMON_ENTRY,
      '--home',
      request.home,
      '--config',
      request.config,
      '--log-level',
      'debug',
      '--once',
      request.pipeline,
    ],
    {
      env: { ...process.env, NO_COLOR: '1', ...request.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let killedByHarness = false;
  let hung = false;
  const timers: NodeJS.Timeout[] = [];
  if (request.killAfterMs !== null) {
    timers.push(
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) {
          killedByHarness = true;
          child.kill('SIGKILL');
        }
      }, request.killAfterMs),
    );
  }
  timers.push(
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) {
        hung = true;
        child.kill('SIGKILL');
      }
    }, request.timeoutMs),
  );
  request.onSpawn?.();
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      for (const timer of timers) clearTimeout(timer);
      appendFileSync(request.logFile, output);
      resolve({
        exitCode: code,
        signal,
        killedByHarness,
        hung,
        durationMs: Date.now() - started,
        output,
      });
    });
  });
}
