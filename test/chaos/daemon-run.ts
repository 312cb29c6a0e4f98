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
 * - `pauseInsteadOfKill` (fleet mode) sends SIGSTOP at `killAfterMs` instead: a stopped VM, not a
 *   dead host; a failpoint armed with `=pause` stops the process itself, which the harness sees in
 *   /proc (state `T`). Either way the result comes back at once with `wake`, which sends SIGCONT
 *   and resolves when the process ends (killed as hung if it outlives `timeoutMs` after waking).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { DAEMON_ENTRY } from '../helpers/repo-paths.js';

export interface DaemonRunRequest {
  readonly home: string;
  readonly config: string;
  readonly pipeline: string;
  readonly env: Readonly<Record<string, string>>;
  readonly killAfterMs: number | null;
  /** At `killAfterMs`, SIGSTOP instead of SIGKILL (fleet mode). */
  readonly pauseInsteadOfKill?: boolean;
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
  /** Set when the harness paused the process (SIGSTOP): resumes it and waits for its end. */
  readonly wake?: () => Promise<DaemonRunResult>;
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
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const killAsHung = (): NodeJS.Timeout =>
    setTimeout(() => {
      if (running()) {
        hung = true;
        child.kill('SIGKILL');
      }
    }, request.timeoutMs);
  const closed = new Promise<DaemonRunResult>((resolve) => {
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
  let paused: ((result: DaemonRunResult) => void) | undefined;
  const pausedResult = new Promise<DaemonRunResult>((resolve) => (paused = resolve));
  if (request.killAfterMs !== null) {
    timers.push(
      setTimeout(() => {
        if (!running()) return;
        if (request.pauseInsteadOfKill !== true) {
          killedByHarness = true;
          child.kill('SIGKILL');
          return;
        }
        child.kill('SIGSTOP');
        reportPaused();
      }, request.killAfterMs),
    );
  }
  function reportPaused(): void {
    // No timer may fire while the harness keeps the process stopped.
    for (const timer of timers.splice(0)) clearTimeout(timer);
    const wake = (): Promise<DaemonRunResult> => {
      timers.push(killAsHung());
      child.kill('SIGCONT');
      return closed;
    };
    paused?.({
      exitCode: null,
      signal: 'SIGSTOP',
      killedByHarness: false,
      hung: false,
      durationMs: Date.now() - started,
      output,
      wake,
    });
  }
  if (request.pauseInsteadOfKill === true) {
    // A failpoint armed with `=pause` stops the process itself.
    const watch = setInterval(() => {
      if (!running()) return;
      if (processState(child.pid) === 'T') {
        clearInterval(watch);
        reportPaused();
      }
    }, 50);
    timers.push(watch);
  }
  timers.push(killAsHung());
  request.onSpawn?.();
  return Promise.race([closed, pausedResult]);
}

/** The process's state letter from /proc (`T`: stopped), or null once it is gone. */
function processState(pid: number | undefined): string | null {
  if (pid === undefined) return null;
  try {
    // The command name, in parentheses, may hold spaces: the state follows its closing one.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}
