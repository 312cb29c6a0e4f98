/**
 * What the three SQL drivers share around their connector: the control connection (opened by
 * `init`, closed with every open read session by `destroy`), metadata queries on it, and the
 * frame of `openReadSession` — start the readers all together, close every one that opened when
 * any fails, track the session. Only how a reader's snapshot starts differs per database, so
 * that is all a driver writes; the three used to copy the rest.
 */
import type { ReadSession, SourceDriver, TextRow } from './source.js';
import { ControlConnection } from './control-connection.js';
import type { SourceConnector } from './source-connector.js';

export abstract class SourceDriverBase<
  C,
  K extends SourceConnector<C>,
  S extends ReadSession,
> implements SourceDriver {
  protected readonly connector: K;
  readonly #control: ControlConnection<C, S>;

  protected constructor(connector: K) {
    this.connector = connector;
    this.#control = new ControlConnection(
      (signal) => connector.connect(signal),
      (connection) => connector.close(connection),
    );
  }

  get what(): string {
    return this.connector.what;
  }

  async init(signal?: AbortSignal): Promise<void> {
    await this.#control.get(signal);
  }

  destroy(): Promise<void> {
    return this.#control.destroy();
  }

  queryText(sql: string, signal?: AbortSignal): Promise<TextRow[]> {
    return this.withControl(signal, (control) => this.connector.queryText(control, sql, signal));
  }

  abstract openReadSession(readers: number, signal?: AbortSignal): Promise<ReadSession>;

  /** Runs `work` on the control connection, connecting it first if needed. */
  protected async withControl<T>(
    signal: AbortSignal | undefined,
    work: (control: C) => Promise<T>,
  ): Promise<T> {
    return work(await this.#control.get(signal));
  }

  /**
   * Connects `count` readers and starts each one's transaction with `begin`. All attempts are
   * waited for even when one fails, so that every reader that did open is closed before the
   * error is thrown: none is left holding a snapshot.
   */
  protected async startReaders(
    count: number,
    signal: AbortSignal | undefined,
    begin: (reader: C) => Promise<unknown>,
  ): Promise<C[]> {
    const opened: C[] = [];
    try {
      const starting = Array.from({ length: count }, async () => {
        const reader = await this.connector.connect(signal);
        opened.push(reader);
        await begin(reader);
      });
      const results = await Promise.allSettled(starting);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      return opened;
    } catch (error) {
      await Promise.all(opened.map((reader) => this.connector.close(reader)));
      throw error;
    }
  }

  /** Makes a session whose `close` stops its tracking, and tracks it so `destroy` closes it. */
  protected track(create: (onClose: () => void) => S): S {
    const session = create(() => this.#control.untrack(session));
    this.#control.track(session);
    return session;
  }
}

/** Readers a session opens: at least one, a whole number. */
export function readerCount(readers: number): number {
  return Math.max(1, Math.floor(readers));
}
