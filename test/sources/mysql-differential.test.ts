/**
 * The MySQL extract path against a reference, byte for byte, on a real MariaDB: seeded random rows
 * of every type (mysql-random-rows.ts) are extracted through `ReadSession.extract` and through the
 * straightforward mysql2-strings encoder (mysql-reference-csv.ts). Each run also tries two fresh
 * seeds (in the test name); a seed that fails becomes an entry of REGRESSION_SEEDS.
 * Also here, on the same server: a row larger than one protocol packet, an error after rows were
 * sent, a result that does not match the columns, and back-pressure on a large result.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mysqlDialect } from '../../daemon/sources/mysql/mysql-dialect.js';
import type { MysqlDriver } from '../../daemon/sources/mysql/mysql-driver.js';
import type { ExtractProgress } from '../../daemon/sources/source.js';
import { EtlError } from '../../shared/errors.js';
import type { ColumnSchema } from '../../shared/types.js';
import { Prng, randomSeed } from '../chaos/prng.js';
import { baseOptions } from '../conformance/source.case.js';
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';
import { waitFor } from '../helpers/process.js';
import { RANDOM_TABLE_DDL, randomRow } from './mysql-random-rows.js';
import { referenceCsv } from './mysql-reference-csv.js';

const DB = 'differential';
const ROWS_PER_SEED = 160;

/** Seeds that once failed (with what they found), replayed on every run. */
const REGRESSION_SEEDS: readonly { readonly seed: number; readonly note: string }[] = [
  { seed: 1, note: 'baseline' },
  { seed: 2, note: 'baseline' },
  { seed: 3, note: 'baseline' },
];

let server: MariaDbServer;
let driver: MysqlDriver;

beforeAll(async () => {
  server = await startMariaDb();
  // Room for the row larger than one 16 MB protocol packet (connections made after this see it).
  await server.query('SET GLOBAL max_allowed_packet = 134217728');
  await server.createDatabase(DB);
  driver = mysqlDialect.createDriver(
    { host: server.host, port: server.port, user: server.user, database: DB },
    baseOptions,
  );
  await driver.init();
});

afterAll(async () => {
  await driver?.destroy();
  await server?.destroy();
});

class MemorySink extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }
}

async function describeTable(table: string): Promise<{ sql: string; columns: ColumnSchema[] }> {
  const relation = { table };
  const columns = await mysqlDialect.createIntrospector(driver).describe(relation);
  return { sql: mysqlDialect.createAdapter().buildSelect({ relation, columns, where: [] }), columns };
}

async function extract(
  sql: string,
  columns: readonly ColumnSchema[],
  sink: Writable,
  onProgress: (progress: ExtractProgress) => void = () => undefined,
): Promise<ExtractProgress> {
  const session = await driver.openReadSession(1);
  try {
    return await session.extract(sql, columns, sink, new AbortController().signal, onProgress);
  } finally {
    await session.close();
  }
}

/** Where the two first differ, with some context, for the failure message. */
function firstDifference(actual: Buffer, expected: Buffer): string {
  let at = 0;
  while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++;
  const around = (b: Buffer): string =>
    JSON.stringify(b.subarray(Math.max(0, at - 60), at + 60).toString('utf8'));
  return `byte ${at}:\n  extract:   ${around(actual)}\n  reference: ${around(expected)}`;
}

async function compareWithReference(table: string): Promise<number> {
  const { sql, columns } = await describeTable(table);
  const sink = new MemorySink();
  const totals = await extract(sql, columns, sink);
  const actual = Buffer.concat(sink.chunks);
  const expected = await referenceCsv(
    { host: server.host, port: server.port, user: server.user, database: DB },
    sql,
    columns,
  );
  expect(totals.bytes).toBe(actual.length);
  if (!actual.equals(expected))
    expect.fail(`${table} differs from the reference at ${firstDifference(actual, expected)}`);
  return totals.rows;
}

describe('MySQL extract against the reference encoder', () => {
  const fresh = [randomSeed(), randomSeed()];
  const seeds = [...REGRESSION_SEEDS.map((s) => s.seed), ...fresh];

  test.each(seeds)(
    'seed %i: random rows of every type come out byte for byte as the reference',
    async (seed) => {
      const prng = new Prng(seed, 'mysql-differential');
      const table = `random_${seed}`;
      await server.query(RANDOM_TABLE_DDL(table), [], DB);
      for (let first = 1; first <= ROWS_PER_SEED; first += 20) {
        const rows = Array.from({ length: 20 }, (_, i) => randomRow(prng, first + i));
        await server.query(
          `SET sql_mode = ''; SET time_zone = '+00:00'; INSERT INTO ${table} VALUES ${rows.join(', ')}`,
          [],
          DB,
        );
      }
      expect(await compareWithReference(table)).toBe(ROWS_PER_SEED);
    },
  );

  test('a row larger than one 16 MB protocol packet', async () => {
    await server.query(
      `CREATE TABLE big_row (id INT PRIMARY KEY, lt LONGTEXT, lbl LONGBLOB, tail VARCHAR(20)) DEFAULT CHARSET = utf8mb4`,
      [],
      DB,
    );
    const unit = Buffer.from('x,"😀"\r\n\t\\ é ', 'utf8').toString('hex');
    await server.query(
      `INSERT INTO big_row VALUES
        (1, REPEAT(CONVERT(X'${unit}' USING utf8mb4), 900000), REPEAT(X'00ff22', 1000000), 'after'),
        (2, '', NULL, 'small')`,
      [],
      DB,
    );
    expect(await compareWithReference('big_row')).toBe(2);
  });
});

