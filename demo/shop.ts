/**
 * The demo's small shop: a main database (customers, products, orders) and two shard databases
 * holding the same `orders` table, plus four sample pipelines (full, incremental, merge, sharded)
 * loading into one local DuckDB file under the demo home's lake.
 */
export const SHOP_DATABASE = 'shop';
export const SHARD_DATABASES = ['shop_eu', 'shop_us'] as const;
export const PASSWORD_ENV = 'DEMO_PG_PASSWORD';
export const DUCKDB_FILE = 'shop.duckdb';

export const SHOP_SEED = `
CREATE TABLE customers (id bigint PRIMARY KEY, full_name text NOT NULL, street text, city text, updated_at timestamptz NOT NULL);
INSERT INTO customers
  SELECT g, (ARRAY['Ada','Alan','Grace','Edsger','Barbara'])[1 + g % 5] || ' ' || (ARRAY['Lovelace','Turing','Hopper','Dijkstra','Liskov'])[1 + g % 5 + 0],
         g || ' Main Street', (ARRAY['London','Warsaw','Lisbon',NULL])[1 + g % 4], timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour'
  FROM generate_series(1, 200) g;
CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL, active boolean NOT NULL);
INSERT INTO products SELECT g, 'Product ' || g, round((g * 3.17)::numeric, 2), g % 7 <> 0 FROM generate_series(1, 50) g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2) NOT NULL, status text NOT NULL, updated_at timestamptz NOT NULL);
INSERT INTO orders
  SELECT g, 1 + g % 200, round((g % 97 * 1.5)::numeric, 2), (ARRAY['new','paid','shipped'])[1 + g % 3], timestamptz '2024-02-01 00:00:00+00' + g * interval '1 minute'
  FROM generate_series(1, 3000) g;
ANALYZE;
`;

export function shardSeed(offset: number): string {
  return `
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2) NOT NULL, status text NOT NULL, updated_at timestamptz NOT NULL);
INSERT INTO orders
  SELECT ${offset} + g, 1 + g % 200, round((g % 89 * 2.25)::numeric, 2), (ARRAY['new','paid'])[1 + g % 2], timestamptz '2024-03-01 00:00:00+00' + g * interval '1 minute'
  FROM generate_series(1, 1000) g;
ANALYZE;`;
}

export interface DemoServer {
  readonly port: number;
  readonly user: string;
}

function connection(server: DemoServer, database: string): string {
  return `{ host: 127.0.0.1, port: ${server.port}, database: ${database}, user: ${server.user}, password_env: ${PASSWORD_ENV} }`;
}

/** The sample pipeline files, by file name. */
export function demoPipelines(server: DemoServer): Record<string, string> {
  return {
    'products_full.yaml': `name: products_full
description: Product catalog, replaced atomically on every run
source:
  type: postgres
  connection: ${connection(server, SHOP_DATABASE)}
  table: public.products
load: { mode: full }
destination: { type: duckdb, path: ${DUCKDB_FILE}, table: products }
`,
    'orders_incremental.yaml': `name: orders_incremental
description: Orders appended by updated_at, read in parallel key-range chunks
source:
  type: postgres
  connection: ${connection(server, SHOP_DATABASE)}
  table: public.orders
  key: [id]
  chunk_rows: 1000
  parallelism: 2
load: { mode: incremental, cursor: updated_at, start_from: "2024-01-01" }
transform:
  - { target: amount, from: amount, type: "decimal(18,2)" }
destination: { type: duckdb, path: ${DUCKDB_FILE}, table: orders }
`,
    'customers_merge.yaml': `name: customers_merge
description: Customers upserted by id, with split and join transforms
source:
  type: postgres
  connection: ${connection(server, SHOP_DATABASE)}
  table: public.customers
  key: [id]
load: { mode: merge, cursor: updated_at }
transform:
  - { target: first_name, split: { column: full_name, delimiter: " ", index: 0 } }
  - { target: address, join: { columns: [street, city], separator: ", " } }
destination: { type: duckdb, path: ${DUCKDB_FILE}, table: customers }
`,
    'orders_sharded.yaml': `name: orders_sharded
description: Orders from the EU and US shards, extracted in parallel
source:
  type: postgres
  connection: ${connection(server, SHARD_DATABASES[0])}
  shards:
    - { name: eu, database: ${SHARD_DATABASES[0]} }
    - { name: us, database: ${SHARD_DATABASES[1]} }
  table: public.orders
  key: [id]
load: { mode: incremental, cursor: updated_at }
destination: { type: duckdb, path: ${DUCKDB_FILE}, table: orders_all_shards }
`,
  };
}

/** DuckDB tables the demo reports on, in pipeline order. */
export const DEMO_TABLES: readonly { pipeline: string; table: string }[] = [
  { pipeline: 'products_full', table: 'products' },
  { pipeline: 'orders_incremental', table: 'orders' },
  { pipeline: 'customers_merge', table: 'customers' },
  { pipeline: 'orders_sharded', table: 'orders_all_shards' },
];
