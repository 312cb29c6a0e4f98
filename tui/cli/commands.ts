import type { DaemonClient } from '../../shared/client/client.js';
import { EtlError } from '../../shared/errors.js';
import { intOption } from './args.js';
import type { CommandContext } from './context.js';
import { formatBytes } from '../../shared/format-bytes.js';
import { EXIT } from './io.js';
import { generateCommand, printValidation, validateFiles } from './local-commands.js';
import { completionCommand } from './completion-command.js';
import { localDaemonPaths } from './local-paths.js';
import { logsCommand } from './logs-command.js';
import type { MethodParamsInput } from '../../shared/protocol.js';
import {
  renderHistory,
  renderInfo,
  renderList,
  renderPlan,
  renderPreview,
  renderReload,
  renderRun,
  renderStatus,
  renderWatermark,
} from './render.js';
import { startAndWait } from './start-wait.js';

export type Command = (ctx: CommandContext) => Promise<number>;

/** Runs `body` with a connected client and always closes it. */
async function withClient(
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

const pipelineArg = (ctx: CommandContext): string => ctx.positionals[0] ?? '';

/** Calls one method and prints either its JSON result or a human rendering. */
function simple<T extends object>(
  call: (client: DaemonClient, ctx: CommandContext) => Promise<T>,
  human: (result: T, ctx: CommandContext) => string,
): Command {
  return (ctx) =>
    withClient(ctx, async (client) => {
      const result = await call(client, ctx);
      if (ctx.flags.json) ctx.printJson(result);
      else ctx.print(human(result, ctx));
      return EXIT.ok;
    });
}

const WATERMARK_ACTIONS = ['show', 'set', 'reset'] as const;

function watermarkParams(ctx: CommandContext): MethodParamsInput<'watermark'> {
  const [action, pipeline, value] = ctx.positionals;
  const known = WATERMARK_ACTIONS.find((a) => a === action);
  if (known === undefined)
    throw new EtlError('USAGE', `watermark: expected show, set or reset, got "${action ?? ''}"`);
  if (known === 'set' && value === undefined)
    throw new EtlError('USAGE', 'watermark set: give the cursor value the destination is complete up to');
  if (known !== 'set' && value !== undefined)
    throw new EtlError('USAGE', `watermark ${known} takes no value`);
  const shard = typeof ctx.values.shard === 'string' ? ctx.values.shard : undefined;
  return {
    pipeline: pipeline ?? '',
    action: known,
    ...(value === undefined ? {} : { value }),
    ...(shard === undefined ? {} : { shard }),
  };
}

async function validateCommand(ctx: CommandContext): Promise<number> {
  const sources = ctx.values.sources === true;
  if (sources && ctx.positionals.length > 0) {
    throw new EtlError(
      'USAGE',
      "--sources checks the daemon's own pipeline files against their sources; drop the file names",
    );
  }
  if (ctx.positionals.length > 0)
    return printValidation(ctx, await validateFiles(ctx.positionals), ctx.positionals.join(' '));
  let client: DaemonClient;
  try {
    client = await ctx.connect();
  } catch (error) {
    if (!(error instanceof EtlError) || error.code !== 'DAEMON_UNREACHABLE') throw error;
    // The sources are reached with the daemon's credentials: without it, say so rather than skip.
    if (sources) throw error;
    const dir = (await localDaemonPaths(ctx.endpoint, ctx.io))?.pipelinesDir;
    if (dir === undefined) throw error;
    ctx.io.stderr(`etlctl: etld is not reachable; validating the files in ${dir} without it\n`);
    return printValidation(ctx, await validateFiles([dir]), dir);
  }
  try {
    return printValidation(
      ctx,
      await client.call('validate', { sources }),
      sources ? "the daemon's pipelines directory and their sources" : "the daemon's pipelines directory",
    );
  } finally {
    await client.close();
  }
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  list: simple(
    (c) => c.call('list'),
    (r, ctx) => renderList(r, ctx.style, ctx.io.now()),
  ),
  status: simple(
    (c, ctx) => c.call('status', { pipeline: pipelineArg(ctx) }),
    (r, ctx) => renderStatus(r, ctx.style, ctx.io.now()),
  ),
  info: simple(
    (c) => c.call('info'),
    (r, ctx) => renderInfo(r, ctx.style),
  ),
  start: (ctx) =>
    withClient(ctx, async (client) => {
      if (ctx.values.wait === true) return startAndWait(ctx, client, pipelineArg(ctx));
      const result = await client.call('start', { pipeline: pipelineArg(ctx) });
      if (ctx.flags.json) ctx.printJson(result);
      else
        ctx.print(
          `started run ${result.run_id} of ${result.pipeline} (etlctl logs ${result.pipeline} -f to follow it)`,
        );
      return EXIT.ok;
    }),
  stop: simple(
    (c, ctx) => c.call('stop', { pipeline: pipelineArg(ctx) }),
    (r, ctx) =>
      r.stopped
        ? `stopped run ${r.run_id ?? '?'} of ${pipelineArg(ctx)}`
        : `no run of ${pipelineArg(ctx)} was running`,
  ),
  pause: simple(
    (c, ctx) => c.call('pause', { pipeline: pipelineArg(ctx) }),
    (r) => `${r.pipeline} paused: its schedule will not fire until etlctl resume ${r.pipeline}`,
  ),
  resume: simple(
    (c, ctx) => c.call('resume', { pipeline: pipelineArg(ctx) }),
    (r) => `${r.pipeline} resumed`,
  ),
  history: simple(
    (c, ctx) =>
      c.call('history', { pipeline: pipelineArg(ctx), limit: intOption(ctx.values, 'limit', 20, 10_000) }),
    (r, ctx) => renderHistory(r, ctx.style, ctx.io.now()),
  ),
  run: simple(
    (c, ctx) => c.call('run', { run_id: pipelineArg(ctx) }),
    (r, ctx) => renderRun(r, ctx.style, ctx.io.now()),
  ),
  logs: logsCommand,
  reload: simple(
    (c) => c.call('reload'),
    (r) => renderReload(r),
  ),
  validate: validateCommand,
  why: simple(
    (c, ctx) => c.call('why', { pipeline: pipelineArg(ctx) }),
    (r) => r.lines.join('\n'),
  ),
  plan: simple(
    (c, ctx) => c.call('plan', { pipeline: pipelineArg(ctx) }),
    (r, ctx) => renderPlan(r, ctx.style),
  ),
  preview: simple(
    (c, ctx) =>
      c.call(
        'preview',
        { pipeline: pipelineArg(ctx), limit: intOption(ctx.values, 'limit', 20, 1000) },
        { timeoutMs: 300_000 },
      ),
    (r, ctx) => renderPreview(r, ctx.style),
  ),
  vacuum: simple(
    (c, ctx) =>
      c.call(
        'vacuum',
        { pipeline: pipelineArg(ctx), dry_run: ctx.values['dry-run'] === true },
        { timeoutMs: 0 },
      ),
    (r, ctx) =>
      `${ctx.values['dry-run'] === true ? 'would remove' : 'removed'} ${r.files.length} file(s), ${formatBytes(r.bytes)}${r.files.length > 0 ? `\n${r.files.map((f) => `  ${f}`).join('\n')}` : ''}`,
  ),
  watermark: simple(
    (c, ctx) => c.call('watermark', watermarkParams(ctx), { timeoutMs: 120_000 }),
    (r, ctx) => renderWatermark(r, ctx.style),
  ),
  generate: generateCommand,
  completion: completionCommand,
};
