/**
 * `etlctl tables P [--run SEQ]` and `etlctl status P`, which ends with the same view for a
 * multi-table pipeline. `status --json` stays the status document alone: scripts that want the
 * tables ask `tables --json`, so the status contract does not grow a second source of truth.
 */
import type { DaemonClient } from '../../shared/client/client.js';
import { isEtlError } from '../../shared/errors.js';
import type { RunTables } from '../../shared/protocol-tables.js';
import { intOption } from './args.js';
import type { CommandContext } from './context.js';
import { EXIT } from './io.js';
import { renderStatus } from './render.js';
import { renderRunTables, renderStatusTables } from './render-tables.js';
import { withClient } from './run-commands.js';

/** `--run SEQ`: the pipeline's run sequence (undefined: its newest multi-table run). */
function runOption(ctx: CommandContext): number | undefined {
  return ctx.values.run === undefined ? undefined : intOption(ctx.values, 'run', 1, Number.MAX_SAFE_INTEGER);
}

export function tablesCommand(ctx: CommandContext): Promise<number> {
  const pipeline = ctx.positionals[0] ?? '';
  const sequence = runOption(ctx);
  return withClient(ctx, async (client) => {
    const result = await client.call('tables', { pipeline, ...(sequence === undefined ? {} : { sequence }) });
    if (ctx.flags.json) ctx.printJson(result);
    else ctx.print(renderRunTables(result, ctx.style));
    return EXIT.ok;
  });
}

/**
 * The tables of the pipeline's newest multi-table run, or a one-line note when the daemon could
 * not say: the status above it is the answer asked for, and should not be lost to this part.
 */
async function statusTables(client: DaemonClient, pipeline: string, ctx: CommandContext): Promise<string> {
  let result: RunTables;
  try {
    result = await client.call('tables', { pipeline });
  } catch (error) {
    const why = isEtlError(error) ? `${error.code}: ${error.message}` : String(error);
    return `\n${ctx.style.dim(`tables: not available (${why})`)}\n`;
  }
  return renderStatusTables(result, ctx.style);
}

export function statusCommand(ctx: CommandContext): Promise<number> {
  const pipeline = ctx.positionals[0] ?? '';
  return withClient(ctx, async (client) => {
    const status = await client.call('status', { pipeline });
    if (ctx.flags.json) {
      ctx.printJson(status);
      return EXIT.ok;
    }
    const tables = await statusTables(client, pipeline, ctx);
    ctx.print(`${renderStatus(status, ctx.style, ctx.io.now())}${tables}`);
    return EXIT.ok;
  });
}
