/**
 * `etlctl files <pipeline>`: the file ledger of a `files` source, a page at a time in key order;
 * `etlctl files <pipeline> --pending`: the files its next run would take (the daemon lists the
 * source's store, writing nothing);
 * `etlctl files forget <pipeline> (KEY…|--all)`: removes entries so those files load again.
 *
 * Decisions:
 * - `forget` as the first word is the sub-command, whatever pipelines exist; a listing takes
 *   exactly one word, so nothing else is ambiguous.
 * - A forget cannot be taken back, and in append mode it loads the files' rows a second time, so
 *   it is confirmed: asked on a terminal (after the daemon has said how many entries the ledger
 *   holds), skipped with --yes, and refused without --yes when there is no terminal to ask on
 *   (a script must say so explicitly).
 * - A forget naming a key the ledger does not hold exits 1 after forgetting the others: a typo in
 *   a key must not pass for done.
 * - `--pending` lists the store, not the ledger: the ledger's filters (--loaded, --quarantined,
 *   --grep, --after) are usage errors beside it, not silently ignored.
 */
import type { DaemonClient } from '../../shared/client/client.js';
import { EtlError } from '../../shared/errors.js';
import { formatBytes } from '../../shared/format-bytes.js';
import type { MethodParamsInput } from '../../shared/protocol.js';
import { intOption } from './args.js';
import type { CommandContext } from './context.js';
import { formatCount } from './format.js';
import { EXIT } from './io.js';
import { textOption } from './option-values.js';
import { renderFiles, renderForget, renderPending, shellWord } from './render-files.js';
import { withClient } from './run-commands.js';

const LIST_OPTIONS = ['loaded', 'quarantined', 'after', 'limit', 'grep', 'pending'] as const;
/** The ledger's filters: a pending listing reads the store, which they do not apply to. */
const LEDGER_FILTERS = ['loaded', 'quarantined', 'after', 'grep'] as const;
const FORGET_OPTIONS = ['all', 'yes'] as const;
const DEFAULT_LIMIT = 100;
/** As the protocol allows (shared/protocol.ts, `files_forget`; shared/protocol-files.ts). */
const MAX_KEYS = 1000;
const MAX_KEY_LENGTH = 4096;
const MAX_GREP_LENGTH = 200;

export function filesCommand(ctx: CommandContext): Promise<number> {
  if (ctx.positionals[0] === 'forget') return forgetCommand(ctx);
  return ctx.values.pending === true ? pendingCommand(ctx) : listCommand(ctx);
}

function refuseOptions(ctx: CommandContext, names: readonly string[], what: string): void {
  const given = names.filter((name) => ctx.values[name] !== undefined);
  if (given.length > 0)
    throw new EtlError(
      'USAGE',
      `${what} takes no ${given.map((name) => `--${name}`).join(', ')} (see etlctl files --help)`,
    );
}

function listParams(ctx: CommandContext): MethodParamsInput<'files'> {
  refuseOptions(ctx, FORGET_OPTIONS, 'files <pipeline>');
  if (ctx.positionals.length > 1)
    throw new EtlError(
      'USAGE',
      `too many arguments for files: ${ctx.positionals.slice(1).join(' ')} (files forget <pipeline> KEY… forgets files)`,
    );
  if (ctx.values.loaded === true && ctx.values.quarantined === true)
    throw new EtlError('USAGE', 'files: --loaded or --quarantined, not both (neither lists every file)');
  const grep = textOption(ctx.values, 'grep');
  if (grep !== undefined && (grep === '' || grep.length > MAX_GREP_LENGTH))
    throw new EtlError('USAGE', `--grep expects a text of 1 to ${MAX_GREP_LENGTH} characters`);
  const after = textOption(ctx.values, 'after');
  if (after !== undefined && (after === '' || after.length > MAX_KEY_LENGTH))
    throw new EtlError('USAGE', `--after expects a key of 1 to ${MAX_KEY_LENGTH} characters`);
  const status =
    ctx.values.loaded === true ? 'loaded' : ctx.values.quarantined === true ? 'quarantined' : undefined;
  return {
    pipeline: ctx.positionals[0] ?? '',
    limit: intOption(ctx.values, 'limit', DEFAULT_LIMIT, 10_000),
    ...(status === undefined ? {} : { status }),
    ...(after === undefined ? {} : { after }),
    ...(grep === undefined ? {} : { text: grep }),
  };
}

