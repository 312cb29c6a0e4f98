import { stat } from 'node:fs/promises';
import type { DaemonClient } from '../../shared/client/client.js';
import { isEtlError } from '../../shared/errors.js';
import { logFilesFor, readLogs, type LogQuery } from '../../shared/logs/log-reader.js';
import type { LogLine } from '../../shared/protocol.js';

/** How a daemon-side read or follow ended. */
export type DaemonLogsEnd = 'done' | 'interrupted' | 'lost';

/**
 * `logs` through the daemon: the past lines, then (following) the live ones until Ctrl-C or until
 * the connection is lost (the daemon stopped or restarted).
 */
export async function logsFromDaemon(
  client: DaemonClient,
  query: LogQuery,
  follow: boolean,
  signal: AbortSignal,
  print: (line: LogLine) => void,
): Promise<DaemonLogsEnd> {
  const held: LogLine[] = [];
  let replied = false;
  // Events may arrive before the reply is processed; keep them in order behind the past lines.
  client.onEvent('log', (line) => (replied ? print(line) : held.push(line)));
  let lost: () => void = () => undefined;
  const connectionLost = new Promise<'lost'>((resolve) => (lost = () => resolve('lost')));
  client.onState((state) => {
    if (state === 'disconnected' || state === 'closed') lost();
  });
  try {
    const result = await client.call(
      'logs',
      {
        lines: query.lines,
        follow,
        errors_only: query.errorsOnly ?? false,
        ...(query.pipeline === undefined ? {} : { pipeline: query.pipeline }),
        ...(query.since === undefined ? {} : { since: query.since }),
        ...(query.runId === undefined ? {} : { run_id: query.runId }),
        ...(query.grep === undefined ? {} : { grep: query.grep }),
      },
      { timeoutMs: 0, signal },
    );
    for (const line of result.lines) print(line);
  } catch (error) {
    if (isEtlError(error) && error.code === 'CANCELLED') return 'interrupted';
    // The daemon went away during the read: a follow picks up from the files or the next daemon.
    if (follow && isEtlError(error) && error.code === 'DAEMON_UNREACHABLE') return 'lost';
    throw error;
  }
  replied = true;
  for (const line of held.splice(0)) print(line);
  if (!follow) return 'done';
  return Promise.race([connectionLost, aborted(signal)]);
}

/** How often a follow without a daemon looks at the files, and tries the daemon again. */
const FILE_POLL_MS = 250;
const RECONNECT_EVERY_MS = 1_000;

/**
 * A follow while the daemon is unreachable: prints what is added to the log files (by a daemon
 * still shutting down, by `etld --once`), as `tail -F` would, and tries the daemon every second.
 * Resolves with a client once the daemon answers again, or null on Ctrl-C. `logDir` is null when
 * the files are not on this host: then it only waits for the daemon.
 */
export async function followWithoutDaemon(
  logDir: string | null,
  query: () => LogQuery,
  tryConnect: () => Promise<DaemonClient | null>,
  signal: AbortSignal,
  print: (line: LogLine) => void,
): Promise<DaemonClient | null> {
  let seen = logDir === null ? '' : await filesSignature(logDir, query());
  let nextConnectAt = Date.now() + RECONNECT_EVERY_MS;
  while (!signal.aborted) {
    if ((await sleep(FILE_POLL_MS, signal)) === 'interrupted') return null;
    if (logDir !== null) {
      const now = await filesSignature(logDir, query());
      if (now !== seen) {
        seen = now;
        for (const line of await readLogs(logDir, query())) print(line);
      }
    }
    if (Date.now() >= nextConnectAt) {
      const client = await tryConnect();
      if (client !== null) return client;
      nextConnectAt = Date.now() + RECONNECT_EVERY_MS;
    }
  }
  return null;
}

/** Identity, size and time of every file a query reads: a change means lines may have been added. */
async function filesSignature(logDir: string, query: LogQuery): Promise<string> {
  const parts: string[] = [];
  for (const file of logFilesFor(logDir, query)) {
    try {
      const s = await stat(file);
      parts.push(`${file}:${s.ino}:${s.size}:${s.mtimeMs}`);
    } catch {
      parts.push(`${file}:-`);
    }
  }
  return parts.join('\n');
}

function aborted(signal: AbortSignal): Promise<'interrupted'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('interrupted');
    signal.addEventListener('abort', () => resolve('interrupted'), { once: true });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<'slept' | 'interrupted'> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve('interrupted');
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve('interrupted');
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve('slept');
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
