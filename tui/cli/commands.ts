import type { DaemonClient } from '../../shared/client/client.js';
import { EtlError } from '../../shared/errors.js';
import { intOption } from './args.js';
import type { CommandContext } from './context.js';
import { formatBytes } from '../../shared/format-bytes.js';
import { EXIT } from './io.js';
import { generateCommand } from './generate-command.js';
import { completionCommand } from './completion-command.js';
import { logsCommand } from './logs-command.js';
import type { MethodParamsInput } from '../../shared/protocol.js';
import { historyCommand, runsCommand } from './history-commands.js';
import { filesCommand } from './files-commands.js';
import { renderInfo, renderPlan, renderPreview, renderRun, renderWatermark } from './render.js';
import { reloadFailed, renderProblems, renderReload } from './render-config.js';
import { validateCommand } from './validate-command.js';
import { testCommand } from './test-command.js';
import { statusCommand, tablesCommand } from './tables-command.js';
import { hostsCommand, listCommand } from './hosts-command.js';
import { tableParam } from './option-values.js';
import { backfillCommand, startCommand, waitCommand, withClient } from './run-commands.js';

export type Command = (ctx: CommandContext) => Promise<number>;

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

export const COMMANDS: Readonly<Record<string, Command>> = {
  list: listCommand,
  status: statusCommand,
  tables: tablesCommand,
  info: simple(
    (c) => c.call('info'),
    (r, ctx) => renderInfo(r, ctx.style),
  ),
  hosts: hostsCommand,
  start: startCommand,
  backfill: backfillCommand,
  wait: waitCommand,
  stop: simple(
    (c, ctx) => c.call('stop', { pipeline: pipelineArg(ctx) }),
    (r, ctx) => {
      const pipeline = pipelineArg(ctx);
      const outcome = r.stopped ? `stopped run ${r.run_id ?? '?'}` : `no run of ${pipeline} was running`;
      // Fleet mode: the run was on another host, which answered for it.
      if (r.forwarded_to !== undefined)
        return `stop of ${pipeline} sent to host ${r.forwarded_to}: ${outcome}`;
      return r.stopped ? `${outcome} of ${pipeline}` : outcome;
    },
  ),
  pause: simple(
    (c, ctx) => c.call('pause', { pipeline: pipelineArg(ctx) }),
    (r) => `${r.pipeline} paused: its schedule will not fire until etlctl resume ${r.pipeline}`,
  ),
  resume: simple(
    (c, ctx) => c.call('resume', { pipeline: pipelineArg(ctx) }),
    (r) => `${r.pipeline} resumed`,
  ),
  history: historyCommand,
  runs: runsCommand,
  run: simple(
    (c, ctx) => c.call('run', { run_id: pipelineArg(ctx) }),
    (r, ctx) => renderRun(r, ctx.style, ctx.io.now()),
  ),
  logs: logsCommand,
  // Exit 1 when a file is invalid, so a deploy script notices; the valid files were applied.
  reload: (ctx) =>
    withClient(ctx, async (client) => {
      const result = await client.call('reload');
      if (ctx.flags.json) ctx.printJson(result);
      else ctx.print(renderReload(result, ctx.style));
      return reloadFailed(result) ? EXIT.failed : EXIT.ok;
    }),
  problems: (ctx) =>
    withClient(ctx, async (client) => {
      const entries = await client.call('problems');
      if (ctx.flags.json) ctx.printJson(entries);
      else ctx.print(renderProblems(entries, ctx.style));
      return entries.some((e) => e.severity === 'error') ? EXIT.failed : EXIT.ok;
    }),
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
        {
          pipeline: pipelineArg(ctx),
          limit: intOption(ctx.values, 'limit', 20, 1000),
          ...tableParam(ctx.values),
        },
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
  files: filesCommand,
  watermark: simple(
    (c, ctx) => c.call('watermark', watermarkParams(ctx), { timeoutMs: 120_000 }),
    (r, ctx) => renderWatermark(r, ctx.style),
  ),
  generate: generateCommand,
  completion: completionCommand,
  test: testCommand,
};
