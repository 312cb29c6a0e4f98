import type { ResolvedConnection } from '../../config/resolved-connection.js';
import { EtlError } from '../../../shared/errors.js';
import type { ReadSession, SourceDriver, SourceDriverOptions, TextRow } from '../source.js';
import { ControlConnection } from '../control-connection.js';
import { cancelledError } from '../abort.js';
import { PostgresConnector, type PgConnection, type PgField } from './postgres-connection.js';
import { mapPostgresError } from './postgres-errors.js';
import { PostgresReadSession } from './postgres-read-session.js';

const SNAPSHOT_ID_RE = /^[0-9A-F]+-[0-9A-F]+(?:-[0-9]+)?$/i;
const BEGIN = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/**
 * PostgreSQL driver: one control connection for metadata queries (opened by `init`) and, per read
 * session, reader connections sharing an exported snapshot.
 */
export class PostgresDriver implements SourceDriver {
  readonly #connector: PostgresConnector;
  readonly #control: ControlConnection<PgConnection, PostgresReadSession>;

  constructor(connection: ResolvedConnection, options: SourceDriverOptions) {
    this.#connector = new PostgresConnector(
      connection,
      options.label,
      options.connectAttempts,
      options.connectDelayMs,
    );
    this.#control = new ControlConnection(
      (signal) => this.#connector.connect(signal),
      (connection) => connection.client.end(),
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
    const control = await this.#control.get(signal);
    return this.#connector.queryText(control, sql, signal);
  }

  /** The result columns of `sql` (run it with LIMIT 0) as the server describes them. */
  async describeFields(sql: string, signal?: AbortSignal): Promise<PgField[]> {
    const control = await this.#control.get(signal);
    return this.#connector.describeFields(control, sql, signal);
  }

  async openReadSession(readers: number, signal?: AbortSignal): Promise<ReadSession> {
    const count = Math.max(1, Math.floor(readers));
    const opened: PgConnection[] = [];
    let coordinator: PgConnection | undefined;
    try {
      let snapshot: string | undefined;
      if (count > 1) {
        coordinator = await this.#connector.connect(signal);
        snapshot = await this.#exportSnapshot(coordinator, signal);
      }
      const connecting = Array.from({ length: count }, async () => {
        const reader = await this.#connector.connect(signal);
        opened.push(reader);
        await this.#connector.cancellable(reader, signal, async () => {
          await reader.client.query(BEGIN);
          if (snapshot !== undefined) await reader.client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
        });
      });
      const results = await Promise.allSettled(connecting);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      // A single reader is trivially consistent; several are when they imported one snapshot.
      const session = new PostgresReadSession(
        this.#connector,
        opened,
        count === 1 || snapshot !== undefined,
        () => this.#control.untrack(session),
      );
      this.#control.track(session);
      return session;
    } catch (error) {
      await Promise.all(opened.map((r) => r.client.end().catch(() => undefined)));
      if (signal?.aborted === true) throw cancelledError(this.what);
      throw mapPostgresError(error, this.what);
    } finally {
      // The exporting transaction only has to live until every reader imported the snapshot.
      await coordinator?.client.end().catch(() => undefined);
    }
  }

  /** `pg_export_snapshot()`, or undefined where the server refuses it (e.g. some standbys). */
  async #exportSnapshot(coordinator: PgConnection, signal?: AbortSignal): Promise<string | undefined> {
    try {
      return await this.#connector.cancellable(coordinator, signal, async () => {
        await coordinator.client.query(BEGIN);
        const result = await coordinator.client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
        const id = result.rows[0]?.id;
        if (id === undefined || !SNAPSHOT_ID_RE.test(id)) {
          throw new EtlError('SOURCE_QUERY', `${this.what}: unexpected snapshot id ${JSON.stringify(id)}`);
        }
        return id;
      });
    } catch (error) {
      if (signal?.aborted === true) throw error;
      if (error instanceof EtlError && error.code === 'SOURCE_QUERY') return undefined;
      throw error;
    }
  }
}
