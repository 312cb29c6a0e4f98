/**
 * `history <pipeline>` and `runs`: run listings, newest first, filtered by status and start time.
 * `history` also shows the operator changes of the pipeline's state in the same window (its audit
 * trail), and `history --changes` only those; `history --table T` lists the runs of one table of a
 * multi-table pipeline (its own sequences), without the pipeline's changes. `--json` keeps the
 * scripting contract: an array of runs, or with `--changes` an array of changes.
 */
import type { MethodParamsInput, RunRecord } from '../../shared/protocol.js';
import { EtlError } from '../../shared/errors.js';
import { intOption } from './args.js';
import type { CommandContext } from './context.js';
import { EXIT } from './io.js';
import { sinceOption, statusOption, tableParam, textOption } from './option-values.js';
import { renderChanges, renderHistory, renderRuns } from './render-runs.js';
import { withClient } from './run-commands.js';

/** The oldest start among `runs`: changes older than the listed runs are not part of the window. */
function windowStart(runs: readonly RunRecord[], since: string | undefined): string | undefined {
  if (since !== undefined) return since;
  const starts = runs.map((r) => r.started_at).filter((s): s is string => s !== null);
  return starts.length === 0 ? undefined : starts.sort()[0];
}

export function historyCommand(ctx: CommandContext): Promise<number> {
  const pipeline = ctx.positionals[0] ?? '';
  const limit = intOption(ctx.values, 'limit', 20, 10_000);
  const since = sinceOption(ctx.values, ctx.io.now());
  const status = statusOption(ctx.values);
  const before = textOption(ctx.values, 'before');
  const changesOnly = ctx.values.changes === true;
  const table = tableParam(ctx.values);
  // Operator changes are recorded per pipeline; a table's own state is not listed by `changes`.
  if (changesOnly && table.table !== undefined)
    throw new EtlError(
      'USAGE',
      '--changes lists the operator changes of the pipeline, not of one table: drop --table',
    );
  if (changesOnly && status !== undefined)
    throw new EtlError('USAGE', '--changes lists operator changes, which have no run status: drop --status');
  if (changesOnly && before !== undefined)
    throw new EtlError('USAGE', '--changes lists operator changes, not runs to page through: drop --before');
  return withClient(ctx, async (client) => {
    if (changesOnly) {
      const changes = await client.call('changes', {
        pipeline,
        limit,
        ...(since === undefined ? {} : { since }),
      });
      // Under its own key: the verb's list key (`runs`) names runs.
      if (ctx.flags.json) ctx.printJson({ changes });
      else ctx.print(renderChanges(changes, ctx.style));
      return EXIT.ok;
    }
    const params: MethodParamsInput<'history'> = {
      pipeline,
      limit,
      ...(since === undefined ? {} : { since }),
      ...(status === undefined ? {} : { status }),
      ...(before === undefined ? {} : { before }),
      ...table,
    };
    const runs = await client.call('history', params);
    if (ctx.flags.json) {
      ctx.printJson(runs);
      return EXIT.ok;
    }
    let out = renderHistory(runs, ctx.style, ctx.io.now());
    // Filtered by status, the listing is about runs; otherwise the changes in its window belong to it.
    if (status === undefined && table.table === undefined) {
      const from = windowStart(runs, since);
      const changes = await client.call('changes', {
        pipeline,
        limit,
        ...(from === undefined ? {} : { since: from }),
      });
      if (changes.length > 0) out += `\noperator changes:\n${renderChanges(changes, ctx.style)}`;
    }
    ctx.print(out);
    return EXIT.ok;
  });
}

export function runsCommand(ctx: CommandContext): Promise<number> {
  const since = sinceOption(ctx.values, ctx.io.now());
  const status = statusOption(ctx.values);
  const pipeline = textOption(ctx.values, 'pipeline');
  const before = textOption(ctx.values, 'before');
  const params: MethodParamsInput<'runs'> = {
    limit: intOption(ctx.values, 'limit', 50, 10_000),
    ...(pipeline === undefined ? {} : { pipeline }),
    ...(before === undefined ? {} : { before }),
    ...(since === undefined ? {} : { since }),
    ...(status === undefined ? {} : { status }),
  };
  return withClient(ctx, async (client) => {
    const runs = await client.call('runs', params);
    if (ctx.flags.json) ctx.printJson(runs);
    else ctx.print(renderRuns(runs, ctx.style, ctx.io.now()));
    return EXIT.ok;
  });
}
