/** The verbs that start a run or wait for one: `start`, `backfill`, `wait`. */
import type { DaemonClient } from '../../shared/client/client.js';
import { EtlError } from '../../shared/errors.js';
import type { PipelineStatus } from '../../shared/protocol.js';
import type { CommandContext } from './context.js';
import { EXIT } from './io.js';
import { textOption, timeoutOption } from './option-values.js';
import { followRun } from './run-follow.js';

/** Runs `body` with a connected client and always closes it. */
export async function withClient(
  ctx: CommandContext,
  body: (client: DaemonClient) => Promise<number>,
): Promise<number> {
  const client = await ctx.connect();
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

/** `--wait` and `--attach` are one option: start, show live progress, wait for the end. */
function waits(ctx: CommandContext): boolean {
  const wait = ctx.values.wait === true || ctx.values.attach === true;
  if (!wait && ctx.values.timeout !== undefined)
    throw new EtlError('USAGE', '--timeout applies to --wait / --attach (or use etlctl wait RUN --timeout)');
  return wait;
}

export async function startCommand(ctx: CommandContext): Promise<number> {
  const pipeline = ctx.positionals[0] ?? '';
  const fullRefresh = ctx.values['full-refresh'] === true;
  const follow = waits(ctx);
  const timeout = timeoutOption(ctx.values);
  const what = fullRefresh ? 'full refresh' : 'run';
  return withClient(ctx, async (client) => {
    const start = async (): Promise<{ runId: string; announce: string }> => {
      const result = await client.call('start', { pipeline, full_refresh: fullRefresh });
      return { runId: result.run_id, announce: `started ${what} ${result.run_id} of ${pipeline}` };
    };
    if (follow) {
      return followRun(
        ctx,
        client,
        {
          pipeline,
          begin: async () => {
            const { runId, announce } = await start();
            return { runId, announce: `${announce}; waiting (Ctrl-C stops waiting, not the run)` };
          },
        },
        timeout,
      );
    }
    const { runId, announce } = await start();
    if (ctx.flags.json)
      ctx.printJson({ run_id: runId, pipeline, kind: fullRefresh ? 'full_refresh' : 'normal' });
    else ctx.print(`${announce} (etlctl wait ${runId} waits for it, etlctl logs ${pipeline} -f follows it)`);
    return EXIT.ok;
  });
}

export async function backfillCommand(ctx: CommandContext): Promise<number> {
  const pipeline = ctx.positionals[0] ?? '';
  const from = textOption(ctx.values, 'from');
  const to = textOption(ctx.values, 'to');
  if (from === undefined || to === undefined)
    throw new EtlError('USAGE', 'backfill needs --from and --to: the cursor range [from, to) to read again');
  const shard = textOption(ctx.values, 'shard');
  const follow = waits(ctx);
  const timeout = timeoutOption(ctx.values);
  return withClient(ctx, async (client) => {
    const start = async (): Promise<{ runId: string; announce: string }> => {
      const r = await client.call(
        'backfill',
        { pipeline, from, to, ...(shard === undefined ? {} : { shard }) },
        // The daemon asks the source to check the values first.
        { timeoutMs: 120_000 },
      );
      const scope = r.shard === null ? '' : ` on shard ${r.shard}`;
      return {
        runId: r.run_id,
        announce: `started backfill ${r.run_id} of ${pipeline}: [${r.from}, ${r.to})${scope}`,
      };
    };
    if (follow) {
      return followRun(ctx, client, { pipeline, begin: start }, timeout);
    }
    const { runId, announce } = await start();
    if (ctx.flags.json) ctx.printJson(await client.call('run', { run_id: runId }));
    else ctx.print(`${announce} (etlctl wait ${runId} waits for it)`);
    return EXIT.ok;
  });
}

/**
 * `wait <pipeline|run-id>`: a pipeline's current run (or, when none is active, its latest, which
 * may have ended already), or the run named. A name is taken as a pipeline first.
 */
export async function waitCommand(ctx: CommandContext): Promise<number> {
  const target = ctx.positionals[0] ?? '';
  const timeout = timeoutOption(ctx.values);
  return withClient(ctx, async (client) => {
    const found = await findRun(client, target);
    return followRun(
      ctx,
      client,
      {
        pipeline: found.pipeline,
        begin: () =>
          Promise.resolve({
            runId: found.runId,
            announce: `waiting for run ${found.runId} of ${found.pipeline} (Ctrl-C stops waiting, not the run)`,
          }),
      },
      timeout,
    );
  });
}

async function findRun(client: DaemonClient, target: string): Promise<{ pipeline: string; runId: string }> {
  let status: PipelineStatus | null = null;
  try {
    status = await client.call('status', { pipeline: target });
  } catch (error) {
    if (!(error instanceof EtlError) || error.code !== 'NOT_FOUND') throw error;
  }
  if (status !== null) {
    const run = status.current_run ?? status.last_run;
    if (run === null) throw new EtlError('NOT_FOUND', `pipeline ${target} has no run to wait for`);
    return { pipeline: target, runId: run.id };
  }
  try {
    const run = await client.call('run', { run_id: target });
    return { pipeline: run.pipeline, runId: run.id };
  } catch (error) {
    if (error instanceof EtlError && error.code === 'NOT_FOUND')
      throw new EtlError('NOT_FOUND', `no pipeline or run named "${target}" (etlctl list, etlctl runs)`);
    throw error;
  }
}
