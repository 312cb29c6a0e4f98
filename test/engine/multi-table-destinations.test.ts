/**
 * Multi-table pipelines into PostgreSQL, Delta Lake (read back by delta-rs) and BigQuery (the
 * strict REST double), from a real PostgreSQL: one pipeline file replicates a small schema — keys
 * of one and of two columns, a table without a primary key, a mixed-case quoted name with a space,
 * a table without the cursor column, most canonical types — each table as its own exactly-once
 * unit with its own sequence and destination commit record.
 *
 * Per destination: run 1 loads everything; inserts and updates, run 2; the completed run re-run,
 * then run 2 re-run with its tables marked failed (every table's destination must recognise its
 * own sequence); run 3 crashes after every table's destination commit and before the state store
 * hears of it, and the retry of that run must settle each table with its destination instead of
 * loading it twice. After every step each destination table is compared row by row with its
 * source table, and the destination's commit record is checked per table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryDestination } from '../../daemon/destinations/bigquery/bigquery-destination.js';
import type { DestinationConfig } from '../../shared/config/pipeline-schema.js';
import { EtlError } from '../../shared/errors.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import { startBigQueryDouble, type BigQueryDouble } from '../helpers/bigquery-double/bigquery-double.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, databaseFactory, pgConnection, type Harness } from './engine-harness.js';

let pg: PostgresServer;
let double: BigQueryDouble;
const newDatabase = databaseFactory(() => pg, 'source');
let warehouses = 0;

beforeAll(async () => {
  [pg, double] = await Promise.all([startPostgres(), startBigQueryDouble()]);
}, 120_000);
afterAll(async () => {
  await double?.stop();
  await pg?.destroy();
});

type Kind =
  | 'int'
  | 'decimal'
  | 'float'
  | 'text'
  | 'bool'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'json'
  | 'bytes'
  | 'uuid';

interface Column {
  readonly name: string;
  readonly kind: Kind;
}

interface SourceTable {
  /** As the source (and run_tables) names it. */
  readonly label: string;
  /** The SQL name, quoted as needed. */
  readonly sql: string;
  readonly schema: string;
  readonly name: string;
  /** `{schema}_{table}` rendered (PostgreSQL and BigQuery). */
  readonly destination: string;
  readonly columns: readonly Column[];
  /** Whether updated source rows are merged (one row per key) or the table is reloaded whole. */
  readonly updatable: boolean;
}

const col = (name: string, kind: Kind): Column => ({ name, kind });

const TABLES: readonly SourceTable[] = [
  {
    label: 'public.customers',
    sql: 'public.customers',
    schema: 'public',
    name: 'customers',
    destination: 'public_customers',
    columns: [
      col('id', 'int'),
      col('name', 'text'),
      col('email', 'text'),
      col('active', 'bool'),
      col('born', 'date'),
      col('score', 'float'),
      col('updated_at', 'timestamptz'),
    ],
    updatable: false,
  },
  {
    label: 'public.orders',
    sql: 'public.orders',
    schema: 'public',
    name: 'orders',
    destination: 'public_orders',
    columns: [
      col('id', 'int'),
      col('customer_id', 'int'),
      col('total', 'decimal'),
      col('status', 'text'),
      col('placed_at', 'timestamp'),
      col('updated_at', 'timestamptz'),
    ],
    updatable: true,
  },
  {
    label: '"Sales"."Order Items"',
    sql: '"Sales"."Order Items"',
    schema: 'Sales',
    name: 'Order Items',
    destination: 'Sales_Order_Items',
    columns: [
      col('order_id', 'int'),
      col('line', 'int'),
      col('sku', 'text'),
      col('qty', 'int'),
      col('price', 'decimal'),
      col('attrs', 'json'),
      col('updated_at', 'timestamptz'),
    ],
    updatable: true,
  },
  {
    label: 'public.countries',
    sql: 'public.countries',
    schema: 'public',
    name: 'countries',
    destination: 'public_countries',
    columns: [col('code', 'text'), col('name', 'text'), col('population', 'int')],
    updatable: true,
  },
  {
    label: 'public.events_log',
    sql: 'public.events_log',
    schema: 'public',
    name: 'events_log',
    destination: 'public_events_log',
    columns: [
      col('event_id', 'int'),
      col('kind', 'text'),
      col('payload', 'json'),
      col('updated_at', 'timestamptz'),
    ],
    updatable: false,
  },
  {
    label: 'public.measurements',
    sql: 'public.measurements',
    schema: 'public',
    name: 'measurements',
    destination: 'public_measurements',
    columns: [
      col('id', 'uuid'),
      col('sensor', 'int'),
      col('reading', 'float'),
      col('raw', 'bytes'),
      col('taken_at', 'timestamptz'),
    ],
    updatable: false,
  },
];

