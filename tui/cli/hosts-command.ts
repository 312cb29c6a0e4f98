/**
 * `etlctl hosts`, and `etlctl list`, which shows a HOST column in a fleet. The column appears when
 * the daemon says its state store is shared (`hosts` answers `fleet: true`), not when some
 * pipeline happens to run elsewhere: a column that comes and goes with the runs would make the
 * table's shape depend on the moment it was asked.
 */
import type { DaemonClient } from '../../shared/client/client.js';
import { isEtlError } from '../../shared/errors.js';
import type { CommandContext } from './context.js';
import { EXIT } from './io.js';
import { renderList } from './render.js';
import { renderHosts } from './render-hosts.js';
import { withClient } from './run-commands.js';

export function hostsCommand(ctx: CommandContext): Promise<number> {
  return withClient(ctx, async (client) => {
    const result = await client.call('hosts');
    if (ctx.flags.json) ctx.printJson(result);
    else ctx.print(renderHosts(result, ctx.style, ctx.io.now()));
    return EXIT.ok;
  });
}

/** Whether the daemon runs in a fleet; a daemon from before fleet mode does not know `hosts`. */
async function inFleet(client: DaemonClient): Promise<boolean> {
  try {
    return (await client.call('hosts')).fleet;
  } catch (error) {
    if (isEtlError(error) && error.code === 'UNKNOWN_METHOD') return false;
    throw error;
  }
}

export function listCommand(ctx: CommandContext): Promise<number> {
  return withClient(ctx, async (client) => {
    const pipelines = await client.call('list');
    // --json prints the list alone: every entry carries its host whether or not there is a fleet.
    if (ctx.flags.json) ctx.printJson(pipelines);
    else ctx.print(renderList(pipelines, ctx.style, ctx.io.now(), { hostColumn: await inFleet(client) }));
    return EXIT.ok;
  });
}
