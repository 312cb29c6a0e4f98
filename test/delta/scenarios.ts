/**
 * Tables written by etld for the conformance tests, with the rows and Delta types an independent
 * reader must see. Shared by the delta-rs and Spark read-back tests.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import type { ColumnSchema } from '../../shared/types.js';
import { copyFixture } from './fixtures.js';
import type { OracleTable } from '../conformance/delta-oracle.js';
import type { Staging } from './staging.js';
import { request } from './staging.js';
import { commitBatch } from '../conformance/commit-batch.js';
import { FileStore } from '../../daemon/storage/file-store.js';

type Row = Record<string, string | boolean | null>;

export interface Scenario {
  readonly name: string;
  readonly path: string;
  readonly types: Readonly<Record<string, string>>;
  readonly rows: Row[];
  readonly version: number;
  /** The table held rows before etld wrote (fixture copies): expect these rows among them. */
  readonly subset?: boolean;
}

const ALL_TYPES: ColumnSchema[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false },
  { name: 'small', type: { kind: 'int16' }, nullable: true },
  { name: 'i', type: { kind: 'int32' }, nullable: true },
  { name: 'big', type: { kind: 'int64' }, nullable: true },
  { name: 'f32', type: { kind: 'float32' }, nullable: true },
  { name: 'f64', type: { kind: 'float64' }, nullable: true },
  { name: 'flag', type: { kind: 'bool' }, nullable: true },
  { name: 'amount', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: true },
  { name: 'price', type: { kind: 'decimal', precision: 10, scale: 2 }, nullable: true },
  { name: 'name', type: { kind: 'text' }, nullable: true },
  { name: 'doc', type: { kind: 'json' }, nullable: true },
  { name: 'uid', type: { kind: 'uuid' }, nullable: true },
  { name: 'raw', type: { kind: 'bytes' }, nullable: true },
  { name: 'day', type: { kind: 'date' }, nullable: true },
  { name: 'at', type: { kind: 'time' }, nullable: true },
  { name: 'ts', type: { kind: 'timestamptz' }, nullable: true },
  { name: 'local', type: { kind: 'timestamp' }, nullable: true },
];

const ALL_TYPES_DELTA: Record<string, string> = {
  id: 'long',
  small: 'short',
  i: 'integer',
  big: 'long',
  f32: 'float',
  f64: 'double',
  flag: 'boolean',
  amount: 'decimal(38,10)',
  price: 'decimal(10,2)',
  name: 'string',
  doc: 'string',
  uid: 'string',
  raw: 'binary',
  day: 'date',
  at: 'string',
  ts: 'timestamp',
  local: 'timestamp_ntz',
};

const LONG_NAME = 'ünïcødé ' + 'x'.repeat(40);

