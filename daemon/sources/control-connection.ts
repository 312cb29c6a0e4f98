/**
 * The control connection every driver keeps for metadata queries, plus the read sessions it has
 * open: connected lazily and once (a failed connect is forgotten so the next call tries again),
 * closed once with every open session on `destroy` (Kysely's RuntimeDriver idea).
 */
export class ControlConnection<C, S extends { close(): Promise<void> }> {
  readonly #connect: (signal?: AbortSignal) => Promise<C>;
  readonly #close: (connection: C) => Promise<void>;
  readonly #sessions = new Set<S>();
  #pending: Promise<C> | undefined;

  constructor(connect: (signal?: AbortSignal) => Promise<C>, close: (connection: C) => Promise<void>) {
    this.#connect = connect;
    this.#close = close;
  }

  get(signal?: AbortSignal): Promise<C> {
    if (this.#pending === undefined) {
      const pending = this.#connect(signal);
      this.#pending = pending;
      pending.catch(() => {
        if (this.#pending === pending) this.#pending = undefined;
      });
    }
    return this.#pending;
  }

  /** Tracks an open read session so `destroy` closes it. */
  track(session: S): void {
    this.#sessions.add(session);
  }

  untrack(session: S): void {
    this.#sessions.delete(session);
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.#sessions].map((s) => s.close()));
    const pending = this.#pending;
    this.#pending = undefined;
    const connection = await pending?.catch(() => undefined);
    if (connection !== undefined) await this.#close(connection).catch(() => undefined);
  }
}
