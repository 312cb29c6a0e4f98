/**
 * Spawns the built daemon (`dist/daemon/main.js`) under a temporary ETLD_HOME and collects its
 * stdout lines, for tests that drive a real etld process (signals, sockets, exit codes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientOptions, DaemonClient } from '../../shared/client/client.js';
import { connectClient } from '../../shared/client/ws-client.js';
import { waitFor } from './process.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DAEMON_MAIN = join(REPO_ROOT, 'dist', 'daemon', 'main.js');
export const CONSOLE_MAIN = join(REPO_ROOT, 'dist', 'tui', 'console', 'main.js');

export function assertBuilt(): void {
  if (!existsSync(DAEMON_MAIN))
    throw new Error(`${DAEMON_MAIN} is missing: run "npm run build" (npm test does) first`);
}

export interface TempHome {
  readonly dir: string;
  readonly socketPath: string;
  writePipeline(fileName: string, yaml: string): string;
  writeSettings(yaml: string): void;
  remove(): void;
}

export function makeTempHome(prefix = 'etld-home-'): TempHome {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'pipelines'), { recursive: true });
  return {
    dir,
    socketPath: join(dir, 'run', 'etld.sock'),
    writePipeline: (fileName, yaml) => {
      const file = join(dir, 'pipelines', fileName);
      writeFileSync(file, yaml);
      return file;
    },
    writeSettings: (yaml) => writeFileSync(join(dir, 'etld.yaml'), yaml),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly stderr: () => string;
  /** Resolves with the first stdout line (already seen or future) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process has exited. */
  exited(timeoutMs?: number): Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM and wait; SIGKILL if it does not exit in time. */
  stop(): Promise<number | null>;
}

export function spawnDaemon(
  home: string,
  options: {
    env?: Record<string, string>;
    args?: string[];
    /** An installed `etld` to run by its #! line, instead of this repository's dist/. */
    executable?: string;
  } = {},
): DaemonProcess {
  if (options.executable === undefined) assertBuilt();
  const [command, entry] =
    options.executable === undefined ? [process.execPath, [DAEMON_MAIN]] : [options.executable, []];
  const child = spawn(command, [...entry, '--home', home, ...(options.args ?? [])], {
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let partial = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exitPromise = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
    Promise.race([
      promise,
      new Promise<T>((_, reject) =>
        setTimeout(
          () =>
            reject(
              new Error(
                `timed out after ${ms} ms waiting for ${what}\nstdout:\n${lines.join('\n')}\nstderr:\n${stderr}`,
              ),
            ),
          ms,
        ),
      ),
    ]);

  return {
    child,
    lines,
    stderr: () => stderr,
    waitForLine: (pattern, timeoutMs = 30_000) => {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return withTimeout(
        new Promise<string>((resolve) => waiters.push({ pattern, resolve })),
        timeoutMs,
        `a line matching ${String(pattern)}`,
      );
    },
    exited: (timeoutMs = 30_000) => withTimeout(exitPromise, timeoutMs, 'the daemon to exit'),
    signal: (signal) => {
      child.kill(signal);
    },
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      try {
        return await withTimeout(exitPromise, 30_000, 'SIGTERM exit');
      } catch {
        child.kill('SIGKILL');
        return exitPromise;
      }
    },
  };
}

/** A client of the daemon listening on `socketPath`, once it answers (a daemon just spawned takes a moment). */
export function connectWhenListening(
  socketPath: string,
  clientName: string,
  options: Pick<ClientOptions, 'subscribe'> = {},
): Promise<DaemonClient> {
  return waitFor(() => connectClient({ socketPath, clientName, reconnect: false, ...options }), {
    timeoutMs: 30_000,
    what: 'the control socket',
  });
}
