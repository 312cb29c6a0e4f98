import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonClient } from '../../shared/client/client.js';
import { EtlError, isEtlError } from '../../shared/errors.js';
import { DAEMON_LOG_DIR, SAFE_LOG_DIR_NAME } from '../../shared/logs/log-files.js';
import { readLogs, type LogQuery } from '../../shared/logs/log-reader.js';
import { intOption } from './args.js';
import type { CommandContext } from './context.js';
import { EXIT } from './io.js';
import { localDaemonPaths } from './local-paths.js';
import { sinceOption } from './option-values.js';
import { followWithoutDaemon, logsFromDaemon } from './log-follow.js';
import { LogPrinter } from './log-printer.js';

/** The most lines one read asks for (the protocol's bound), used when a follow resumes. */
const MAX_LINES = 100_000;

function queryFrom(ctx: CommandContext): LogQuery {
  const { values } = ctx;
  const grep = typeof values.grep === 'string' ? values.grep : undefined;
  if (grep !== undefined) {
    try {
      new RegExp(grep);
    } catch (error) {
      throw new EtlError('USAGE', `--grep: invalid regular expression: ${(error as Error).message}`);
    }
  }
  const pipeline = ctx.positionals[0];
  if (pipeline !== undefined && !SAFE_LOG_DIR_NAME.test(pipeline))
    throw new EtlError('USAGE', `invalid pipeline name "${pipeline}"`);
  const since = sinceOption(values, ctx.io.now());
  const runId = typeof values.run === 'string' ? values.run : undefined;
  return {
    lines: intOption(values, 'lines', 100, MAX_LINES, 0),
    errorsOnly: values.errors === true,
    ...(pipeline === undefined ? {} : { pipeline }),
    ...(since === undefined ? {} : { since }),
    ...(runId === undefined ? {} : { runId }),
    ...(grep === undefined ? {} : { grep }),
  };
}

/**
 * `etlctl logs`: through the daemon when it answers, else from its log files on this host (the
 * same reader the daemon uses, so the lines are the same). `-f` follows like `tail -F`: when the
 * daemon goes away it keeps reading the files and takes the daemon up again once it is back, and
 * prints no line twice. Ctrl-C ends a follow with exit 0: following until interrupted is its
 * normal end (as `journalctl -f`).
 */
export async function logsCommand(ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  const query = queryFrom(ctx);
  const follow = ctx.values.follow === true;
  const printer = new LogPrinter(ctx);
  const print = printer.print.bind(printer);
  const resumed = (): LogQuery => ({ ...query, since: printer.resumeSince(), lines: MAX_LINES });
  let first = true;

  const reached = await connectOrUnreachable(ctx);
  let client = reached instanceof EtlError ? null : reached;
  let logDir: string | null = null;
  if (reached instanceof EtlError) {
    logDir = await localLogDir(ctx);
    if (logDir === null) throw reached;
    io.stderr(`etlctl: etld is not reachable; reading its log files in ${logDir}\n`);
  }
  for (;;) {
    if (client !== null) {
      let end;
      try {
        end = await logsFromDaemon(client, first ? query : resumed(), follow, io.signal, print);
      } finally {
        await client.close();
      }
      first = false;
      if (end !== 'lost') return EXIT.ok;
      client = null;
      logDir ??= await localLogDir(ctx);
      io.stderr(
        `etlctl: lost the connection to etld; ${logDir === null ? 'waiting for it to come back' : `following its log files in ${logDir} until it is back`} (Ctrl-C stops)\n`,
      );
    } else {
      if (logDir !== null) {
        if (first && !follow) requireLogFiles(logDir, query);
        for (const line of await readLogs(logDir, first ? query : resumed())) print(line);
      }
      first = false;
      if (!follow || io.signal.aborted) return EXIT.ok;
      client = await followWithoutDaemon(logDir, resumed, () => connectUnlessDown(ctx), io.signal, print);
      if (client === null) return EXIT.ok;
      io.stderr('etlctl: etld is back; following through it\n');
    }
  }
}

/** A connected client, or the DAEMON_UNREACHABLE error when the daemon does not answer. */
async function connectOrUnreachable(ctx: CommandContext): Promise<DaemonClient | EtlError> {
  try {
    return await ctx.connect();
  } catch (error) {
    if (isEtlError(error) && error.code === 'DAEMON_UNREACHABLE') return error;
    throw error;
  }
}

async function connectUnlessDown(ctx: CommandContext): Promise<DaemonClient | null> {
  const reached = await connectOrUnreachable(ctx);
  return reached instanceof EtlError ? null : reached;
}

async function localLogDir(ctx: CommandContext): Promise<string | null> {
  return (await localDaemonPaths(ctx.endpoint, ctx.io))?.logDir ?? null;
}

/** Reading without following: say so when there is nothing to read rather than print nothing. */
function requireLogFiles(logDir: string, query: LogQuery): void {
  const dir = join(logDir, query.pipeline ?? '');
  if (existsSync(dir)) return;
  const what =
    query.pipeline === undefined
      ? `no log directory ${logDir}`
      : query.pipeline === DAEMON_LOG_DIR
        ? `no daemon log files in ${dir}`
        : `no log files of pipeline "${query.pipeline}" in ${dir}`;
  throw new EtlError('NOT_FOUND', `${what} (has etld run with this home?)`);
}
