/**
 * A sink for preview: passes the first `limit` staging-CSV records to `target` and then calls
 * `onLimit` (which aborts the source query) — no dialect needs a LIMIT clause of its own. Records
 * end at a newline outside quotes (RFC 4180: a quote toggles the quoted state, `""` toggles twice).
 */
import { Writable } from 'node:stream';

export class CsvRowLimiter extends Writable {
  readonly #target: Writable;
  readonly #limit: number;
  readonly #onLimit: () => void;
  #records = 0;
  #quoted = false;

  constructor(target: Writable, limit: number, onLimit: () => void) {
    super();
    this.#target = target;
    this.#limit = limit;
    this.#onLimit = onLimit;
  }

  get reached(): boolean {
    return this.#records >= this.#limit;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.reached) {
      callback();
      return;
    }
    let end = chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === 0x22) this.#quoted = !this.#quoted;
      else if (byte === 0x0a && !this.#quoted) {
        this.#records++;
        if (this.reached) {
          end = i + 1;
          break;
        }
      }
    }
    const slice = end === chunk.length ? chunk : chunk.subarray(0, end);
    const done = (error?: Error | null): void => {
      if (this.reached) this.#onLimit();
      callback(error);
    };
    if (this.#target.write(slice)) done();
    else this.#target.once('drain', () => done());
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }
}
