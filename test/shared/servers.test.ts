import { afterAll, beforeAll, expect, test } from 'vitest';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';

let pgServer: PostgresServer;
let maria: MariaDbServer;
beforeAll(async () => {
  [pgServer, maria] = await Promise.all([startPostgres(), startMariaDb()]);
});
afterAll(async () => {
  await Promise.all([pgServer?.destroy(), maria?.destroy()]);
});

test('the test harness starts real PostgreSQL and MariaDB servers', async () => {
  const [row] = await pgServer.query<{ v: string }>('select version() as v');
  expect(row?.v).toMatch(/PostgreSQL/);
  const rows = await maria.query('select version() as v');
  expect(String(rows[0]?.v)).toMatch(/MariaDB/);
});

test('stop() really takes PostgreSQL down (an outage), start() brings it back', async () => {
  await pgServer.stop();
  const client = new pg.Client({
    host: pgServer.host,
    port: pgServer.port,
    user: 'postgres',
    database: 'postgres',
  });
  await expect(client.connect()).rejects.toThrow(/ECONNREFUSED/);
  await pgServer.start();
  const [row] = await pgServer.query<{ one: number }>('select 1 as one');
  expect(row?.one).toBe(1);
});
