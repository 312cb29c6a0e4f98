import { EtlError } from '../../shared/errors.js';
import type { LogLine, MethodParamsInput } from '../../shared/protocol.js';
import { intOption } from './args.js';
import type { CommandContext } from './context.js';
import type { Style } from './format.js';
import { EXIT } from './io.js';
import { sinceOption } from './option-values.js';

function formatLine(line: LogLine, style: Style): string {
  const level = line.level.toUpperCase().padEnd(7);
  const colored =
    line.level === 'error'
      ? style.red(level)
      : line.level === 'warning'
        ? style.yellow(level)
        : style.dim(level);
  const where = [line.pipeline, line.run_id].filter((x) => x !== null).join(' ');
  return `${style.dim(line.ts)} ${colored} ${where ? `${style.cyan(where)} ` : ''}${line.message}`;
}

export async function logsCommand(ctx: CommandContext): Promise<number> {
  const { values, io } = ctx;
  const follow = values.follow === true;
  const params: MethodParamsInput<'logs'> = {
    pipeline: ctx.positionals[0],
    lines: intOption(values, 'lines', 100, 100_000),
    follow,
    since: sinceOption(values, io.now()),
    errors_only: values.errors === true,
    run_id: typeof values.run === 'string' ? values.run : undefined,
    grep: typeof values.grep === 'string' ? values.grep : undefined,
  };
  if (params.grep !== undefined) {
    try {
      new RegExp(params.grep);
    } catch (error) {
      throw new EtlError('USAGE', `--grep: invalid regular expression: ${(error as Error).message}`);
    }
  }
  const client = await ctx.connect();
  const print = (line: LogLine): void =>
    ctx.print(ctx.flags.json ? JSON.stringify(line) : formatLine(line, ctx.style));
  try {
    const held: LogLine[] = [];
    let replied = false;
    // Events may arrive before the reply is processed; keep them in order behind the past lines.
    client.onEvent('log', (line) => (replied ? print(line) : held.push(line)));
    const result = await client.call('logs', params, { timeoutMs: 0, signal: io.signal });
    for (const line of result.lines) print(line);
    replied = true;
    for (const line of held.splice(0)) print(line);
    if (!follow) return EXIT.ok;
    return await new Promise<number>((resolve) => {
      if (io.signal.aborted) resolve(EXIT.ok);
      io.signal.addEventListener('abort', () => resolve(EXIT.ok), { once: true });
      client.onState((state, detail) => {
        if (state === 'disconnected' || state === 'closed') {
          io.stderr(`etlctl: ${detail ?? 'lost the connection to etld'}\n`);
          resolve(EXIT.unreachable);
        }
      });
    });
  } catch (error) {
    if (error instanceof EtlError && error.code === 'CANCELLED') return EXIT.ok;
    throw error;
  } finally {
    await client.close();
  }
}
