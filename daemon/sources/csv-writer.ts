/**
 * Staging-CSV writer for sources whose driver hands rows to JavaScript as values (SQL Server).
 * Rows are appended to a string and written in ~64 KB chunks: one `write` per chunk instead of
 * per row keeps the event loop free (CartoDB/CartoDB-SQL-API#496 measured the same for COPY).
 * When the sink asks to wait, the driver is paused until 'drain'.
 */
import type { Writable } from 'node:stream';

const NEEDS_QUOTES = /[",\n\r]/;

/** One field in staging-CSV form: NULL is empty, an empty string is `""`. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value.length === 0) return '""';
  if (!NEEDS_QUOTES.test(value)) return value;
  return `"${value.replaceAll('"', '""')}"`;
}

export interface FlowControl {
  pause(): void;
  resume(): void;
}

export class CsvBatchWriter {
  readonly #sink: Writable;
  readonly #flow: FlowControl;
  readonly #batchChars: number;
  #buffer = '';
  #rows = 0;
  #bytes = 0;
  #paused = false;

  constructor(sink: Writable, flow: FlowControl, batchChars = 64 * 1024) {
    this.#sink = sink;
    this.#flow = flow;
    this.#batchChars = batchChars;
  }

  get rows(): number {
    return this.#rows;
  }

  /** Bytes handed to the sink so far (buffered rows not included). */
  get bytes(): number {
    return this.#bytes;
  }

  writeRow(values: readonly (string | null)[]): void {
    let line = '';
    for (let i = 0; i < values.length; i++) {
      if (i > 0) line += ',';
      line += csvField(values[i] ?? null);
    }
    this.#buffer += line + '\n';
    this.#rows++;
    if (this.#buffer.length >= this.#batchChars) this.flush();
  }

  /** Writes what is buffered; pauses the driver when the sink is full. */
  flush(): void {
    if (this.#buffer.length === 0) return;
    const chunk = Buffer.from(this.#buffer, 'utf8');
    this.#buffer = '';
    this.#bytes += chunk.length;
    if (!this.#sink.write(chunk) && !this.#paused) {
      this.#paused = true;
      this.#flow.pause();
      this.#sink.once('drain', () => {
        this.#paused = false;
        this.#flow.resume();
      });
    }
  }
}
