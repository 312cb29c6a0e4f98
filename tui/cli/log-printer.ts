import type { LogLine } from '../../shared/protocol.js';
import type { CommandContext } from './context.js';
import type { Style } from './format.js';

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

const lineKey = (line: LogLine): string =>
  [line.ts, line.level, line.pipeline ?? '', line.run_id ?? '', line.message].join('\u0000');

/**
 * Prints log lines and remembers how far it got, so a follow that changes source (the daemon went
 * away, the files are read, the daemon is back) asks for the lines since the last one printed and
 * prints none of those twice: the lines of that last timestamp are remembered by content.
 */
export class LogPrinter {
  readonly #ctx: CommandContext;
  readonly #startedAt: string;
  #lastTs: string | null = null;
  #atLastTs = new Set<string>();

  constructor(ctx: CommandContext) {
    this.#ctx = ctx;
    this.#startedAt = ctx.io.now().toISOString();
  }

  print(line: LogLine): void {
    const key = lineKey(line);
    if (line.ts === this.#lastTs && this.#atLastTs.has(key)) return;
    if (this.#lastTs === null || line.ts > this.#lastTs) {
      this.#lastTs = line.ts;
      this.#atLastTs = new Set();
    }
    if (line.ts === this.#lastTs) this.#atLastTs.add(key);
    if (this.#ctx.flags.json) this.#ctx.printJsonLine(line);
    else this.#ctx.print(formatLine(line, this.#ctx.style));
  }

  /** Where a resumed follow starts: the last line printed, else the moment this command started. */
  resumeSince(): string {
    return this.#lastTs ?? this.#startedAt;
  }
}
