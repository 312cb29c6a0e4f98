import type { ResolvedConnection } from '../../config/resolved-connection.js';
import type { ReadSession, SourceDriver, SourceDriverOptions, TextRow } from '../source.js';
import { cancelledError, isAborted } from '../abort.js';
import { ControlConnection } from '../control-connection.js';
import { MysqlConnector, run, type MysqlConnection } from './mysql-connection.js';
import { mapMysqlError, mysqlErrno } from './mysql-errors.js';
import { closeMysqlConnection, MysqlReadSession } from './mysql-read-session.js';
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
export class MysqlDriver implements SourceDriver {
  readonly #connector: MysqlConnector;
  readonly #zeroDates: 'null' | 'error';
  readonly #control: ControlConnection<MysqlConnection, MysqlReadSession>;

  constructor(connection: ResolvedConnection, options: SourceDriverOptions) {
    this.#connector = new MysqlConnector(
      connection,
      options.label,
      options.connectAttempts,
      options.connectDelayMs,
    );
    this.#control = new ControlConnection((signal) => this.#connector.connect(signal), closeMysqlConnection);
    this.#zeroDates = options.zeroDates;
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
    return this.#connector.queryText(await this.#control.get(signal), sql, signal);
  }

  async describeFields(sql: string, signal?: AbortSignal): Promise<MysqlFieldInfo[]> {
    return this.#connector.describeFields(await this.#control.get(signal), sql, signal);
  }

  async openReadSession(readers: number, signal?: AbortSignal): Promise<ReadSession> {
    const count = Math.max(1, Math.floor(readers));
    const opened: MysqlConnection[] = [];
    let coordinator: MysqlConnection | undefined;
    let locked = false;
    let started = count;
    try {
      if (count > 1) {
        coordinator = await this.#connector.connect(signal);
        locked = await this.#globalReadLock(coordinator);
        // Without the lock the readers' snapshots would not share one cut: one reader reads every
        // chunk in turn instead, inside a single consistent snapshot.
        if (!locked) started = 1;
      }
      const starting = Array.from({ length: started }, async () => {
        const reader = await this.#connector.connect(signal);
        opened.push(reader);
        await run(reader, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        await run(reader, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      });
      const results = await Promise.allSettled(starting);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const session = new MysqlReadSession(this.#connector, opened, true, this.#zeroDates, () =>
        this.#control.untrack(session),
      );
      this.#control.track(session);
      return session;
    } catch (error) {
      await Promise.all(opened.map(closeMysqlConnection));
      if (isAborted(signal)) throw cancelledError(this.what);
      throw mapMysqlError(error, this.what);
    } finally {
      if (coordinator !== undefined) {
        // Held only while the readers start their snapshots: writers wait for milliseconds.
        if (locked) await run(coordinator, 'UNLOCK TABLES').catch(() => undefined);
        await closeMysqlConnection(coordinator);
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
