import type { ResolvedConnection } from '../../config/resolved-connection.js';
import type { ReadSession, SourceDriverOptions } from '../source.js';
import { readerCount, SourceDriverBase } from '../source-driver-base.js';
import { SqlServerConnector, type SqlServerConnection } from './sqlserver-connection.js';
import { SqlServerReadSession } from './sqlserver-read-session.js';

/**
 * SQL Server driver: one control connection for metadata (opened by `init`) and, per read session,
 * reader connections in SNAPSHOT transactions where the database allows snapshot isolation.
 * SQL Server cannot share a snapshot between connections (no snapshot export), so only a
 * one-reader session is a consistent cut; several readers report `consistent: false`.
 */
export class SqlServerDriver extends SourceDriverBase<
  SqlServerConnection,
  SqlServerConnector,
  SqlServerReadSession
> {
  constructor(connection: ResolvedConnection, options: SourceDriverOptions) {
    super(new SqlServerConnector(connection, options));
  }

  async openReadSession(readers: number, signal?: AbortSignal): Promise<ReadSession> {
    const count = readerCount(readers);
    try {
      const state = await this.queryText(
        'SELECT snapshot_isolation_state FROM sys.databases WHERE database_id = DB_ID()',
        signal,
      );
      const snapshot = state[0]?.[0] === '1';
      const isolation = snapshot ? 'SNAPSHOT' : 'READ COMMITTED';
      const opened = await this.startReaders(count, signal, (reader) =>
        this.connector.queryText(
          reader,
          `SET TRANSACTION ISOLATION LEVEL ${isolation}; BEGIN TRANSACTION`,
          signal,
        ),
      );
      const consistent = snapshot && count === 1;
      return this.track((onClose) => new SqlServerReadSession(this.connector, opened, consistent, onClose));
    } catch (error) {
      throw this.connector.failure(error, signal);
    }
  }
}
