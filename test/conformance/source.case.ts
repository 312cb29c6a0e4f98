/**
 * The source connector conformance suite (Hono's `runTest` pattern): every real-server connector
 * test calls `runSourceConformance` with its own fixture. The data path under test is the real
 * one: `ReadSession.extract` → staging CSV file → `stagingCsvSelect` in DuckDB → typed values.
 */
import type { ResolvedConnection } from '../../daemon/config/resolved-connection.js';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stagingCsvSelect } from '../../daemon/engine/csv-staging.js';
import { stagingDuckType } from '../../daemon/duckdb/staging-types.js';
import type {
  ExtractProgress,
  SourceDialect,
  SourceDriver,
  SourceDriverOptions,
} from '../../daemon/sources/source.js';
import { EtlError } from '../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../shared/types.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/process.js';

export interface RoundTripTable {
  readonly table: string;
  /** Column used to order rows for comparison. */
  readonly key: string;
  /** Expected canonical type per column (`typeToString` form). */
  readonly types: Readonly<Record<string, string>>;
  /** Expected values per row in DuckDB's VARCHAR form (bytes as lowercase hex), keyed by column. */
  readonly rows: readonly Readonly<Record<string, string | null>>[];
}

export interface SourceFixture {
  readonly dialect: SourceDialect;
  readonly connection: ResolvedConnection;
  /** Runs one statement as an administrator. */
  exec(sql: string): Promise<void>;
  readonly roundTrip: RoundTripTable;
  /**
   * Readers in the snapshot test's session: 2 where the database shares a snapshot across
   * connections (PostgreSQL, MySQL); 1 for SQL Server, whose snapshots cannot be shared.
   */
  readonly snapshotReaders?: number;
  /** A table `(id int primary key, v text)` holding ids 1..100 with v = 'old'. */
  readonly consistencyTable: string;
  /** Statements run by another connection between two chunk reads: adds id 1000, sets id 75 to 'new'. */
  readonly concurrentWrite: readonly string[];
  /** A SELECT that runs for minutes and streams rows early; contains `marker` in its text. */
  heavyQuery(marker: string): string;
  /** How many statements containing `marker` the server is running (other sessions). */
  runningQueries(marker: string): Promise<number>;
  /** A login that can connect but has no right to read `roundTrip.table`. */
  readonly restrictedConnection: ResolvedConnection;
  /** A table with a column of a type etld refuses. */
  readonly unsupported: { readonly table: string; readonly column: string };
  close(): Promise<void>;
}

export interface SourceConformanceOptions {
  readonly name: string;
  readonly setup: () => Promise<SourceFixture>;
}

export const baseOptions: SourceDriverOptions = {
  label: 'conformance',
  connectAttempts: 2,
  connectDelayMs: 50,
  zeroDates: 'null',
};

/** Extracts `sql` through a one-reader session into `file`. */
export async function extractToFile(
  driver: SourceDriver,
  sql: string,
  columns: readonly ColumnSchema[],
  file: string,
): Promise<ExtractProgress> {
  const session = await driver.openReadSession(1);
  try {
    return await session.extract(
      sql,
      columns,
      createWriteStream(file),
      new AbortController().signal,
      () => undefined,
    );
  } finally {
    await session.close();
  }
}

/** Loads staging files through `stagingCsvSelect` and returns every value as DuckDB VARCHAR text. */
export async function loadStaged(
  duck: DuckDBConnection,
  files: readonly string[],
  columns: readonly ColumnSchema[],
  orderBy: string,
): Promise<Record<string, string | null>[]> {
  const view = `staged_${Math.random().toString(36).slice(2)}`;
  await duck.run(`CREATE TEMP TABLE ${view} AS ${stagingCsvSelect(files, columns)}`);
  const described = await duck.runAndReadAll(`DESCRIBE ${view}`);
  const duckTypes = new Map(
    described
      .getRows()
      .map((r) => [String(r[0]), String(r[1]).replace('TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ')]),
  );
  for (const column of columns)
    expect(duckTypes.get(column.name), `DuckDB type of ${column.name}`).toBe(stagingDuckType(column.type));
  const list = columns
    .map((c) => {
      const id = `"${c.name.replaceAll('"', '""')}"`;
      return c.type.kind === 'bytes' ? `lower(hex(${id}))` : `CAST(${id} AS VARCHAR)`;
    })
    .join(', ');
  const result = await duck.runAndReadAll(`SELECT ${list} FROM ${view} ORDER BY "${orderBy}"`);
  return result
    .getRows()
    .map((row) =>
      Object.fromEntries(columns.map((c, i) => [c.name, row[i] === null ? null : String(row[i])])),
    );
}

