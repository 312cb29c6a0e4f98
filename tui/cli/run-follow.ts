import type { DaemonClient } from '../../shared/client/client.js';
import { EtlError } from '../../shared/errors.js';
import type { EventData, RunDetail } from '../../shared/protocol.js';
import type { RunStatus } from '../../shared/types.js';
import type { CommandContext } from './context.js';
import { formatCount, formatSpan } from './format.js';
import { EXIT } from './io.js';

const FINAL: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);
/** Plain (non-TTY) progress lines are printed at most this often. */
const PLAIN_EVERY_MS = 5_000;

/** The run to follow, found or started once the pipeline's events are subscribed. */
export interface FollowTarget {
  readonly pipeline: string;
  /** Starts the run (or names the one to wait for); `announce` is printed unless --json. */
  begin(client: DaemonClient): Promise<{ readonly runId: string; readonly announce: string | null }>;
}

/** How a run ended, from its final `run.state` event or, when it had ended already, its record. */
interface Ending {
  readonly run_id: string;
  readonly status: RunStatus;
  readonly rows_loaded: number;
  readonly error: RunDetail['error'];
}

/**
 * The one way etlctl follows a run to its end (`start --wait`/`--attach`, `backfill --wait`,
 * `wait`): subscribes before the run is started or looked up (so no event is missed), shows live
 * progress, follows the run through every retry its policy allows to its final status (a failed
 * attempt that is retried is reported, not the end), and returns 0 for succeeded, 1 otherwise.
 * `timeoutMs` stops waiting (exit 1; the run goes on); Ctrl-C stops waiting too (exit 130).
 */
export async function followRun(
  ctx: CommandContext,
  client: DaemonClient,
  target: FollowTarget,
  timeoutMs: number | null,
): Promise<number> {
  const { io, style } = ctx;
  const live = io.stdoutIsTty && !ctx.flags.json;
  let runId: string | null = null;
  let lastPlainAt = 0;
  let lastPhase = '';
  const early: EventData<'run.state'>[] = [];
  let finish: (ending: Ending) => void = () => undefined;
  const finished = new Promise<Ending>((resolve) => (finish = resolve));

  const clearLine = (): void => {
    if (live) io.stdout('\r\u001B[2K');
  };
  const onState = (data: EventData<'run.state'>): void => {
    if (runId === null) {
      early.push(data);
      return;
    }
    // One run spans its attempts: `retrying` after a failed attempt, `running` again for the next.
    if (data.run_id !== runId) return;
    if (ctx.flags.json) {
      if (FINAL.has(data.status)) finish(data);
      return;
    }
    clearLine();
    if (data.status === 'retrying') {
      ctx.print(
        style.yellow(
          `attempt ${data.attempt} failed${data.error ? `: ${data.error.code}: ${data.error.message}` : ''}; retrying`,
        ),
      );
    } else if (FINAL.has(data.status)) {
      finish(data);
    } else if (!live) {
      ctx.print(`${data.status} (attempt ${data.attempt})`);
    }
  };
  client.onEvent('run.state', (data) => onState(data));
  client.onEvent('run.progress', (data) => {
    if (data.run_id !== runId || ctx.flags.json) return;
    const parts = data.parts
      .map(
        (p) => `${p.shard ?? (p.chunk !== null ? `#${p.chunk}` : 'part')} ${p.status} ${formatCount(p.rows)}`,
      )
      .join(' · ');
    const line = `${data.phase} ${formatCount(data.rows)} rows ${formatCount(Math.round(data.rows_per_s))} rows/s${parts ? ` | ${parts}` : ''}`;
    const now = io.now().getTime();
    if (live) io.stdout(`\r\u001B[2K${line.slice(0, 200)}`);
    else if (data.phase !== lastPhase || now - lastPlainAt >= PLAIN_EVERY_MS) {
      ctx.print(line);
      lastPlainAt = now;
    }
    lastPhase = data.phase;
  });

  await client.call('subscribe', { topics: ['runs', 'progress'], pipeline: target.pipeline });
  const begun = await target.begin(client);
  runId = begun.runId;
  if (!ctx.flags.json && begun.announce !== null) ctx.print(begun.announce);
  for (const data of early.splice(0)) onState(data);
  // A run that ended before the subscription (`wait` on a finished run) sends no more events.
  const current = await client.call('run', { run_id: runId });
  if (FINAL.has(current.status))
    finish({
      run_id: current.id,
      status: current.status,
      rows_loaded: current.rows_loaded,
      error: current.error,
    });

  const lost = new Promise<never>((_resolve, reject) => {
    client.onState((state, detail) => {
      if (state === 'disconnected' || state === 'closed') {
        reject(
          new EtlError(
            'DAEMON_UNREACHABLE',
            `lost the daemon while waiting for run ${runId ?? '?'}${detail ? ` (${detail})` : ''}`,
          ),
        );
      }
    });
  });
  const interrupted = new Promise<'interrupted'>((resolve) => {
    if (io.signal.aborted) resolve('interrupted');
    io.signal.addEventListener('abort', () => resolve('interrupted'), { once: true });
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (timeoutMs !== null) timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  let outcome: Ending | 'interrupted' | 'timeout';
  try {
    outcome = await Promise.race([finished, lost, interrupted, timedOut]);
  } finally {
    clearTimeout(timer);
  }
  if (outcome === 'interrupted') {
    clearLine();
    io.stderr(
      `etlctl: stopped waiting; run ${runId} continues (etlctl stop ${target.pipeline} cancels it)\n`,
    );
    return EXIT.interrupted;
  }
  if (outcome === 'timeout') {
    clearLine();
    const now = await client.call('run', { run_id: runId });
    if (ctx.flags.json) ctx.printJson(now);
    io.stderr(
      `etlctl: stopped waiting after ${formatSpan(timeoutMs ?? 0)}: run ${runId} is ${now.status} and continues (etlctl wait ${runId} waits again)\n`,
    );
    return EXIT.failed;
  }
  if (ctx.flags.json) {
    ctx.printJson(await client.call('run', { run_id: outcome.run_id }));
  } else {
    clearLine();
    const text = `run ${outcome.run_id} ${outcome.status}: ${formatCount(outcome.rows_loaded)} rows loaded${outcome.error ? ` — ${outcome.error.code}: ${outcome.error.message}` : ''}`;
    ctx.print(outcome.status === 'succeeded' ? style.green(text) : style.red(text));
  }
  return outcome.status === 'succeeded' ? EXIT.ok : EXIT.failed;
}
