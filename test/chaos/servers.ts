/**
 * The real database servers of a harness process: one throwaway PostgreSQL 15 (sources, shard
 * databases and the PostgreSQL destination database) and one MariaDB, started once and shared by
 * every session (seed) the process runs.
 *
 * Decisions: PostgreSQL runs with `timezone = UTC`, so `now()::date`, `localtimestamp` and the
 * harness's renderings agree with the UTC renderings of the destinations.
 */
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { mariaDbTarget, postgresTarget, type SqlTarget } from './sql-target.js';

export interface ChaosServers {
  readonly postgres: SqlTarget;
  readonly mysql: SqlTarget;
  /** Seconds spent starting both. */
  readonly startSeconds: number;
  stop(): Promise<void>;
}

export async function startServers(): Promise<ChaosServers> {
  const started = Date.now();
  const [pgResult, myResult] = await Promise.allSettled([
    startPostgres({ settings: { timezone: 'UTC' } }),
    startMariaDb(),
  ]);
  if (pgResult.status === 'rejected' || myResult.status === 'rejected') {
    if (pgResult.status === 'fulfilled') await pgResult.value.destroy().catch(() => undefined);
    if (myResult.status === 'fulfilled') await myResult.value.destroy().catch(() => undefined);
    throw pgResult.status === 'rejected' ? pgResult.reason : (myResult as PromiseRejectedResult).reason;
  }
  const pgs: PostgresServer = pgResult.value;
  const mys: MariaDbServer = myResult.value;
  const postgres = postgresTarget(pgs.host, pgs.port, pgs.user);
  const mysql = mariaDbTarget(mys.host, mys.port, mys.user);
  return {
    postgres,
    mysql,
    startSeconds: (Date.now() - started) / 1000,
    stop: async () => {
      await postgres.close();
      await mysql.close();
      await Promise.allSettled([pgs.destroy(), mys.destroy()]);
    },
  };
}
