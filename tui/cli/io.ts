/** Everything etlctl needs from its process, passed in by main.ts so commands stay testable. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdoutIsTty: boolean;
  /** Whether stdin is a terminal someone can answer a question on (`ask`). */
  readonly stdinIsTty: boolean;
  /** Asks on the terminal and resolves with the line typed; null for Ctrl-C or Ctrl-D. */
  readonly ask: (question: string) => Promise<string | null>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The working directory: a relative --home resolves against it, as etld resolves it. */
  readonly cwd: string;
  /** Aborted on Ctrl-C (SIGINT). */
  readonly signal: AbortSignal;
  readonly now: () => Date;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, interrupted: 130 } as const;