const ALL_TYPES_ROWS: string[] = [
  `(1, 1, 100, 9007199254740993, 1.5, 2.25, true, 12345678901234567890.1234567890, 19.99, 'alpha', '{"a":1}', '6f1c0b3e-2a4d-4c55-9a1e-0b1f7d3c2e10', '\\x01\\x02'::BLOB, DATE '2024-01-15', TIME '12:30:00.5', TIMESTAMPTZ '2024-06-15 12:30:00.123456+00', TIMESTAMP '2024-06-15 12:30:00.654321')`,
  `(2, -32768, -2147483648, -9223372036854775808, -2.25, 1e300, false, -0.0000000001, -5.00, '${LONG_NAME}', '[]', NULL, ''::BLOB, DATE '1969-07-20', TIME '00:00:00', TIMESTAMPTZ '1969-12-31 23:59:59.999999+00', TIMESTAMP '2000-02-29 00:00:00')`,
  `(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
];

const ALL_TYPES_EXPECTED: Row[] = [
  {
    id: '1',
    small: '1',
    i: '100',
    big: '9007199254740993',
    f32: '1.5',
    f64: '2.25',
    flag: true,
    amount: '12345678901234567890.1234567890',
    price: '19.99',
    name: 'alpha',
    doc: '{"a":1}',
    uid: '6f1c0b3e-2a4d-4c55-9a1e-0b1f7d3c2e10',
    raw: '0102',
    day: '2024-01-15',
    at: '12:30:00.500000',
    ts: '2024-06-15T12:30:00.123456Z',
    local: '2024-06-15T12:30:00.654321',
  },
  {
    id: '2',
    small: '-32768',
    i: '-2147483648',
    big: '-9223372036854775808',
    f32: '-2.25',
    f64: '1e+300',
    flag: false,
    amount: '-0.0000000001',
    price: '-5.00',
    name: LONG_NAME,
    doc: '[]',
    uid: null,
    raw: '',
    day: '1969-07-20',
    at: '00:00:00.000000',
    ts: '1969-12-31T23:59:59.999999Z',
    local: '2000-02-29T00:00:00.000000',
  },
  {
    id: '3',
    small: null,
    i: null,
    big: null,
    f32: null,
    f64: null,
    flag: null,
    amount: null,
    price: null,
    name: null,
    doc: null,
    uid: null,
    raw: null,
    day: null,
    at: null,
    ts: null,
    local: null,
  },
];

const ID_ONLY: ColumnSchema[] = [{ name: 'id', type: { kind: 'int64' }, nullable: true }];
const KEYED: ColumnSchema[] = [
  { name: 'id', type: { kind: 'int32' }, nullable: false },
  { name: 'label', type: { kind: 'text' }, nullable: true },
  { name: 'updated', type: { kind: 'timestamptz' }, nullable: true },
];

function destination(path: string): DeltaDestination {
  return new DeltaDestination({ store: new FileStore(path), logger: silentLogger });
}

/** Writes every scenario table under `dir` with real commits. */
export async function buildScenarios(dir: string, staging: Staging): Promise<Scenario[]> {
  const scenarios: Scenario[] = [];

  // All types, then an append that adds a column (schema evolution).
  const allTypes = join(dir, 'all_types');
  const a = destination(allTypes);
  await commitBatch(a, request(await staging.batch(ALL_TYPES, ALL_TYPES_ROWS), 1));
  const evolved = [
    ...ALL_TYPES,
    { name: 'extra', type: { kind: 'int64' }, nullable: true } satisfies ColumnSchema,
  ];
  await commitBatch(
    a,
    request(
      await staging.batch(evolved, [
        `(4, 4, 4, 4, 4.0, 4.0, true, 4, 4, 'four', '{}', NULL, NULL, DATE '2024-04-04', TIME '04:04:04', TIMESTAMPTZ '2024-04-04 04:04:04+00', TIMESTAMP '2024-04-04 04:04:04', 9223372036854775807)`,
      ]),
      2,
    ),
  );
  await a.close();
  scenarios.push({
    name: 'all types + added column',
    path: allTypes,
    types: { ...ALL_TYPES_DELTA, extra: 'long' },
    rows: [
      ...ALL_TYPES_EXPECTED.map((r) => ({ ...r, extra: null })),
      {
        id: '4',
        small: '4',
        i: '4',
        big: '4',
        f32: '4.0',
        f64: '4.0',
        flag: true,
        amount: '4.0000000000',
        price: '4.00',
        name: 'four',
        doc: '{}',
        uid: null,
        raw: null,
        day: '2024-04-04',
        at: '04:04:04.000000',
        ts: '2024-04-04T04:04:04.000000Z',
        local: '2024-04-04T04:04:04.000000',
        extra: '9223372036854775807',
      },
    ],
    version: 1,
  });

  // Full loads: the second snapshot replaces the first.
  const overwrite = join(dir, 'overwrite');
  const o = destination(overwrite);
  await commitBatch(o, request(await staging.batch(KEYED, [`(1, 'a', NULL)`, `(2, 'b', NULL)`]), 1, 'full'));
  await commitBatch(
    o,
    request(await staging.batch(KEYED, [`(7, 'z', TIMESTAMPTZ '2025-01-01 00:00:00+00')`]), 2, 'full'),
  );
  await o.close();
  scenarios.push({
    name: 'full overwrite',
    path: overwrite,
    types: { id: 'integer', label: 'string', updated: 'timestamp' },
    rows: [{ id: '7', label: 'z', updated: '2025-01-01T00:00:00.000000Z' }],
    version: 1,
  });

  // Merge: id 2 updated (the newest by cursor wins), id 4 inserted, ids 1 and 3 untouched.
  const merge = join(dir, 'merge');
  const m = destination(merge);
  await commitBatch(
    m,
    request(await staging.batch(KEYED, [`(1, 'a', NULL)`, `(2, 'b', NULL)`]), 1, 'merge', { key: ['id'] }),
  );
  await commitBatch(m, request(await staging.batch(KEYED, [`(3, 'c', NULL)`]), 2, 'incremental'));
  await commitBatch(
    m,
    request(
      await staging.batch(KEYED, [
        `(2, 'b-new', TIMESTAMPTZ '2025-02-02 00:00:00+00')`,
        `(2, 'b-old', TIMESTAMPTZ '2025-01-01 00:00:00+00')`,
        `(4, 'd', NULL)`,
      ]),
      3,
      'merge',
      { key: ['id'], cursor: 'updated' },
    ),
  );
  await m.close();
  scenarios.push({
    name: 'merge',
    path: merge,
    types: { id: 'integer', label: 'string', updated: 'timestamp' },
    rows: [
      { id: '1', label: 'a', updated: null },
      { id: '2', label: 'b-new', updated: '2025-02-02T00:00:00.000000Z' },
      { id: '3', label: 'c', updated: null },
      { id: '4', label: 'd', updated: null },
    ],
    version: 2,
  });

  // Twelve commits: a checkpoint at version 10, then JSON commits 10 and 11.
  const checkpointed = join(dir, 'checkpointed');
  const c = destination(checkpointed);
  for (let sequence = 1; sequence <= 12; sequence++) {
    await commitBatch(c, request(await staging.batch(ID_ONLY, [`(${sequence})`]), sequence));
  }
  await c.close();
  // Metadata cleanup removes the JSON before the checkpoint: readers must rely on our checkpoint.
  for (let version = 0; version < 10; version++) {
    await rm(join(checkpointed, '_delta_log', `${String(version).padStart(20, '0')}.json`));
  }
  scenarios.push({
    name: 'checkpoint at 10',
    path: checkpointed,
    types: { id: 'long' },
    rows: Array.from({ length: 12 }, (_, i) => ({ id: String(i + 1) })),
    version: 11,
  });

  // Appending to a table written by delta-rs/Spark (fixture copy).
  const appended = await copyFixture('simple_table_with_checkpoint', dir);
  const f = destination(appended);
  const versionColumn: ColumnSchema[] = [{ name: 'version', type: { kind: 'int32' }, nullable: true }];
  await commitBatch(
    f,
    request(await staging.batch(versionColumn, ['(100)', '(101)']), 1, 'incremental', {
      pipeline: 'fixture_append',
    }),
  );
  await f.close();
  scenarios.push({
    name: 'append to a Spark-written table',
    path: appended,
    types: { version: 'integer' },
    rows: [{ version: '100' }, { version: '101' }],
    version: 11,
    subset: true,
  });

  // Appending to partitioned tables: Hive directories, null partitions, escaped values.
  const nullPartition = await copyFixture('delta-0.8.0-null-partition', dir);
  const n = destination(nullPartition);
  const kv: ColumnSchema[] = [
    { name: 'k', type: { kind: 'text' }, nullable: true },
    { name: 'v', type: { kind: 'int64' }, nullable: true },
  ];
  await commitBatch(
    n,
    request(
      await staging.batch(kv, [`('A', 10)`, `(NULL, 11)`, `('x/y=z %', 12)`, `('x/y=z %', 13)`]),
      1,
      'incremental',
      { pipeline: 'fixture_append' },
    ),
  );
  await n.close();
  scenarios.push({
    name: 'append to a partitioned table',
    path: nullPartition,
    types: { k: 'string', v: 'long' },
    rows: [
      { k: 'A', v: '10' },
      { k: null, v: '11' },
      { k: 'x/y=z %', v: '12' },
      { k: 'x/y=z %', v: '13' },
      { k: 'A', v: '1' },
      { k: null, v: '2' },
    ],
    version: 1,
    subset: true,
  });

  const multiPartition = await copyFixture('delta-0.8.0-partitioned', dir);
  const p = destination(multiPartition);
  const ymd: ColumnSchema[] = ['value', 'year', 'month', 'day'].map((name) => ({
    name,
    type: { kind: 'text' },
    nullable: true,
  }));
  await commitBatch(
    p,
    request(
      await staging.batch(ymd, [`('100', '2030', '1', '2')`, `('101', '2030', '1', '3')`]),
      1,
      'incremental',
      { pipeline: 'fixture_append' },
    ),
  );
  await p.close();
  scenarios.push({
    name: 'append to a multi-level partitioned table',
    path: multiPartition,
    types: { value: 'string', year: 'string', month: 'string', day: 'string' },
    rows: [
      { value: '100', year: '2030', month: '1', day: '2' },
      { value: '101', year: '2030', month: '1', day: '3' },
      { value: '1', year: '2020', month: '1', day: '1' },
    ],
    version: 1,
    subset: true,
  });

  return scenarios;
}

export const SCENARIO_NAMES = [
  'all types + added column',
  'full overwrite',
  'merge',
  'checkpoint at 10',
  'append to a Spark-written table',
  'append to a partitioned table',
  'append to a multi-level partitioned table',
];

function sortRows(rows: readonly Row[]): Row[] {
  const key = (r: Row) =>
    JSON.stringify(
      Object.keys(r)
        .sort()
        .map((k) => [k, r[k]]),
    );
  return [...rows].sort((x, y) => key(x).localeCompare(key(y)));
}

/** Asserts that an oracle saw exactly the scenario's types and rows . */
export function expectScenario(scenario: Scenario, table: OracleTable | undefined): void {
  expect(table?.error, `${scenario.name}: reader error`).toBeUndefined();
  const types = Object.fromEntries((table?.schema ?? []).map((f) => [f.name, f.type]));
  expect(types, `${scenario.name}: types`).toEqual(scenario.types);
  const rows = (table?.rows ?? []) as Row[];
  if (scenario.subset === true) {
    for (const row of scenario.rows) expect(rows, `${scenario.name}: rows`).toContainEqual(row);
  } else {
    expect(sortRows(rows), `${scenario.name}: rows`).toEqual(sortRows(scenario.rows));
  }
}
