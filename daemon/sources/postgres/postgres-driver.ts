import type { ResolvedConnection } from '../../config/resolved-connection.js';
import { EtlError } from '../../../shared/errors.js';
import type { ReadSession, SourceDriverOptions } from '../source.js';
import { readerCount, SourceDriverBase } from '../source-driver-base.js';
import { PostgresConnector, type PgConnection, type PgField } from './postgres-connection.js';
import { PostgresReadSession } from './postgres-read-session.js';

const SNAPSHOT_ID_RE = /^[0-9A-F]+-[0-9A-F]+(?:-[0-9]+)?$/i;
const BEGIN = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/**
 * PostgreSQL driver: one control connection for metadata queries (opened by `init`) and, per read
 * session, reader connections sharing an exported snapshot.
 */
export class PostgresDriver extends SourceDriverBase<PgConnection, PostgresConnector, PostgresReadSession> {
  constructor(connection: ResolvedConnection, options: SourceDriverOptions) {
    super(new PostgresConnector(connection, options));
  }

  /** The result columns of `sql` (run it with LIMIT 0) as the server describes them. */
  describeFields(sql: string, signal?: AbortSignal): Promise<PgField[]> {
    return this.withControl(signal, (control) => this.connector.describeFields(control, sql, signal));
  }

  async openReadSession(readers: number, signal?: AbortSignal): Promise<ReadSession> {
    const count = readerCount(readers);
    let coordinator: PgConnection | undefined;
    try {
      let snapshot: string | undefined;
      if (count > 1) {
        coordinator = await this.connector.connect(signal);
        snapshot = await this.#exportSnapshot(coordinator, signal);
      }
      const opened = await this.startReaders(count, signal, (reader) =>
        this.connector.cancellable(reader, signal, async () => {
          await reader.client.query(BEGIN);
          if (snapshot !== undefined) await reader.client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
        }),
      );
      // A single reader is trivially consistent; several are when they imported one snapshot.
      const consistent = count === 1 || snapshot !== undefined;
      return this.track((onClose) => new PostgresReadSession(this.connector, opened, consistent, onClose));
    } catch (error) {
      throw this.connector.failure(error, signal);
    } finally {
      // The exporting transaction only has to live until every reader imported the snapshot.
      if (coordinator !== undefined) await this.connector.close(coordinator);
    }
  }

  /** `pg_export_snapshot()`, or undefined where the server refuses it (e.g. some standbys). */
  async #exportSnapshot(coordinator: PgConnection, signal?: AbortSignal): Promise<string | undefined> {
    try {
      return await this.connector.cancellable(coordinator, signal, async () => {
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