const SCHEMA_SQL = `
  CREATE SCHEMA "Sales";
  CREATE TABLE public.customers (
    id bigint PRIMARY KEY, name text NOT NULL, email text, active boolean NOT NULL, born date,
    score double precision, updated_at timestamptz NOT NULL);
  CREATE TABLE public.orders (
    id bigint PRIMARY KEY, customer_id bigint NOT NULL, total numeric(12,2) NOT NULL, status text NOT NULL,
    placed_at timestamp NOT NULL, updated_at timestamptz NOT NULL);
  CREATE TABLE "Sales"."Order Items" (
    order_id bigint NOT NULL, line smallint NOT NULL, sku text NOT NULL, qty integer NOT NULL,
    price numeric(10,2), attrs jsonb, updated_at timestamptz NOT NULL, PRIMARY KEY (order_id, line));
  CREATE TABLE public.countries (code text PRIMARY KEY, name text NOT NULL, population bigint);
  CREATE TABLE public.events_log (event_id bigint NOT NULL, kind text, payload jsonb, updated_at timestamptz NOT NULL);
  CREATE TABLE public.measurements (
    id uuid PRIMARY KEY, sensor smallint NOT NULL, reading double precision, raw bytea, taken_at timestamptz NOT NULL);
  -- Not selected: a view is never listed.
  CREATE VIEW public.v_orders AS SELECT id, total FROM public.orders;`;

/** The timestamp of minute `m` after 2024-01-01 UTC (cursor values grow with `m`). */
const minute = (m: string): string => `timestamptz '2024-01-01 00:00:00+00' + (${m}) * interval '1 minute'`;

/**
 * Inserts batch `b` (1, 2, 3…): ids of the batch are past every earlier batch's, and so are its
 * cursor values. Orders of a batch get 1 to 3 lines each. Some values are NULL on purpose.
 */
function insertBatch(b: number): string {
  const from = (b - 1) * 100 + 1;
  const to = (b - 1) * 100 + (b === 1 ? 60 : 15);
  const at = (g: string): string => minute(`${b} * 100000 + ${g}`);
  const codes = b === 1 ? ['ar', 'br', 'ca', 'de', 'es', 'fr', 'gb', 'jp'] : [`x${b}`];
  return `
    INSERT INTO public.customers
      SELECT g, 'customer ' || g, CASE WHEN g % 5 = 0 THEN NULL ELSE 'c' || g || '@example.com' END,
        g % 2 = 0, CASE WHEN g % 7 = 0 THEN NULL ELSE date '1970-01-01' + g * 97 END, g / 7.0, ${at('g')}
      FROM generate_series(${from}, ${to}) g;
    INSERT INTO public.orders
      SELECT g, 1 + g % 40, (g * 12.34)::numeric(12,2), 'placed',
        timestamp '2023-06-01 12:00:00' + g * interval '1 hour 0.25 seconds', ${at('g')}
      FROM generate_series(${from}, ${to}) g;
    INSERT INTO "Sales"."Order Items"
      SELECT o, l, 'SKU-' || o || '-' || l, l * 2, CASE WHEN l = 3 THEN NULL ELSE (o + l * 0.5)::numeric(10,2) END,
        jsonb_build_object('gift', o % 3 = 0, 'tags', jsonb_build_array('t' || l)), ${at('o')}
      FROM generate_series(${from}, ${to}) o, generate_series(1, 3) l WHERE l <= 1 + o % 3;
    INSERT INTO public.countries VALUES ${codes.map((c, i) => `('${c}', 'Country ${c.toUpperCase()}', ${(i + 1) * 1_000_003 + b})`).join(', ')};
    INSERT INTO public.events_log
      SELECT g % 10, CASE WHEN g % 4 = 0 THEN NULL ELSE 'kind' || g % 3 END, jsonb_build_object('n', g), ${at('g')}
      FROM generate_series(${from}, ${to}) g;
    INSERT INTO public.events_log SELECT 1, 'kind1', '{"n": 1}', ${at('1')} FROM generate_series(1, 2);
    INSERT INTO public.measurements
      SELECT md5('m' || g)::uuid, g % 5, CASE WHEN g % 9 = 0 THEN NULL ELSE g * 0.1 END,
        decode(lpad(to_hex(g * 7919), 8, '0'), 'hex'), ${at('g')}
      FROM generate_series(${from}, ${to}) g;`;
}

