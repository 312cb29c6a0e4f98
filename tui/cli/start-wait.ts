import type { DaemonClient } from '../../shared/client/client.js';
import { EtlError } from '../../shared/errors.js';
import type { EventData } from '../../shared/protocol.js';
import type { RunStatus } from '../../shared/types.js';
import type { CommandContext } from './context.js';
import { formatCount } from './format.js';
import { EXIT } from './io.js';

const FINAL: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);
/** Plain (non-TTY) progress lines are printed at most this often. */
const PLAIN_EVERY_MS = 5_000;

/**
 * `start <pipeline> --wait`: subscribes before starting (so no event is missed), follows the run
 * through every retry its policy allows to its final status, and returns 0 for succeeded, 1
 * otherwise: a failed attempt that is retried is reported, not the end.
 */
export async function startAndWait(
  ctx: CommandContext,
  client: DaemonClient,
  pipeline: string,
): Promise<number> {
  const { io, style } = ctx;
  const live = io.stdoutIsTty && !ctx.flags.json;
  let runId: string | null = null;
  let lastPlainAt = 0;
  let lastPhase = '';
  const early: EventData<'run.state'>[] = [];
  let finish: (status: EventData<'run.state'>) => void = () => undefined;
  const finished = new Promise<EventData<'run.state'>>((resolve) => (finish = resolve));

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

  await client.call('subscribe', { topics: ['runs', 'progress'], pipeline });
  const started = await client.call('start', { pipeline });
  runId = started.run_id;
  if (!ctx.flags.json)
    ctx.print(`started run ${started.run_id} of ${pipeline}; waiting (Ctrl-C stops waiting, not the run)`);
  for (const data of early.splice(0)) onState(data);

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
  const outcome = await Promise.race([finished, lost, interrupted]);
  if (outcome === 'interrupted') {
    clearLine();
    io.stderr(`etlctl: stopped waiting; run ${runId} continues (etlctl stop ${pipeline} cancels it)\n`);
    return EXIT.interrupted;
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
