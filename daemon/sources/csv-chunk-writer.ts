/**
 * Staging-CSV output for sources that encode rows as bytes themselves (MySQL's row packets): rows
 * are written straight into a ~64 KB buffer and each full buffer goes to the sink in one `write`.
 * When the sink asks to wait, the driver is paused until 'drain', as with CsvBatchWriter.
 */
import { isUtf8 } from 'node:buffer';
import type { Writable } from 'node:stream';
import type { FlowControl } from './csv-writer.js';

export class CsvChunkWriter {
  readonly #sink: Writable;
  readonly #flow: FlowControl;
  readonly #chunkBytes: number;
  #buffer: Buffer;
  #position = 0;
  #rows = 0;
  #bytes = 0;
  #paused = false;

  constructor(sink: Writable, flow: FlowControl, chunkBytes = 64 * 1024) {
    this.#sink = sink;
    this.#flow = flow;
    this.#chunkBytes = chunkBytes;
    this.#buffer = Buffer.allocUnsafe(chunkBytes);
  }

  get rows(): number {
    return this.#rows;
  }

  /** Bytes handed to the sink so far (buffered rows not included). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Where the next row starts in `buffer`. */
  get position(): number {
    return this.#position;
  }

  /**
   * The buffer to write the next row into, with at least `bytes` free from `position`: the chunk
   * is flushed first when the row might not fit, and a row larger than a chunk gets its own.
   */
  room(bytes: number): Buffer {
    if (this.#position + bytes > this.#buffer.length) {
      this.flush();
      if (bytes > this.#buffer.length) this.#buffer = Buffer.allocUnsafe(bytes);
    }
    return this.#buffer;
  }

  /** Marks the row written into `buffer` up to `end` as complete. */
  endRow(end: number): void {
    this.#position = end;
    this.#rows++;
    // A row that needed a buffer of its own goes out at once; normal chunks flush in `room`.
    if (this.#buffer.length > this.#chunkBytes) this.flush();
  }

  /** Writes what is buffered; pauses the driver when the sink is full. */
  flush(): void {
    const chunk = this.#take();
    if (chunk !== undefined && !this.#sink.write(chunk) && !this.#paused) {
      this.#paused = true;
      this.#flow.pause();
      this.#sink.once('drain', () => {
        this.#paused = false;
        this.#flow.resume();
      });
    }
  }

  /**
   * Writes what is buffered and ends the sink, once the driver has no more rows. The driver is
   * not paused for this last chunk: a sink that is ending emits no 'drain', so nothing would ever
   * resume it, and its connection would hang in the next query.
   */
  end(): void {
    const chunk = this.#take();
    if (chunk === undefined) this.#sink.end();
    else this.#sink.end(chunk);
  }

  /** The buffered rows as a chunk for the sink (undefined when there are none). */
  #take(): Buffer | undefined {
    if (this.#position === 0) return undefined;
    let chunk = this.#buffer.subarray(0, this.#position);
    this.#buffer = Buffer.allocUnsafe(this.#chunkBytes);
    this.#position = 0;
    // A text value can hold bytes that are not UTF-8 (written through a binary connection). The
    // staging reads UTF-8, and decoding per value used to turn them into U+FFFD: so does this.
    // Separators are ASCII and chunks end at row ends, so decoding the chunk gives the same bytes.
    if (!isUtf8(chunk)) chunk = Buffer.from(chunk.toString('utf8'), 'utf8');
    this.#bytes += chunk.length;
    return chunk;
  }
}
