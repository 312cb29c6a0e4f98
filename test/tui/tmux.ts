/** A private tmux server (its own -L socket) to run a program in a real terminal for tests. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/process.js';

/** Runs tmux with stdin closed (tmux never reads it; writing to it could hit EPIPE). */
function runTmux(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('tmux', [...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.destroy();
  });
}

export class TmuxSession {
  readonly socket = `etl-console-e2e-${process.pid}-${randomBytes(4).toString('hex')}`;
  readonly target = 'console';

  async #tmux(...args: string[]): Promise<string> {
    const result = await runTmux(['-L', this.socket, '-f', '/dev/null', ...args]);
    if (result.code !== 0)
      throw new Error(`tmux ${args.join(' ')} failed (${String(result.code)}): ${result.stderr}`);
    return result.stdout;
  }

  /** Starts a plain shell in a `columns`×`rows` terminal. */
  async start(columns: number, rows: number, env: Record<string, string>): Promise<void> {
    const exports = Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
    await this.#tmux(
      'new-session',
      '-d',
      '-s',
      this.target,
      '-x',
      String(columns),
      '-y',
      String(rows),
      ...exports,
      // An operator's terminal, not a CI job: CI=true (set by .ci/run) would make colour detection
      // switch colours off, which is not what this session is meant to show.
      'env -u CI -u CONTINUOUS_INTEGRATION bash --norc --noprofile',
    );
  }

  /** Types a command line and presses Enter. */
  async run(commandLine: string): Promise<void> {
    await this.#tmux('send-keys', '-t', this.target, '-l', commandLine);
    await this.#tmux('send-keys', '-t', this.target, 'Enter');
  }

  /** Sends keys by tmux name (`Enter`, `Escape`, `Down`) or as literal text with `literal`. */
  async keys(keys: string, literal = true): Promise<void> {
    await this.#tmux('send-keys', '-t', this.target, ...(literal ? ['-l', keys] : [keys]));
  }

  /** Resizes the terminal, as an operator dragging the window does. */
  async resize(columns: number, rows: number): Promise<void> {
    await this.#tmux('resize-window', '-t', this.target, '-x', String(columns), '-y', String(rows));
  }

  /** The visible screen as text. */
  capture(): Promise<string> {
    return this.#tmux('capture-pane', '-p', '-t', this.target);
  }

  /** The visible screen with colour escape codes. */
  captureWithColors(): Promise<string> {
    return this.#tmux('capture-pane', '-p', '-e', '-t', this.target);
  }

  /** A tmux format variable of the pane, e.g. `alternate_on`, `cursor_flag`. */
  async paneVariable(name: string): Promise<string> {
    return (await this.#tmux('display-message', '-p', '-t', this.target, `#{${name}}`)).trim();
  }

  async waitForScreen(
    predicate: (screen: string) => boolean,
    what: string,
    timeoutMs = 60_000,
  ): Promise<string> {
    let last = '';
    try {
      return await waitFor(
        async () => {
          last = await this.capture();
          return predicate(last) ? last : undefined;
        },
        { timeoutMs, intervalMs: 250, what },
      );
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- screen ---\n${last}`, {
        cause: error,
      });
    }
  }

  /** Stops the server and removes its socket file, which tmux leaves behind. */
  async kill(): Promise<void> {
    await runTmux(['-L', this.socket, 'kill-server']);
    const dir = process.env.TMUX_TMPDIR ?? '/tmp';
    rmSync(join(dir, `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}