describe('MySQL extract failures', () => {
  const columns: ColumnSchema[] = [
    { name: 'seq', type: { kind: 'int64' }, nullable: false },
    { name: 'v', type: { kind: 'text' }, nullable: true },
  ];

  test('an error packet after thousands of rows ends the extract with the mapped error, not a partial success', async () => {
    const sink = new MemorySink();
    const error = await extract(
      `SELECT seq, IF(seq = 5000, (SELECT seq FROM seq_1_to_2), REPEAT('x', 100)) AS v FROM seq_1_to_10000`,
      columns,
      sink,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EtlError);
    expect((error as EtlError).code).toBe('SOURCE_QUERY');
    expect((error as EtlError).message).toContain('Subquery returns more than 1 row');
    // Chunks of the first rows had gone out: the sink is destroyed, so nobody takes them as complete.
    expect(sink.chunks.length).toBeGreaterThan(0);
    expect(sink.destroyed).toBe(true);
  });

  test('a result with other columns than the extract expects is refused', async () => {
    const error = await extract('SELECT 1 AS seq', columns, new MemorySink()).catch((e: unknown) => e);
    expect((error as EtlError).code).toBe('INTERNAL');
    expect((error as EtlError).message).toContain('returned 1 columns where 2 were expected');
  });
});

describe('MySQL extract back-pressure', () => {
  const ROWS = 200_000;

  test('a reader whose last chunk met a full sink reads the next chunk (it used to stay paused and hang)', async () => {
    await server.query(
      `CREATE TABLE short_chunks (id INT PRIMARY KEY, pad VARCHAR(250) NOT NULL);
       INSERT INTO short_chunks SELECT seq, REPEAT('y', 200) FROM seq_1_to_600`,
      [],
      DB,
    );
    const relation = { table: 'short_chunks' };
    const columns = await mysqlDialect.createIntrospector(driver).describe(relation);
    const adapter = mysqlDialect.createAdapter();
    const session = await driver.openReadSession(1);
    try {
      for (const where of ['`id` <= 200', '`id` > 200 AND `id` <= 400', '`id` > 400']) {
        // About 42 KB per chunk, all written at the end into a sink that takes 16 KB at a time.
        const sink = new Writable({
          highWaterMark: 16 * 1024,
          write: (_chunk: Buffer, _encoding, callback) => setImmediate(callback),
        });
        const read = session.extract(
          adapter.buildSelect({ relation, columns, where: [where] }),
          columns,
          sink,
          new AbortController().signal,
          () => undefined,
        );
        const hang = new Promise<string>((resolve) => setTimeout(() => resolve('hang'), 10_000).unref());
        expect(await Promise.race([read.then((t) => t.rows), hang])).toBe(200);
      }
    } finally {
      await session.close();
    }
  });

  test('a result far larger than the sink highWaterMark waits for the sink: the server is held back and memory stays bounded', async () => {
    await server.query(
      `CREATE TABLE wide (id INT PRIMARY KEY, pad VARCHAR(250) NOT NULL);
       INSERT INTO wide SELECT seq, REPEAT(CHAR(97 + seq % 26), 200) FROM seq_1_to_${ROWS}`,
      [],
      DB,
    );
    const { sql, columns } = await describeTable('wide');

    // A sink that accepts its first chunk and then holds every write until released.
    const held: (() => void)[] = [];
    let blocked = true;
    let received = 0;
    let lines = 0;
    const sink = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        for (const byte of chunk) if (byte === 0x0a) lines++;
        if (blocked) held.push(callback);
        else callback();
      },
    });
    let encoded = 0;
    // What the server has written to its sockets (this throwaway server serves only this test).
    const serverSent = async (): Promise<number> => {
      const rows = await server.query(`SHOW GLOBAL STATUS LIKE 'Bytes_sent'`);
      return Number(rows[0]?.Value);
    };

    const memoryBefore = process.memoryUsage().arrayBuffers;
    const sentBefore = await serverSent();
    const running = extract(sql, columns, sink, (p) => (encoded = p.rows));
    await waitFor(() => (held.length > 0 ? true : undefined), { what: 'the first chunk' });
    // The server sends until the socket buffers between it and the held client are full, then
    // waits: probe until what it has sent stops growing from one probe to the next.
    let previous: number | undefined;
    const first = await waitFor(
      async () => {
        const sent = await serverSent();
        const stopped = previous !== undefined && sent - previous < 64 * 1024;
        previous = sent;
        return stopped ? { sent, writable: sink.writableLength, received } : undefined;
      },
      { intervalMs: 500, what: 'the server to stop sending (the socket buffers full)' },
    );
    // An observation window, not a wait: it stays stopped, and nothing more reaches the sink.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const second = { sent: await serverSent(), writable: sink.writableLength, received };
    const memoryGrowth = process.memoryUsage().arrayBuffers - memoryBefore;

    // Nothing more reached the sink, and what waits in it is one chunk.
    expect(second.received).toBe(first.received);
    expect(second.writable).toBeLessThanOrEqual(64 * 1024);
    // The server stopped sending (only the probes' answers count) well before the end of the
    // result (about 40 MB): the socket buffers filled up and it waits for the client.
    expect(second.sent - first.sent).toBeLessThan(64 * 1024);
    expect(second.sent - sentBefore).toBeLessThan((ROWS * 200) / 2);
    // The client did not read the rest into memory (the result is about 40 MB).
    expect(memoryGrowth).toBeLessThan(16 * 1024 * 1024);

    blocked = false;
    for (const callback of held.splice(0)) callback();
    const totals = await running;
    expect(totals.rows).toBe(ROWS);
    expect(lines).toBe(ROWS);
    expect(totals.bytes).toBe(received);
    expect(encoded).toBe(ROWS);
  });
});
