/**
 * The state store backends the store's tests run against: SQLite on a temp file, and PostgreSQL on
 * a throwaway server (one per test file, started in beforeAll) with a fresh database per store
 * location, so tests are independent. Call the factories at a test file's top level: they register
 * the file's hooks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { openPostgresStateStore } from '../../daemon/state/postgres-store.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import type { StateStore } from '../../daemon/state/store.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';

/** A write the tests make fail midway: a ledger entry's insert, or the committed sequence's update. */
export type FailingWrite = { readonly sourceFileKey: string } | { readonly committedSequence: true };

export interface StateBackend {
  readonly name: 'SQLite' | 'PostgreSQL';
  /** A new, empty place for a store: a database file, or a database's URL. */
  fresh(): Promise<string>;
  open(location: string, now?: () => Date): StateStore;
  /** Makes `write` fail with "simulated disk full" (through a connection of its own) until allowed again. */
  failWrites(location: string, write: FailingWrite): Promise<void>;
  allowWrites(location: string, write: FailingWrite): Promise<void>;
}

export interface PostgresBackend extends StateBackend {
  /** The file's server (started by beforeAll). */
  server(): PostgresServer;
  /** The database a location names. */
  database(location: string): string;
}

/** `memory`: each fresh store is `:memory:` (fast, and it cannot be reopened). */
export function sqliteBackend(options: { readonly memory?: boolean } = {}): StateBackend {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const exec = (file: string, sql: string): void => {
    const db = new Database(file);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };
  return {
    name: 'SQLite',
    fresh: () => {
      if (options.memory === true) return Promise.resolve(':memory:');
      const dir = mkdtempSync(join(tmpdir(), 'etld-state-'));
      dirs.push(dir);
      return Promise.resolve(join(dir, 'state.db'));
    },
    open: (location, now) => openStateStore(location, now),
    failWrites: (location, write) => {
      const on =
        'sourceFileKey' in write
          ? `BEFORE INSERT ON source_files WHEN NEW.key = '${write.sourceFileKey}'`
          : 'BEFORE UPDATE OF committed_sequence ON pipelines';
      exec(
        location,
        `CREATE TRIGGER fail_midway ${on} BEGIN SELECT RAISE(ABORT, 'simulated disk full'); END`,
      );
      return Promise.resolve();
    },
    allowWrites: (location) => {
      exec(location, 'DROP TRIGGER fail_midway');
      return Promise.resolve();
    },
  };
}

export function postgresBackend(): PostgresBackend {
  let server: PostgresServer | undefined;
  let databases = 0;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.destroy();
  });
  const running = (): PostgresServer => {
    if (server === undefined) throw new Error('the PostgreSQL server is not started (beforeAll)');
    return server;
  };
  const database = (location: string): string => new URL(location).pathname.slice(1);
  const table = (write: FailingWrite): string => ('sourceFileKey' in write ? 'source_files' : 'pipelines');
  return {
    name: 'PostgreSQL',
    server: running,
    database,
    fresh: async () => {
      const name = `state_${++databases}`;
      await running().createDatabase(name);
      return running().url(name);
    },
    open: (location, now) =>
      openPostgresStateStore({ url: location, applicationName: 'etld-test', ...(now ? { now } : {}) }),
    failWrites: async (location, write) => {
      const on =
        'sourceFileKey' in write
          ? `BEFORE INSERT ON source_files FOR EACH ROW WHEN (NEW.key = '${write.sourceFileKey}')`
          : 'BEFORE UPDATE OF committed_sequence ON pipelines FOR EACH ROW';
      await running().query(
        `CREATE OR REPLACE FUNCTION fail_midway() RETURNS trigger LANGUAGE plpgsql
           AS $$ BEGIN RAISE EXCEPTION 'simulated disk full'; END $$;
         CREATE TRIGGER fail_midway ${on} EXECUTE FUNCTION fail_midway();`,
        undefined,
        database(location),
      );
    },
    allowWrites: async (location, write) => {
      await running().query(`DROP TRIGGER fail_midway ON ${table(write)}`, undefined, database(location));
    },
  };
}

/** Both backends, for `describe.each`; the PostgreSQL one is also returned for its own tests. */
export function stateBackends(sqlite: { readonly memory?: boolean } = {}): {
  readonly all: readonly StateBackend[];
  readonly postgres: PostgresBackend;
} {
  const postgres = postgresBackend();
  return { all: [sqliteBackend(sqlite), postgres], postgres };
}
