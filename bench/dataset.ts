/**
 * The benchmark table: ~12 columns of the common types (int, bigint, numeric(18,4), short and long
 * text, timestamptz, date, boolean, nullable columns), generated in PostgreSQL and copied into
 * MariaDB so both sources hold identical rows.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import mysql from 'mysql2/promise';

export const BENCH_COLUMNS =
  'id, account_id, amount, quantity, status, note, created_at, order_date, is_paid, discount, coupon, region';

const PG_DDL = `
CREATE TABLE bench (
  id bigint PRIMARY KEY,
  account_id integer NOT NULL,
  amount numeric(18,4) NOT NULL,
  quantity bigint NOT NULL,
  status text NOT NULL,
  note text NOT NULL,
  created_at timestamptz NOT NULL,
  order_date date NOT NULL,
  is_paid boolean NOT NULL,
  discount numeric(18,4),
  coupon text,
  region text
)`;

const PG_FILL = `
INSERT INTO bench
SELECT g,
       ((g * 7919) % 100000)::integer,
       ((g * 104729) % 10000000) / 100.0,
       (g * 31) % 1000000007,
       (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4],
       md5(g::text) || ' ' || md5((g * 3)::text) || ' ' || md5((g * 7)::text),
       timestamptz '2020-01-01 00:00:00+00' + (g * interval '1 second') + ((g % 1000000) * interval '1 microsecond'),
       date '2020-01-01' + (g % 2000)::integer,
       g % 3 = 0,
       CASE WHEN g % 5 = 0 THEN NULL ELSE (g % 1000) / 10.0 END,
       CASE WHEN g % 2 = 0 THEN NULL ELSE 'C' || (g % 997)::text END,
       CASE WHEN g % 7 = 0 THEN NULL ELSE (ARRAY['eu','us','apac'])[1 + g % 3] END
FROM generate_series(1, $1::bigint) AS g`;

const MYSQL_DDL = `
CREATE TABLE bench (
  id bigint PRIMARY KEY,
  account_id int NOT NULL,
  amount decimal(18,4) NOT NULL,
  quantity bigint NOT NULL,
  status varchar(16) NOT NULL,
  note varchar(200) NOT NULL,
  created_at timestamp(6) NOT NULL,
  order_date date NOT NULL,
  is_paid boolean NOT NULL,
  discount decimal(18,4) NULL,
  coupon varchar(16) NULL,
  region varchar(8) NULL
) ENGINE=InnoDB`;

export interface PgTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}
export interface MysqlTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

export async function createPgDataset(target: PgTarget, rows: number): Promise<void> {
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
  });
  await client.connect();
  try {
    await client.query('DROP TABLE IF EXISTS bench');
    await client.query(PG_DDL);
    // In slices so a 10M-row fill does not build one giant transaction's worth of WAL in memory.
    const slice = 1_000_000;
    for (let start = 0; start < rows; start += slice) {
      const count = Math.min(slice, rows - start);
      await client.query(
        PG_FILL.replace(
          'generate_series(1, $1::bigint)',
          `generate_series(${start + 1}::bigint, ${start + count}::bigint)`,
        ),
      );
    }
    await client.query('VACUUM ANALYZE bench');
  } finally {
    await client.end();
  }
}

/** Copies the PostgreSQL table into MariaDB through a CSV file (LOAD DATA LOCAL INFILE). */
export async function copyDatasetToMysql(source: PgTarget, target: MysqlTarget): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'etld-bench-csv-'));
  const file = join(dir, 'bench.csv');
  const client = new pg.Client({
    host: source.host,
    port: source.port,
    user: source.user,
    database: source.database,
  });
  await client.connect();
  try {
    await client.query("SET TimeZone = 'UTC'");
    const stream = client.query(
      copyTo(
        `COPY (SELECT id, account_id, amount, quantity, status, note, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US'),
                      order_date, CASE WHEN is_paid THEN 1 ELSE 0 END, discount, coupon, region FROM bench ORDER BY id)
         TO STDOUT WITH (FORMAT csv, NULL '\\N')`,
      ),
    );
    await pipeline(stream, createWriteStream(file));
  } finally {
    await client.end();
  }
  const conn = await mysql.createConnection({
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    infileStreamFactory: () => createReadStream(file),
  } as mysql.ConnectionOptions);
  try {
    await conn.query("SET time_zone = '+00:00'");
    await conn.query('DROP TABLE IF EXISTS bench');
    await conn.query(MYSQL_DDL);
    await conn.query(
      `LOAD DATA LOCAL INFILE '${file}' INTO TABLE bench FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' LINES TERMINATED BY '\\n'`,
    );
    await conn.query('ANALYZE TABLE bench');
  } finally {
    await conn.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
