import type { ResolvedConnection } from '../../config/resolved-connection.js';
import type { ReadSession, SourceDriver, SourceDriverOptions, TextRow } from '../source.js';
import { cancelledError, isAborted } from '../abort.js';
import { ControlConnection } from '../control-connection.js';
import { MssqlConnector, type MssqlConnection } from './mssql-connection.js';
import { mapMssqlError } from './mssql-errors.js';
import { MssqlReadSession } from './mssql-read-session.js';

/**
 * SQL Server driver: one control connection for metadata (opened by `init`) and, per read session,
 * reader connections in SNAPSHOT transactions where the database allows snapshot isolation.
 * SQL Server cannot share a snapshot between connections (no snapshot export), so only a
 * one-reader session is a consistent cut; several readers report `consistent: false`.
 */
export class MssqlDriver implements SourceDriver {
  readonly #connector: MssqlConnector;
  readonly #control: ControlConnection<MssqlConnection, MssqlReadSession>;

  constructor(connection: ResolvedConnection, options: SourceDriverOptions) {
    this.#connector = new MssqlConnector(
      connection,
      options.label,
      options.connectAttempts,
      options.connectDelayMs,
    );
    this.#control = new ControlConnection(
      (signal) => this.#connector.connect(signal),
      (connection) => this.#connector.close(connection),
    );
  }

  get what(): string {
    return this.#connector.what;
  }

  async init(signal?: AbortSignal): Promise<void> {
    await this.#control.get(signal);
  }

  destroy(): Promise<void> {
    return this.#control.destroy();
  }

  async queryText(sql: string, signal?: AbortSignal): Promise<TextRow[]> {
    return this.#connector.execute(await this.#control.get(signal), sql, signal);
  }

  async openReadSession(readers: number, signal?: AbortSignal): Promise<ReadSession> {
    const count = Math.max(1, Math.floor(readers));
    const opened: MssqlConnection[] = [];
    try {
      const state = await this.queryText(
        'SELECT snapshot_isolation_state FROM sys.databases WHERE database_id = DB_ID()',
        signal,
      );
      const snapshot = state[0]?.[0] === '1';
      const isolation = snapshot ? 'SNAPSHOT' : 'READ COMMITTED';
      const starting = Array.from({ length: count }, async () => {
        const reader = await this.#connector.connect(signal);
        opened.push(reader);
        await this.#connector.execute(
          reader,
          `SET TRANSACTION ISOLATION LEVEL ${isolation}; BEGIN TRANSACTION`,
          signal,
        );
      });
      const results = await Promise.allSettled(starting);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const session = new MssqlReadSession(this.#connector, opened, snapshot && count === 1, () =>
        this.#control.untrack(session),
      );
      this.#control.track(session);
      return session;
    } catch (error) {
      await Promise.all(opened.map((r) => this.#connector.close(r)));
      if (isAborted(signal)) throw cancelledError(this.what);
      throw mapMssqlError(error, this.what);
    }
  }
}