/** Updates in the merge tables (cursor moved past everything) and the full table. */
function updateBatch(b: number): string {
  const at = minute(`${b} * 100000 + 99999`);
  return `
    UPDATE public.orders SET status = 'shipped ${b}', total = total + ${b}, updated_at = ${at} WHERE id % 9 = ${b};
    UPDATE "Sales"."Order Items" SET qty = qty + 100 * ${b}, attrs = attrs || '{"changed": ${b}}', updated_at = ${at}
      WHERE order_id % 11 = ${b};
    UPDATE public.countries SET population = population + ${b} WHERE code IN ('br', 'jp');`;
}

function pipelineConfig(source: string, destination: Record<string, unknown>): unknown {
  return {
    name: 'shop',
    source: {
      type: 'postgres',
      connection: pgConnection(pg, source),
      tables: ['public.*', '"Sales".*'],
    },
    load: { mode: 'incremental', cursor: 'updated_at' },
    tables: {
      'public.orders': { mode: 'merge' },
      '"Sales"."Order Items"': { mode: 'merge' },
      'public.countries': { mode: 'full' },
      'public.measurements': { cursor: 'taken_at' },
      customers: { chunk_rows: 20 },
    },
    table_parallelism: 3,
    destination,
  };
}

/** The canonical text of a value of `kind`, as every reader below must produce it. */
function canonical(kind: Kind, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  switch (kind) {
    case 'float':
      return String(Number(text));
    case 'bool':
      return text === 'true' || text === 'false' ? text : `not a bool: ${text}`;
    case 'date':
      return text.slice(0, 10);
    case 'json':
      return JSON.stringify(sortKeys(typeof value === 'string' ? JSON.parse(value) : value));
    case 'uuid':
      return text.toLowerCase();
    case 'timestamp':
    case 'timestamptz': {
      const match = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]00(?::?00)?)?$/.exec(text);
      if (match === null) return `not a timestamp: ${text}`;
      if ((kind === 'timestamptz') !== (match[4] !== undefined)) return `zone mismatch: ${text}`;
      return `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(6, '0')}${kind === 'timestamptz' ? 'Z' : ''}`;
    }
    default:
      return text;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  return value;
}

type Row = (string | null)[];

