/**
 * PostgresCopyOut on a real PostgreSQL: byte for byte the same CSV as pg-copy-streams (the
 * reference; it stays a dependency for COPY FROM) on seeded random rows with quoted newlines,
 * multi-byte text and values larger than a socket chunk; notices in the middle of the rows; an
 * error after some rows and a cancel, after which the connection runs the next query; a slow
 * consumer; a consumer that fails; and a connection cut in the middle of the COPY.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PostgresCopyOut } from '../../daemon/sources/postgres/postgres-copy-out.js';
import { Prng, randomSeed } from '../chaos/prng.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/process.js';

const REGRESSION_SEEDS: readonly number[] = [1, 2];

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
  await server.query(`CREATE FUNCTION noisy(i int) RETURNS int LANGUAGE plpgsql AS $$
    BEGIN IF i % 100 = 0 THEN RAISE NOTICE 'row %', i; END IF; RETURN i; END $$`);
});

afterAll(async () => {
  await server?.destroy();
});

class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  readonly #delayMs: number;
  constructor(delayMs = 0, highWaterMark?: number) {
    super(highWaterMark === undefined ? {} : { highWaterMark });
    this.#delayMs = delayMs;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    // Copied: the stream hands out views of the socket's buffers.
    this.chunks.push(Buffer.from(chunk));
    if (this.#delayMs > 0) setTimeout(callback, this.#delayMs);
    else callback();
  }
  text(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

async function withClient<T>(port: number, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const csv = (sql: string): string => `COPY (${sql}) TO STDOUT WITH (FORMAT csv)`;

async function copyOut(client: pg.Client, sql: string, sink: Writable = new Collector()) {
  const copy = new PostgresCopyOut(csv(sql), 'source "test"', () => undefined);
  client.query(copy);
  await pipeline(copy, sink);
  return { copy, sink };
}

async function reference(client: pg.Client, sql: string): Promise<Buffer> {
  const sink = new Collector();
  await pipeline(client.query(copyTo(csv(sql))), sink);
  return sink.text();
}

async function fillRandom(seed: number): Promise<string> {
  const prng = new Prng(seed, 'postgres-copy-out');
  const table = `random_${seed}`;
  await server.query(
    `DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int, t text, b bytea, n numeric)`,
  );
  const alphabet = ['a', 'Z', ',', '"', '\n', '\r', ' ', 'é', '漢', '😀', '\\', '\t'];
  const rows = prng.int(500, 3000);
  const values: unknown[] = [];
  const tuples: string[] = [];
  for (let id = 0; id < rows; id++) {
    const length = prng.chance(0.01) ? prng.int(70_000, 300_000) : prng.int(0, 60);
    let text = '';
    for (let i = 0; i < length; i++) text += alphabet[prng.int(0, alphabet.length - 1)];
    const at = values.length;
    values.push(id, prng.chance(0.1) ? null : text, Buffer.from(text.slice(0, 50)), prng.int(-1e6, 1e6) / 7);
    tuples.push(`($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4})`);
    if (tuples.length === 200 || id === rows - 1) {
      await server.query(`INSERT INTO ${table} VALUES ${tuples.join(', ')}`, values.splice(0));
      tuples.length = 0;
    }
  }
  return table;
}

describe('PostgresCopyOut', () => {
  const seeds = [...REGRESSION_SEEDS, randomSeed()];
  for (const seed of seeds) {
    test(`seed ${seed}: the same bytes as pg-copy-streams, rows counted exactly, connection reusable`, async () => {
      const table = await fillRandom(seed);
      await withClient(server.port, async (client) => {
        const sql = `SELECT * FROM ${table} ORDER BY id`;
        const expected = await reference(client, sql);
        const { copy, sink } = await copyOut(client, sql);
        expect((sink as Collector).text().equals(expected)).toBe(true);
        const [{ count }] = (await client.query<{ count: string }>(`SELECT count(*) FROM ${table}`)).rows as [
          { count: string },
        ];
        expect(copy.rows).toBe(Number(count));
        expect(copy.bytes).toBe(expected.length);
      });
    });
  }

  test('notices sent between rows are skipped, not mistaken for the end of the data', async () => {
    await withClient(server.port, async (client) => {
      const notices: unknown[] = [];
      client.on('notice', (notice) => notices.push(notice));
      const { copy, sink } = await copyOut(client, 'SELECT noisy(g) FROM generate_series(1, 1000) g');
      expect(copy.rows).toBe(1000);
      expect((sink as Collector).text().toString()).toBe(
        Array.from({ length: 1000 }, (_, i) => `${i + 1}\n`).join(''),
      );
      expect((await client.query('SELECT 42 AS answer')).rows).toEqual([{ answer: 42 }]);
    });
  });

  test('an error after some rows fails the stream with the server error; the connection runs the next query', async () => {
    await withClient(server.port, async (client) => {
      const failing = copyOut(client, 'SELECT 1 / (5000 - g) FROM generate_series(1, 100000) g');
      await expect(failing).rejects.toMatchObject({ code: '22012' });
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
  });

  test('a cancelled COPY fails with the cancel; the connection runs the next query', async () => {
    await withClient(server.port, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const pid = rows[0]?.pid;
      const sink = new Collector(5, 1024);
      const running = copyOut(client, "SELECT g, repeat('x', 100) FROM generate_series(1, 2000000) g", sink);
      // Cancelled once rows flow (a fixed wait could cancel before the COPY starts on a busy machine).
      await waitFor(() => (sink.chunks.length > 0 ? true : undefined), {
        intervalMs: 10,
        what: 'the first rows',
      });
      await server.query('SELECT pg_cancel_backend($1)', [pid]);
      await expect(running).rejects.toMatchObject({ code: '57014' });
      expect(sink.chunks.length).toBeGreaterThan(0);
      expect((await client.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    });
  });

  test('a slow consumer gets every row intact (the socket is paused, not buffered without bound)', async () => {
    await withClient(server.port, async (client) => {
      const sql = 'SELECT g, repeat(md5(g::text), 20) FROM generate_series(1, 20000) g';
      const expected = await reference(client, sql);
      const { copy, sink } = await copyOut(client, sql, new Collector(1, 4096));
      expect((sink as Collector).text().equals(expected)).toBe(true);
      expect(copy.rows).toBe(20000);
    });
  });

  test('a consumer that fails ends the COPY by dropping the connection, and nothing is left hanging', async () => {
    await withClient(server.port, async (client) => {
      let written = 0;
      const failingSink = new Writable({
        write(_chunk, _encoding, callback): void {
          written++;
          callback(written === 3 ? new Error('disk full') : null);
        },
      });
      const copy = new PostgresCopyOut(
        csv("SELECT g, repeat('y', 200) FROM generate_series(1, 1000000) g"),
        'source "test"',
        () => undefined,
      );
      const ended = new Promise((resolve) => client.once('end', resolve));
      client.query(copy);
      await expect(pipeline(copy, failingSink)).rejects.toThrow('disk full');
      await ended;
    });
  });

  test('a connection cut in the middle of the COPY fails the stream instead of ending it short', async () => {
    const proxy = await startFaultProxy('127.0.0.1', server.port);
    try {
      await withClient(proxy.port, async (client) => {
        proxy.cutAfterBytes(2_000_000);
        const sink = new Collector();
        await expect(
          copyOut(client, "SELECT g, repeat('z', 100) FROM generate_series(1, 200000) g", sink),
        ).rejects.toThrow();
        expect(proxy.counters.cut).toBe(1);
        expect(sink.text().length).toBeLessThan(2_000_000);
      });
    } finally {
      await proxy.close();
    }
  });
});
