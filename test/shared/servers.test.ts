import { afterAll, beforeAll, expect, test } from 'vitest';
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