/** Rows in canonical text, sorted (a table without a key compares as a multiset). */
function canonicalRows(table: SourceTable, rows: readonly Record<string, unknown>[]): Row[] {
  return rows
    .map((r) => table.columns.map((c) => canonical(c.kind, r[c.name])))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** The SELECT of a PostgreSQL table's columns as text (the source's, and the PostgreSQL destination's). */
function textSelect(table: SourceTable, from: string): string {
  const expression = (c: Column): string => {
    const name = `"${c.name}"`;
    switch (c.kind) {
      case 'bytes':
        return `encode(${name}, 'hex')`;
      case 'timestamptz':
        return `to_char(${name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
      case 'timestamp':
        return `to_char(${name}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
      default:
        return `${name}::text`;
    }
  };
  return `SELECT ${table.columns.map((c) => `${expression(c)} AS "${c.name}"`).join(', ')} FROM ${from}`;
}

interface DestinationCase {
  readonly kind: 'postgres' | 'delta' | 'bigquery';
  readonly harness: () => Harness;
  readonly destination: () => Record<string, unknown>;
  /** Every destination table's rows, by source table label. */
  read(h: Harness): Promise<Map<string, Record<string, unknown>[]>>;
  /** The sequences the destination records as committed, by commitKey. */
  commits(h: Harness): Promise<Map<string, number[]>>;
  /** How commits() names a table's commits (its member name, and its target where recorded). */
  commitKey(table: SourceTable): string;
}

function groupCommits(rows: readonly (readonly [string, number])[]): Map<string, number[]> {
  const byMember = new Map<string, number[]>();
  for (const [member, sequence] of rows) byMember.set(member, [...(byMember.get(member) ?? []), sequence]);
  for (const sequences of byMember.values()) sequences.sort((a, b) => a - b);
  return byMember;
}

let warehouse = '';
/** Set while a run should stop right after each table's destination commit. */
let crashAfterCommit = false;
const failpoint = (name: string): void => {
  if (crashAfterCommit && name === 'after-destination-commit')
    throw new Error('test: stopped after the destination commit');
};
let dataset = '';

const DESTINATIONS: readonly DestinationCase[] = [
  {
    kind: 'postgres',
    harness: () => createHarness({ failpoint }),
    destination: () => ({
      type: 'postgres',
      connection: pgConnection(pg, warehouse),
      table: '{schema}_{table}',
    }),
    async read() {
      const out = new Map<string, Record<string, unknown>[]>();
      for (const table of TABLES)
        out.set(
          table.label,
          await pg.query(textSelect(table, `public."${table.destination}"`), [], warehouse),
        );
      return out;
    },
    commitKey: (t) => `shop/${t.label}`,
    async commits() {
      const rows = await pg.query<{ pipeline: string; sequence: string }>(
        'SELECT pipeline, sequence::text AS sequence FROM public._etld_commits',
        [],
        warehouse,
      );
      return groupCommits(rows.map((r) => [r.pipeline, Number(r.sequence)]));
    },
  },
  {
    kind: 'delta',
    harness: () => createHarness({ failpoint }),
    destination: () => ({ type: 'delta', path: 'lake/{schema}/{table}' }),
    async read(h) {
      const paths = TABLES.map((t) => join(h.lakeDir, 'lake', t.schema, t.name));
      const read = await readWithOracle('deltalake', paths);
      return new Map(
        TABLES.map((t, i) => {
          const table = read[paths[i] ?? ''];
          if (table?.rows === undefined)
            throw new Error(`delta-rs read ${t.label}: ${table?.error ?? 'nothing'}`);
          return [t.label, table.rows];
        }),
      );
    },
    commitKey: (t) => `shop/${t.label} @ ${t.label}`,
    commits(h) {
      // Every commit's txn action: appId is the member's state name, version its sequence.
      const rows: [string, number][] = [];
      for (const t of TABLES) {
        const log = join(h.lakeDir, 'lake', t.schema, t.name, '_delta_log');
        for (const file of readdirSync(log).filter((f) => f.endsWith('.json'))) {
          for (const line of readFileSync(join(log, file), 'utf8').split('\n')) {
            if (line.trim() === '') continue;
            const action = JSON.parse(line) as { txn?: { appId: string; version: number } };
            if (action.txn !== undefined) rows.push([`${action.txn.appId} @ ${t.label}`, action.txn.version]);
          }
        }
      }
      return Promise.resolve(groupCommits(rows));
    },
  },
  {
    kind: 'bigquery',
    harness: () =>
      createHarness({
        failpoint,
        createDestination: (config: DestinationConfig, context) =>
          Promise.resolve(
            new BigQueryDestination(config as Extract<DestinationConfig, { type: 'bigquery' }>, context, {
              poll: { pollMs: 5, maxPollMs: 20 },
            }),
          ),
      }),
    destination: () => ({
      type: 'bigquery',
      project: double.project,
      dataset,
      table: '{schema}_{table}',
      api_endpoint: double.endpoint,
    }),
    async read() {
      const out = new Map<string, Record<string, unknown>[]>();
      for (const table of TABLES) {
        const rows = await double.storage.textRows(dataset, table.destination, '1');
        // The double renders BYTES as base64.
        const bytes = table.columns.filter((c) => c.kind === 'bytes').map((c) => c.name);
        out.set(
          table.label,
          rows.map((r) => {
            const row: Record<string, unknown> = { ...r };
            for (const name of bytes)
              if (typeof r[name] === 'string') row[name] = Buffer.from(r[name], 'base64').toString('hex');
            return row;
          }),
        );
      }
      return out;
    },
    commitKey: (t) => `shop/${t.label} @ ${t.destination}`,
    async commits() {
      const rows = await double.storage.textRows(dataset, '_etld_commits', 'pipeline, sequence');
      return groupCommits(rows.map((r) => [`${r.pipeline ?? ''} @ ${r.table_id ?? ''}`, Number(r.sequence)]));
    },
  },
];

/** Each destination table equals its source table, row by row (ids and values). */
async function expectReplicated(
  h: Harness,
  target: DestinationCase,
  source: string,
  when: string,
): Promise<void> {
  const destination = await target.read(h);
  for (const table of TABLES) {
    const expected = canonicalRows(table, await pg.query(textSelect(table, table.sql), [], source));
    const actual = canonicalRows(table, destination.get(table.label) ?? []);
    expect(actual.length, `${when}: rows of ${table.label}`).toBe(expected.length);
    expect(actual, `${when}: content of ${table.label}`).toEqual(expected);
  }
}

/** Rows per key in the merge tables: exactly one. */
function expectOnePerKey(rows: Map<string, Record<string, unknown>[]>): void {
  const keys = {
    'public.orders': ['id'],
    '"Sales"."Order Items"': ['order_id', 'line'],
    'public.countries': ['code'],
  };
  for (const [label, key] of Object.entries(keys)) {
    const seen = (rows.get(label) ?? []).map((r) => key.map((k) => String(r[k])).join('|'));
    expect(new Set(seen).size, `distinct keys of ${label}`).toBe(seen.length);
  }
}

function statuses(h: Harness, sequence: number): Record<string, string> {
  return Object.fromEntries(h.store.listRunTables('shop', sequence).map((t) => [t.table, t.status]));
}

const ALL_SUCCEEDED = Object.fromEntries(TABLES.map((t) => [t.label, 'succeeded']));

describe('one multi-table pipeline into each destination', () => {
  for (const target of DESTINATIONS) {
    it(`replicates a schema into ${target.kind}, each table exactly once on its own`, async () => {
      const started = Date.now();
      const source = await newDatabase(SCHEMA_SQL + insertBatch(1));
      warehouse = `warehouse${++warehouses}`;
      dataset = `shop_${target.kind}`;
      if (target.kind === 'postgres') await pg.createDatabase(warehouse);
      const h = target.harness();
      try {
        const pipeline = h.pipeline(pipelineConfig(source, target.destination()));

        // Run 1: every table, each under its own member sequence 1.
        const first = await h.run(pipeline);
        expect(first.verdict).toBe('match');
        expect(statuses(h, first.sequence)).toEqual(ALL_SUCCEEDED);
        expect(h.store.listRunTables('shop', first.sequence).every((t) => t.memberSequence === 1)).toBe(true);
        await expectReplicated(h, target, source, 'run 1');

        // Inserts everywhere, updates in the merge tables and the full table: run 2.
        await pg.query(insertBatch(2) + updateBatch(2), [], source);
        const second = await h.run(pipeline);
        expect(statuses(h, second.sequence)).toEqual(ALL_SUCCEEDED);
        const secondRows = Object.fromEntries(
          h.store.listRunTables('shop', second.sequence).map((t) => [t.table, t.rowsLoaded]),
        );
        // Incremental tables read only the new rows; the full table reads everything.
        expect([secondRows['public.customers'], secondRows['public.measurements']]).toEqual([15, 15]);
        expect(secondRows['public.events_log']).toBe(15 + 2);
        expect(secondRows['public.countries']).toBe(9);
        await expectReplicated(h, target, source, 'run 2');
        expectOnePerKey(await target.read(h));

        // The completed run again: every table is done in it, nothing is loaded.
        const again = await h.run(pipeline, { sequence: second.sequence, attempt: 2 });
        expect(again.rowsLoaded).toBe(second.rowsLoaded);
        expect(h.store.listRunTables('shop', second.sequence).every((t) => t.attempts === 1)).toBe(true);

        // Its tables as if the run had never heard back from them: each table's attempt asks its
        // destination, which must recognise that member's sequence 2 as committed.
        for (const t of h.store.listRunTables('shop', second.sequence))
          h.store.upsertRunTable('shop', second.sequence, t.table, t.member, {
            status: 'failed',
            errorCode: 'INTERNAL',
            errorMessage: 'test: lost',
            retryable: true,
          });
        await h.run(pipeline, { sequence: second.sequence, attempt: 3 });
        const replayed = h.store.listRunTables('shop', second.sequence);
        expect(replayed.map((t) => [t.table, t.status, t.verdict, t.rowsLoaded, t.attempts])).toEqual(
          replayed.map((t) => [t.table, 'succeeded', 'already_committed', 0, 2]),
        );
        await expectReplicated(h, target, source, 'run 2 replayed');

        // Run 3 stops after every table's destination commit, before the state store records it.
        await pg.query(insertBatch(3) + updateBatch(3), [], source);
        const third = h.store.nextSequence('shop');
        crashAfterCommit = true;
        const failed = await h.run(pipeline, { sequence: third }).then(
          () => new Error('run 3 succeeded'),
          (e: unknown) => e,
        );
        crashAfterCommit = false;
        expect(failed).toBeInstanceOf(EtlError);
        expect((failed as EtlError).code).toBe('TABLES_FAILED');
        expect(statuses(h, third)).toEqual(Object.fromEntries(TABLES.map((t) => [t.label, 'failed'])));
        await expectReplicated(h, target, source, 'run 3 committed, not recorded');
        const committedThird = await target.read(h);

        // Rows arrive; the retry of run 3 settles each table with its destination (sequence 3 is
        // there) and loads nothing: neither run 3's rows again nor the new ones.
        await pg.query(insertBatch(4) + updateBatch(4), [], source);
        await h.run(pipeline, { sequence: third, attempt: 2 });
        const retried = h.store.listRunTables('shop', third);
        expect(retried.map((t) => [t.table, t.status, t.verdict, t.rowsLoaded, t.memberSequence])).toEqual(
          retried.map((t) => [t.table, 'succeeded', 'already_committed', 0, 3]),
        );
        const afterRetry = await target.read(h);
        for (const table of TABLES)
          expect(
            canonicalRows(table, afterRetry.get(table.label) ?? []),
            `${table.label} after the retry`,
          ).toEqual(canonicalRows(table, committedThird.get(table.label) ?? []));

        // Each table's own state now holds sequence 3 and run 3's watermarks; the pipeline's
        // name keeps none (its tables' state is never written under it).
        for (const table of TABLES)
          expect(h.store.getRuntime(`shop/${table.label}`).committedSequence, table.label).toBe(3);
        expect(h.store.getWatermarks('shop')).toEqual([]);

        // Run 4 loads from where run 3 committed: the destination equals the source again.
        const fourth = await h.run(pipeline);
        expect(statuses(h, fourth.sequence)).toEqual(ALL_SUCCEEDED);
        const fourthRows = Object.fromEntries(
          h.store.listRunTables('shop', fourth.sequence).map((t) => [t.table, t.rowsLoaded]),
        );
        // Batch 4 only (batch 3 is in already): a reload of batch 3 would show here.
        expect([fourthRows['public.customers'], fourthRows['public.measurements']]).toEqual([15, 15]);
        expect(fourthRows['public.events_log']).toBe(15 + 2);
        await expectReplicated(h, target, source, 'run 4');
        expectOnePerKey(await target.read(h));

        // The destination's commit record: each table its own sequences 1..4, once each.
        expect(Object.fromEntries(await target.commits(h))).toEqual(
          Object.fromEntries(TABLES.map((t) => [target.commitKey(t), [1, 2, 3, 4]])),
        );
        for (const table of TABLES) {
          const runs = h.store.listRuns(`shop/${table.label}`, 20);
          expect(new Set(runs.map((r) => r.sequence)), `member runs of ${table.label}`).toEqual(
            new Set([1, 2, 3, 4]),
          );
        }
        console.log(`${target.kind}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } finally {
        h.destroy();
      }
    }, 600_000);
  }
});
