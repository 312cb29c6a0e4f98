import { cancelledError, EtlError } from '../../shared/errors.js';

/**
 * The reader connections of one read session. Extracts take the longest-idle reader, so
 * consecutive chunk reads spread over all snapshot-sharing connections; extra callers queue.
 * A reader that failed mid-query (cancelled, connection lost) is dropped, not reused.
 */
export class ReaderPool<T> {
  readonly #what: string;
  readonly #idle: T[];
  readonly #waiters: { resolve: (reader: T) => void; reject: (error: Error) => void }[] = [];
  #alive: number;

  constructor(what: string, readers: readonly T[]) {
    this.#what = what;
    this.#idle = [...readers];
    this.#alive = readers.length;
  }

  acquire(signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(cancelledError(this.#what));
    const reader = this.#idle.shift();
    if (reader !== undefined) return Promise.resolve(reader);
    if (this.#alive === 0) return Promise.reject(this.#noReaders());
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        resolve: (r: T): void => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e: Error): void => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(cancelledError(this.#what));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Runs `work` on a reader; a reader whose work failed is treated as broken and dropped. */
  async withReader<R>(signal: AbortSignal, work: (reader: T) => Promise<R>): Promise<R> {
    const reader = await this.acquire(signal);
    let broken = true;
    try {
      const result = await work(reader);
      broken = false;
      return result;
    } finally {
      this.release(reader, broken);
    }
  }

  /** Returns a reader; `broken` readers leave the pool for good. */
  release(reader: T, broken: boolean): void {
    if (broken) {
      this.#alive--;
      if (this.#alive === 0) for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#noReaders());
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(reader);
    else this.#idle.push(reader);
  }

  #noReaders(): EtlError {
    return new EtlError(
      'SOURCE_CONNECTION',
      `${this.#what}: no reader connection is left in this read session`,
    );
  }
}
