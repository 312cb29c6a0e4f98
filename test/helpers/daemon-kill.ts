/**
 * Crash tests of a spawned daemon: start a run on a daemon that SIGKILLs itself at a failpoint
 * (`ETLD_FAILPOINTS`) or is killed after a delay, then restart it unarmed and wait until the
 * pipeline's newest run succeeded. Shared by the quarantine and files SIGKILL tests.
 */
import type { DaemonClient } from '../../shared/client/client.js';
import { connectWhenListening, spawnDaemon, type TempHome } from './daemon-process.js';
import { waitFor } from './process.js';

/** `start` once the daemon accepts it: the socket answers before start-up reconciliation ends. */
export async function startWhenReady(client: DaemonClient, pipeline: string): Promise<void> {
  await waitFor(
    () =>
      client.call('start', { pipeline }).then(
        () => true,
        (error: unknown) => {
          if (error instanceof Error && /is starting/.test(error.message)) return undefined;
          throw error;
        },
      ),
    { timeoutMs: 30_000, what: 'the daemon to accept a run' },
  );
}

export type KillAt = { readonly failpoint: string } | { readonly afterMs: number };

/** Starts a run of `pipeline` on a daemon that dies as `how` says, and waits for it to be gone. */
export async function runKilled(home: TempHome, pipeline: string, how: KillAt): Promise<void> {
  const env: Record<string, string> = 'failpoint' in how ? { ETLD_FAILPOINTS: `${how.failpoint}=kill` } : {};
  const daemon = spawnDaemon(home.dir, { env });
  try {
    const client = await connectWhenListening(home.socketPath, 'kill-test');
    try {
      await startWhenReady(client, pipeline);
      if ('afterMs' in how) {
        await new Promise((resolve) => setTimeout(resolve, how.afterMs));
        daemon.signal('SIGKILL');
      }
      await daemon.exited();
    } finally {
      await client.close().catch(() => undefined);
    }
  } finally {
    // A daemon that did not reach its failpoint must not outlive the test.
    await daemon.stop();
  }
}

/**
 * Restarts the daemon unarmed and waits until the newest run of `pipeline` succeeded; with
 * `runAgain`, one more run is started after that and awaited too (a retry that found its batch
 * already committed leaves newer data for a later run).
 */
export async function recoveredRun(
  home: TempHome,
  pipeline: string,
  options: { readonly runAgain?: boolean; readonly timeoutMs?: number } = {},
): Promise<void> {
  const daemon = spawnDaemon(home.dir);
  const client = await connectWhenListening(home.socketPath, 'kill-test');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const succeeded = async (): Promise<boolean | undefined> => {
    const [run] = await client.call('history', { pipeline, limit: 1 });
    return run?.status === 'succeeded' ? true : undefined;
  };
  const explain = async (error: unknown): Promise<never> => {
    throw new Error(
      `${String(error)}\nhistory: ${JSON.stringify(await client.call('history', { pipeline, limit: 3 }))}\n${daemon.lines.slice(-30).join('\n')}`,
    );
  };
  try {
    if (options.runAgain === true) {
      await waitFor(succeeded, { timeoutMs, what: 'the interrupted run to finish' }).catch(() => undefined);
      await startWhenReady(client, pipeline);
    }
    await waitFor(succeeded, { timeoutMs, what: 'the run to succeed after the restart' }).catch(explain);
  } finally {
    await client.close().catch(() => undefined);
    await daemon.stop();
  }
}