function pendingCommand(ctx: CommandContext): Promise<number> {
  refuseOptions(ctx, FORGET_OPTIONS, 'files <pipeline>');
  refuseOptions(ctx, LEDGER_FILTERS, 'files <pipeline> --pending');
  if (ctx.positionals.length > 1)
    throw new EtlError(
      'USAGE',
      `too many arguments for files --pending: ${ctx.positionals.slice(1).join(' ')}`,
    );
  const params = {
    pipeline: ctx.positionals[0] ?? '',
    limit: intOption(ctx.values, 'limit', DEFAULT_LIMIT, 10_000),
  };
  return withClient(ctx, async (client) => {
    const pending = await client.call('files_pending', params);
    if (ctx.flags.json) ctx.printJson(pending);
    else ctx.print(renderPending(pending, ctx.style));
    return EXIT.ok;
  });
}

/** The command that lists the page after `after`, with this listing's filters. */
function nextPageCommand(params: MethodParamsInput<'files'>, after: string): string {
  return [
    'etlctl files',
    shellWord(params.pipeline),
    ...(params.status === undefined ? [] : [`--${params.status}`]),
    ...(params.text === undefined ? [] : ['--grep', shellWord(params.text)]),
    ...(params.limit === undefined || params.limit === DEFAULT_LIMIT ? [] : ['-n', String(params.limit)]),
    '--after',
    shellWord(after),
  ].join(' ');
}

function listCommand(ctx: CommandContext): Promise<number> {
  const params = listParams(ctx);
  return withClient(ctx, async (client) => {
    const listing = await client.call('files', params);
    if (ctx.flags.json) ctx.printJson(listing);
    else ctx.print(renderFiles(listing, ctx.style, (after) => nextPageCommand(params, after)));
    return EXIT.ok;
  });
}

interface ForgetOrder {
  readonly pipeline: string;
  readonly keys: readonly string[];
  readonly all: boolean;
}

function forgetOrder(ctx: CommandContext): ForgetOrder {
  refuseOptions(ctx, LIST_OPTIONS, 'files forget');
  const [, pipeline, ...keys] = ctx.positionals;
  const all = ctx.values.all === true;
  if (pipeline === undefined)
    throw new EtlError(
      'USAGE',
      'files forget: name the pipeline, then the keys of the files to load again (or --all)',
    );
  if (all && keys.length > 0)
    throw new EtlError('USAGE', 'files forget: the keys of some files or --all, not both');
  if (!all && keys.length === 0)
    throw new EtlError(
      'USAGE',
      `files forget ${pipeline}: give the keys of the files to load again, or --all for every file in its ledger`,
    );
  if (keys.length > MAX_KEYS)
    throw new EtlError('USAGE', `files forget takes at most ${formatCount(MAX_KEYS)} keys at a time`);
  const long = keys.find((key) => key.length > MAX_KEY_LENGTH);
  if (long !== undefined)
    throw new EtlError(
      'USAGE',
      `files forget: a key is at most ${MAX_KEY_LENGTH} characters (${long.slice(0, 60)}…)`,
    );
  if (ctx.values.yes !== true && !ctx.io.stdinIsTty)
    throw new EtlError(
      'USAGE',
      `files forget: confirm with --yes (there is no terminal to ask on): the next run of ${pipeline} loads these files again, in append mode their rows a second time`,
    );
  return { pipeline, keys, all };
}

/** Asks the operator, saying what the ledger holds; true for a yes. */
async function confirmed(ctx: CommandContext, client: DaemonClient, order: ForgetOrder): Promise<boolean> {
  const { totals } = await client.call('files', { pipeline: order.pipeline, limit: 1 });
  const what = order.all
    ? `every entry of the ledger of ${order.pipeline}: ${formatCount(totals.loaded)} loaded (${formatBytes(totals.loaded_bytes)}), ${formatCount(totals.quarantined)} quarantined`
    : `${formatCount(order.keys.length)} file(s) of ${order.pipeline}: ${order.keys.slice(0, 3).join(', ')}${order.keys.length > 3 ? ', …' : ''}`;
  ctx.io.stderr(
    `files forget: ${what}\nIts next run loads them again; in append mode their rows are loaded a second time.\n`,
  );
  const answer = await ctx.io.ask('Forget them? [y/N] ');
  return answer !== null && /^\s*y(es)?\s*$/i.test(answer);
}

function forgetCommand(ctx: CommandContext): Promise<number> {
  const order = forgetOrder(ctx);
  return withClient(ctx, async (client) => {
    if (ctx.values.yes !== true && !(await confirmed(ctx, client, order)))
      throw new EtlError('CANCELLED', 'files forget: not confirmed; nothing was forgotten');
    const result = await client.call(
      'files_forget',
      order.all
        ? { pipeline: order.pipeline, all: true }
        : { pipeline: order.pipeline, keys: [...order.keys] },
    );
    if (ctx.flags.json) ctx.printJson(result);
    else ctx.print(renderForget(result));
    return result.not_recorded.length > 0 ? EXIT.failed : EXIT.ok;
  });
}