async function expectEtlError(promise: Promise<unknown>, code: string): Promise<EtlError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected EtlError ${code}`).toBeInstanceOf(EtlError);
  const etl = error as EtlError;
  expect(etl.code, etl.message).toBe(code);
  return etl;
}

export function runSourceConformance(options: SourceConformanceOptions): void {
  describe(`${options.name} source conformance`, () => {
    let fixture: SourceFixture;
    let driver: SourceDriver;
    let duck: DuckDBConnection;
    let dir: string;

    beforeAll(async () => {
      fixture = await options.setup();
      driver = fixture.dialect.createDriver(fixture.connection, baseOptions);
      await driver.init();
      const instance = await DuckDBInstance.create(':memory:');
      duck = await instance.connect();
      await duck.run("SET TimeZone = 'UTC'");
      dir = mkdtempSync(join(tmpdir(), 'etld-conformance-'));
    });

    afterAll(async () => {
      await driver?.destroy();
      await fixture?.close();
      duck?.closeSync();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('describe maps every column to its canonical type', async () => {
      const columns = await fixture.dialect
        .createIntrospector(driver)
        .describe({ table: fixture.roundTrip.table });
      expect(Object.fromEntries(columns.map((c) => [c.name, typeToString(c.type)]))).toEqual(
        fixture.roundTrip.types,
      );
    });

    test('edge values of every type survive extract → staging CSV → DuckDB unchanged', async () => {
      const relation = { table: fixture.roundTrip.table };
      const columns = await fixture.dialect.createIntrospector(driver).describe(relation);
      const sql = fixture.dialect.createAdapter().buildSelect({ relation, columns, where: [] });
      const file = join(dir, 'round-trip.csv');
      const progress = await extractToFile(driver, sql, columns, file);
      expect(progress.rows).toBe(fixture.roundTrip.rows.length);
      expect(progress.bytes).toBe(readFileSync(file).length);
      const rows = await loadStaged(duck, [file], columns, fixture.roundTrip.key);
      expect(rows.length).toBe(fixture.roundTrip.rows.length);
      fixture.roundTrip.rows.forEach((expected, index) => {
        for (const [column, value] of Object.entries(expected)) {
          expect(rows[index]?.[column], `row ${index + 1}, column ${column}`).toBe(value);
        }
      });
    });

    test('the same relation read as a query gives the same rows', async () => {
      const adapter = fixture.dialect.createAdapter();
      const relation = {
        query: `SELECT * FROM ${adapter.quoteTable(fixture.roundTrip.table)} -- trailing comment`,
      };
      const columns = await fixture.dialect.createIntrospector(driver).describe(relation);
      const file = join(dir, 'query.csv');
      await extractToFile(driver, adapter.buildSelect({ relation, columns, where: [] }), columns, file);
      const viaQuery = await loadStaged(duck, [file], columns, fixture.roundTrip.key);
      expect(viaQuery.length).toBe(fixture.roundTrip.rows.length);
      fixture.roundTrip.rows.forEach((expected, index) => {
        for (const [column, value] of Object.entries(expected))
          expect(viaQuery[index]?.[column], `row ${index + 1}, ${column}`).toBe(value);
      });
    });

    test('max, count, key range and literals agree with the data', async () => {
      const adapter = fixture.dialect.createAdapter();
      const introspector = fixture.dialect.createIntrospector(driver);
      const relation = { table: fixture.consistencyTable };
      const columns = await introspector.describe(relation);
      const id = columns.find((c) => c.name === 'id');
      expect(id).toBeDefined();
      if (id === undefined) return;
      expect(id.nullable).toBe(false);
      expect(await introspector.keyRange(relation, id)).toEqual({ min: '1', max: '100' });
      const where = [`${adapter.quoteIdentifier('id')} > ${adapter.literal('90', id.type)}`];
      expect(await driver.queryText(adapter.buildCount(relation, where))).toEqual([['10']]);
      expect(await driver.queryText(adapter.buildMax(relation, id, []))).toEqual([['100']]);
      const text = columns.find((c) => c.name === 'v');
      if (text === undefined) throw new Error('consistency table needs column v');
      const tricky = `it's -- "quoted" \\ ; DROP TABLE x`;
      expect(
        await driver.queryText(
          adapter.buildCount(relation, [
            `${adapter.quoteIdentifier('v')} = ${adapter.literal(tricky, text.type)}`,
          ]),
        ),
      ).toEqual([['0']]);
      const estimate = await introspector.estimateRows(relation);
      expect(estimate === null || estimate >= 0).toBe(true);
      expect(() => adapter.literal('1; DROP TABLE x', id.type)).toThrow(EtlError);
    });

    test('readers of one session share one snapshot while a writer commits between chunk reads', async () => {
      const adapter = fixture.dialect.createAdapter();
      const relation = { table: fixture.consistencyTable };
      const columns = await fixture.dialect.createIntrospector(driver).describe(relation);
      const idColumn = adapter.quoteIdentifier('id');
      const session = await driver.openReadSession(fixture.snapshotReaders ?? 2);
      try {
        expect(session.consistent).toBe(true);
        const read = async (predicate: string, name: string): Promise<Record<string, string | null>[]> => {
          const file = join(dir, name);
          await session.extract(
            adapter.buildSelect({ relation, columns, where: [predicate] }),
            columns,
            createWriteStream(file),
            new AbortController().signal,
            () => undefined,
          );
          return loadStaged(duck, [file], columns, 'id');
        };
        const first = await read(`${idColumn} <= 50`, 'chunk-1.csv');
        for (const statement of fixture.concurrentWrite) await fixture.exec(statement);
        const second = await read(`${idColumn} > 50`, 'chunk-2.csv');
        expect(first.length).toBe(50);
        expect(second.length).toBe(50);
        expect(second.find((r) => r.id === '75')?.v).toBe('old');
        expect(second.some((r) => r.id === '1000')).toBe(false);
      } finally {
        await session.close();
      }
      const after = join(dir, 'after.csv');
      await extractToFile(driver, adapter.buildSelect({ relation, columns, where: [] }), columns, after);
      const fresh = await loadStaged(duck, [after], columns, 'id');
      expect(fresh.length).toBe(101);
      expect(fresh.find((r) => r.id === '75')?.v).toBe('new');
    });

    test('aborting mid-extract cancels the query on the server and rejects CANCELLED', async () => {
      const marker = `etld_cancel_${Date.now()}`;
      const columns: ColumnSchema[] = [{ name: 'n', type: { kind: 'int64' }, nullable: false }];
      const session = await driver.openReadSession(1);
      const controller = new AbortController();
      let seen: ExtractProgress | undefined;
      try {
        const running = session.extract(
          fixture.heavyQuery(marker),
          columns,
          createWriteStream(join(dir, 'cancel.csv')),
          controller.signal,
          (p) => {
            seen = p;
            if (p.bytes > 0) controller.abort();
          },
        );
        await expectEtlError(running, 'CANCELLED');
        expect(seen?.bytes ?? 0).toBeGreaterThan(0);
      } finally {
        await session.close();
      }
      await waitFor(async () => ((await fixture.runningQueries(marker)) === 0 ? true : undefined), {
        timeoutMs: 20_000,
        what: 'the cancelled query to leave the server',
      });
    });

    test('a source that drops every connection fails with SOURCE_CONNECTION after the configured attempts', async () => {
      const accepted: Socket[] = [];
      const server = createServer((socket) => {
        accepted.push(socket);
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      try {
        const broken = fixture.dialect.createDriver(
          { ...fixture.connection, host: '127.0.0.1', port, socket: undefined },
          { ...baseOptions, connectAttempts: 3, connectDelayMs: 20 },
        );
        const error = await expectEtlError(broken.init(), 'SOURCE_CONNECTION');
        expect(error.retryable).toBe(true);
        expect(error.message).toContain('after 3 attempts');
        expect(error.message).toContain(`127.0.0.1:${port}`);
        expect(accepted.length).toBe(3);
        await broken.destroy();
      } finally {
        server.close();
      }
      const refusedPort = await freePort();
      const refused = fixture.dialect.createDriver(
        { ...fixture.connection, host: '127.0.0.1', port: refusedPort, socket: undefined },
        baseOptions,
      );
      const error = await expectEtlError(refused.init(), 'SOURCE_CONNECTION');
      expect(error.message).toContain('after 2 attempts');
      expect(error.message).not.toContain(fixture.connection.password ?? '\u0000never');
      await refused.destroy();
    });

    test('a login without rights fails with SOURCE_PERMISSION, not retryable', async () => {
      const limited = fixture.dialect.createDriver(fixture.restrictedConnection, baseOptions);
      try {
        await limited.init();
        const adapter = fixture.dialect.createAdapter();
        const relation = { table: fixture.roundTrip.table };
        const columns: ColumnSchema[] = [
          { name: fixture.roundTrip.key, type: { kind: 'int64' }, nullable: false },
        ];
        const session = await limited.openReadSession(1);
        try {
          const error = await expectEtlError(
            session.extract(
              adapter.buildSelect({ relation, columns, where: [] }),
              columns,
              createWriteStream(join(dir, 'denied.csv')),
              new AbortController().signal,
              () => undefined,
            ),
            'SOURCE_PERMISSION',
          );
          expect(error.retryable).toBe(false);
        } finally {
          await session.close();
        }
      } finally {
        await limited.destroy();
      }
    });

    test('an unknown table is a SOURCE_QUERY error naming the table', async () => {
      const error = await expectEtlError(
        fixture.dialect.createIntrospector(driver).describe({ table: 'etld_no_such_table' }),
        'SOURCE_QUERY',
      );
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('etld_no_such_table');
    });

    test('an unsupported column type is an error naming the column', async () => {
      const error = await expectEtlError(
        fixture.dialect.createIntrospector(driver).describe({ table: fixture.unsupported.table }),
        'SOURCE_QUERY',
      );
      expect(error.message).toContain(`"${fixture.unsupported.column}"`);
      expect(error.retryable).toBe(false);
    });

    test('destroy is idempotent and a destroyed driver can be initialised again', async () => {
      const other = fixture.dialect.createDriver(fixture.connection, baseOptions);
      await other.destroy();
      await other.init();
      await other.init();
      expect(await other.queryText('SELECT 1')).toEqual([['1']]);
      await other.destroy();
      await other.destroy();
    });
  });
}
