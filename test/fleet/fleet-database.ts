/**
 * A PostgreSQL server holding one freshly migrated fleet database, for the tests that drive the
 * coordinator's tables without daemons. The coordinators opened here leave before the server goes,
 * so no connection of theirs outlives it.
 */
import type { QueryResultRow } from 'pg';
import { FLEET_SCHEMA_SQL } from '../../daemon/fleet/fleet-schema.js';
import { PostgresCoordinator } from '../../daemon/fleet/postgres-coordinator.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

export class FleetDatabase {
  readonly #pg: PostgresServer;
  readonly #name: string;
  readonly #open: PostgresCoordinator[] = [];

  private constructor(pg: PostgresServer, name: string) {
    this.#pg = pg;
    this.#name = name;
  }

  static async start(name: string): Promise<FleetDatabase> {
    const pg = await startPostgres();
    await pg.createDatabase(name);
    await pg.query(FLEET_SCHEMA_SQL, [], name);
    return new FleetDatabase(pg, name);
  }

  get url(): string {
    return this.#pg.url(this.#name);
  }

  query<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.#pg.query<R>(sql, params, this.#name);
  }

  /** A coordinator for `host` on this database (pid 100, version `test`), left by destroy(). */
  coordinator(host: string, leaseMs: number): PostgresCoordinator {
    const made = new PostgresCoordinator({
      url: this.url,
      host,
      pid: 100,
      version: 'test',
      startedAt: new Date().toISOString(),
      leaseMs,
    });
    this.#open.push(made);
    return made;
  }

  /** Joins as `host` the way a daemon does (the host-name check first), left by destroy(). */
  async join(
    host: string,
    leaseMs: number,
    onNameWait?: (message: string) => void,
  ): Promise<PostgresCoordinator> {
    const joined = await PostgresCoordinator.join({
      url: this.url,
      host,
      pid: 200,
      version: 'test',
      startedAt: new Date().toISOString(),
      leaseMs,
      ...(onNameWait === undefined ? {} : { onNameWait }),
    });
    this.#open.push(joined);
    return joined;
  }

  async destroy(): Promise<void> {
    for (const c of this.#open) c.leave();
    await this.#pg.destroy();
  }
}
