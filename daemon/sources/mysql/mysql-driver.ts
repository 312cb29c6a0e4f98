import type { ResolvedConnection } from '../../config/resolved-connection.js';
import type { ReadSession, SourceDriverOptions } from '../source.js';
import { readerCount, SourceDriverBase } from '../source-driver-base.js';
import { MysqlConnector, run, type MysqlConnection } from './mysql-connection.js';
import { mysqlErrno } from './mysql-errors.js';
import { MysqlReadSession } from './mysql-read-session.js';
import type { MysqlFieldInfo } from './mysql-types.js';

/** How long the coordinator waits for the global read lock before reading with one connection. */
const LOCK_WAIT_SECONDS = 5;

/** Errors from FLUSH TABLES WITH READ LOCK that mean "no global lock for us", not "fail the run". */
const LOCK_REFUSED = new Set([1044, 1045, 1142, 1227, 1205, 3024, 1969]);

/**
 * MySQL/MariaDB driver: one control connection for metadata queries (opened by `init`) and, per
 * read session, reader connections whose consistent snapshots start while a coordinator briefly
 * holds FLUSH TABLES WITH READ LOCK, so all readers see one cut. Without that lock (no RELOAD
 * privilege, or a long statement holding tables) the session has one reader: slower, still one cut.
 */
export class MysqlDriver extends SourceDriverBase<MysqlConnection, MysqlConnector, MysqlReadSession> {
  readonly #zeroDates: 'null' | 'error';

  constructor(connection: ResolvedConnection, options: SourceDriverOptions) {
    super(new MysqlConnector(connection, options));
    this.#zeroDates = options.zeroDates;
  }

  describeFields(sql: string, signal?: AbortSignal): Promise<MysqlFieldInfo[]> {
    return this.withControl(signal, (control) => this.connector.describeFields(control, sql, signal));
  }

  async openReadSession(readers: number, signal?: AbortSignal): Promise<ReadSession> {
    const count = readerCount(readers);
    let coordinator: MysqlConnection | undefined;
    let locked = false;
    let started = count;
    try {
      if (count > 1) {
        coordinator = await this.connector.connect(signal);
        locked = await this.#globalReadLock(coordinator);
        // Without the lock the readers' snapshots would not share one cut: one reader reads every
        // chunk in turn instead, inside a single consistent snapshot.
        if (!locked) started = 1;
      }
      const opened = await this.startReaders(started, signal, async (reader) => {
        await run(reader, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        await run(reader, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      });
      return this.track(
        (onClose) => new MysqlReadSession(this.connector, opened, true, this.#zeroDates, onClose),
      );
    } catch (error) {
      throw this.connector.failure(error, signal);
    } finally {
      if (coordinator !== undefined) {
        // Held only while the readers start their snapshots: writers wait for milliseconds.
        if (locked) await run(coordinator, 'UNLOCK TABLES').catch(() => undefined);
        await this.connector.close(coordinator);
      }
    }
  }

  /**
   * FLUSH TABLES WITH READ LOCK; false when the login lacks RELOAD or the lock cannot be had within
   * LOCK_WAIT_SECONDS. While FTWRL waits for a long statement to finish, new writes wait behind
   * it (MySQL 8 more than MariaDB), so the wait is kept short: writers stall for seconds at most.
   */
  async #globalReadLock(coordinator: MysqlConnection): Promise<boolean> {
    try {
      await run(coordinator, `SET SESSION lock_wait_timeout = ${LOCK_WAIT_SECONDS}`);
      await run(coordinator, 'FLUSH TABLES WITH READ LOCK');
      return true;
    } catch (error) {
      const errno = mysqlErrno(error);
      if (errno !== undefined && LOCK_REFUSED.has(errno)) return false;
      throw error;
    }
  }
}
