/**
 * Partitioned Delta tables (`partition_by`): etld creates them, appends and merges into them, and
 * appends to one Spark created; delta-rs and Spark read every table back row by row, and prune by
 * partition (delta-rs `files(partition_filters)`, Spark's scanned-file count and input_file_name).
 * Covers date, string, integer, boolean, decimal and timestamp partitions, nulls, hostile values
 * (`/`, `=`, `%`, spaces, non-ASCII, empty string, Hive's null marker), and a seeded random
 * sequence of loads compared with a model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadMode } from '../../daemon/destinations/destination.js';
import { DeltaFiles } from '../../daemon/destinations/delta/delta-files.js';
import { FileStore } from '../../daemon/storage/file-store.js';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import { readSnapshot } from '../../daemon/destinations/delta/delta-log-reader.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import { Prng } from '../chaos/prng.js';
import { commitBatch, failure } from '../conformance/commit-batch.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import { tempDir } from './fixtures.js';
import { OracleSession } from './oracle-session.js';
import type { ModelColumn, ModelRow } from './row-model.js';
import { HOSTILE_STRINGS, column, expectRows, randomCell, schemaOf, tuples } from './row-model.js';
import { Staging, request } from './staging.js';

const TIMEOUT = 900_000;

let dir: string;
let cleanup: () => Promise<void>;
let staging: Staging;
let spark: OracleSession;
let deltaRs: OracleSession;
let tables = 0;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('partitions'));
  staging = await Staging.open();
  // Started first: the JVM boots while etld writes.
  spark = new OracleSession('spark');
  deltaRs = new OracleSession('deltalake');
});
afterAll(async () => {
  await spark.close();
  await deltaRs.close();
  staging.close();
  await cleanup();
});

function newTable(): string {
  return join(dir, `t${++tables}`);
}

function destination(path: string, partitionBy?: readonly string[]): DeltaDestination {
  return new DeltaDestination({
    store: new FileStore(path),
    logger: silentLogger,
    ...(partitionBy ? { partitionBy } : {}),
  });
}

async function load(
  target: DeltaDestination,
  columns: readonly ModelColumn[],
  rows: readonly ModelRow[],
  sequence: number,
  mode: LoadMode = 'incremental',
  key?: string[],
): Promise<void> {
  await commitBatch(
    target,
    request(
      await staging.batch(schemaOf(columns), tuples(columns, rows)),
      sequence,
      mode,
      key ? { key } : {},
    ),
  );
}

/** The value a partition column reads back as: Delta stores an empty string as null. */
function asStored(row: ModelRow, partitionBy: readonly string[]): ModelRow {
  const out = { ...row };
  for (const p of partitionBy) if (out[p] === '') out[p] = null;
  return out;
}

/** Live files by partition value of `column` (decoded paths, as delta-rs lists them). */
async function filesOf(path: string, partition: string, value: string | null): Promise<string[]> {
  const snapshot = await readSnapshot(new DeltaFiles(new FileStore(path)), () =>
    Promise.reject(new Error('no checkpoint expected')),
  );
  return [...(snapshot?.files.values() ?? [])]
    .filter((a) => (a.partitionValues[partition] ?? null) === value)
    .map((a) => decodeURIComponent(a.path))
    .sort();
}

/** Checks both engines prune `path` to the files of `partition = value`, and read their rows. */
async function expectPruned(
  path: string,
  partition: string,
  value: string,
  expected: readonly ModelRow[],
): Promise<void> {
  const files = await filesOf(path, partition, value);
  expect(files.length, `files of ${partition}=${value}`).toBeGreaterThan(0);
  const listed = await deltaRs.request<{ files?: string[]; error?: string }>({
    op: 'files',
    path,
    filters: [[partition, '=', value]],
  });
  expect(listed.error).toBeUndefined();
  expect([...(listed.files ?? [])].sort(), `delta-rs files ${value}`).toEqual(files);
  const literal = `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const read = await spark.request({ op: 'read', path, where: `\`${partition}\` = ${literal}` });
  expectRows(`Spark rows of ${partition}=${value}`, read, expected);
  expect(read.filesScanned, `Spark scanned files of ${partition}=${value}`).toBe(files.length);
  // input_file_name is a URI of the file: it names the partition directory the log points to.
  const absolute = files.map((f) => join(path, f));
  for (const uri of read.files ?? []) expect(absolute).toContain(decodeURIComponent(new URL(uri).pathname));
}

describe('partition_by on a new table', () => {
  const columns = [
    column('id', 'int64', false),
    column('region', 'text'),
    column('day', 'date'),
    column('bucket', 'int32'),
    column('flag', 'bool'),
    column('price', { kind: 'decimal', precision: 10, scale: 2 }),
    column('at', 'timestamptz'),
    column('note', 'text'),
  ];

  it(
    'hostile string partitions: Hive directories, URI paths, null and empty string',
    async () => {
      const path = newTable();
      const target = destination(path, ['region']);
      const values = [...HOSTILE_STRINGS, '', null];
      const rows: ModelRow[] = values.map((region, i) => ({
        id: String(i),
        region,
        day: '2024-01-01',
        bucket: '1',
        flag: true,
        price: '1.00',
        at: null,
        note: `n${i}`,
      }));
      await load(target, columns, rows, 1);
      // Two more rows in an existing partition: a second file there.
      const more = [
        { ...rows[0], id: '100' },
        { ...rows[2], id: '101' },
      ] as ModelRow[];
      await load(target, columns, more, 2);
      await target.close();
      const expected = [...rows, ...more].map((r) => asStored(r, ['region']));

      const log = await readFile(join(path, '_delta_log', '00000000000000000000.json'), 'utf8');
      const metaData = log
        .split('\n')
        .filter((l) => l.includes('"metaData"'))
        .map((l) => JSON.parse(l) as { metaData: { partitionColumns: string[] } })[0];
      expect(metaData?.metaData.partitionColumns).toEqual(['region']);
      const snapshot = await readSnapshot(new DeltaFiles(new FileStore(path)), () =>
        Promise.reject(new Error('no checkpoint')),
      );
      const adds = [...(snapshot?.files.values() ?? [])];
      // Spark's escaping: `a/b` → directory `region=a%2Fb`, logged as the URI `region=a%252Fb`.
      expect(adds.find((a) => a.partitionValues.region === 'a/b')?.path).toMatch(/^region=a%252Fb\/part-/);
      expect(adds.filter((a) => a.partitionValues.region === null).map((a) => a.path.split('/')[0])).toEqual([
        'region=__HIVE_DEFAULT_PARTITION__',
      ]);
      // The files leave the partition column out, as Spark writes them.
      expect(
        adds.every(
          (a) => !Object.hasOwn((JSON.parse(a.stats ?? '{}') as { minValues: object }).minValues, 'region'),
        ),
      ).toBe(true);

      const read = await readWithOracle('deltalake', [path]);
      expectRows('delta-rs', read[path], expected);
      const sparkAll = await spark.request({ op: 'read', path });
      expectRows('Spark', sparkAll, expected);
      for (const value of [
        'a/b',
        'x=y',
        '100%',
        '%2F',
        'with space',
        'ünï €',
        '__HIVE_DEFAULT_PARTITION__',
      ]) {
        await expectPruned(
          path,
          'region',
          value,
          expected.filter((r) => r.region === value),
        );
      }
      const nulls = await spark.request({ op: 'read', path, where: 'region IS NULL' });
      expectRows(
        'Spark region IS NULL',
        nulls,
        expected.filter((r) => r.region === null),
      );
      expect(nulls.filesScanned).toBe((await filesOf(path, 'region', null)).length);
    },
    TIMEOUT,
  );

  it(
    'date, integer, boolean, decimal and timestamp partitions, nested three levels, with nulls',
    async () => {
      const path = newTable();
      const partitionBy = ['day', 'bucket', 'flag'];
      const target = destination(path, partitionBy);
      const rows: ModelRow[] = [
        {
          id: '1',
          region: 'a',
          day: '2024-02-29',
          bucket: '-7',
          flag: true,
          price: '1.50',
          at: null,
          note: 'x',
        },
        {
          id: '2',
          region: 'b',
          day: '1969-07-20',
          bucket: '0',
          flag: false,
          price: null,
          at: null,
          note: null,
        },
        { id: '3', region: 'c', day: null, bucket: null, flag: null, price: '2.00', at: null, note: 'y' },
        {
          id: '4',
          region: 'd',
          day: '2024-02-29',
          bucket: '-7',
          flag: true,
          price: '3.00',
          at: null,
          note: 'z',
        },
        {
          id: '5',
          region: 'e',
          day: '2024-02-29',
          bucket: '2147483647',
          flag: false,
          price: null,
          at: null,
          note: null,
        },
      ];
      await load(target, columns, rows, 1);
      await target.close();
      const snapshot = await readSnapshot(new DeltaFiles(new FileStore(path)), () =>
        Promise.reject(new Error('no checkpoint')),
      );
      const values = [...(snapshot?.files.values() ?? [])]
        .map((a) => a.partitionValues)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      expect(values).toContainEqual({ day: '2024-02-29', bucket: '-7', flag: 'true' });
      expect(values).toContainEqual({ day: null, bucket: null, flag: null });
      expect(snapshot?.files.size).toBe(4);
      expectRows('delta-rs', (await readWithOracle('deltalake', [path]))[path], rows);
      expectRows('Spark', await spark.request({ op: 'read', path }), rows);
      const read = await spark.request({
        op: 'read',
        path,
        where: "day = DATE '2024-02-29' AND bucket = -7 AND flag",
      });
      expectRows(
        'Spark pruned',
        read,
        rows.filter((r) => r.id === '1' || r.id === '4'),
      );
      expect(read.filesScanned).toBe(1);
      const listed = await deltaRs.request<{ files?: string[] }>({
        op: 'files',
        path,
        filters: [['day', '=', '2024-02-29']],
      });
      expect(listed.files).toHaveLength(2);

      // Decimal and timestamp partitions (ISO-8601 UTC values, as Spark 4 logs them).
      const path2 = newTable();
      const t2 = destination(path2, ['price', 'at']);
      const rows2: ModelRow[] = [
        {
          id: '1',
          region: 'a',
          day: null,
          bucket: null,
          flag: null,
          price: '1.50',
          at: '2024-06-15T12:30:00.123456Z',
          note: null,
        },
        {
          id: '2',
          region: 'b',
          day: null,
          bucket: null,
          flag: null,
          price: '0.01',
          at: '1969-12-31T23:59:59.999999Z',
          note: null,
        },
        { id: '3', region: 'c', day: null, bucket: null, flag: null, price: null, at: null, note: null },
        {
          id: '4',
          region: 'd',
          day: null,
          bucket: null,
          flag: null,
          price: '1.50',
          at: '2024-06-15T12:30:00.000000Z',
          note: null,
        },
      ];
      await load(t2, columns, rows2, 1);
      // A merge reads the partition values back from the log: the unchanged rows survive intact.
      await load(t2, columns, [{ ...rows2[0], note: 'merged' }], 2, 'merge', ['id']);
      await t2.close();
      const expected2 = [{ ...rows2[0], note: 'merged' } as ModelRow, ...rows2.slice(1)];
      const snapshot2 = await readSnapshot(new DeltaFiles(new FileStore(path2)), () =>
        Promise.reject(new Error('no checkpoint')),
      );
      expect([...(snapshot2?.files.values() ?? [])].map((a) => a.partitionValues.at)).toContain(
        '1969-12-31T23:59:59.999999Z',
      );
      expectRows('delta-rs', (await readWithOracle('deltalake', [path2]))[path2], expected2);
      expectRows('Spark', await spark.request({ op: 'read', path: path2 }), expected2);
      const byTime = await spark.request({
        op: 'read',
        path: path2,
        where: "at = TIMESTAMP '2024-06-15 12:30:00.123456'",
      });
      expectRows('Spark timestamp pruned', byTime, [expected2[0] as ModelRow]);
      expect(byTime.filesScanned).toBe(1);

      // Negative decimals: delta-rs 1.6.6 renders them `-1.-25` and `0.-1` (its own writer fails on
      // them too), so Spark alone reads these.
      const path3 = newTable();
      const t3 = destination(path3, ['price']);
      const rows3: ModelRow[] = [
        { ...(rows2[2] as ModelRow), id: '1', price: '-0.01' },
        { ...(rows2[2] as ModelRow), id: '2', price: '-1.25' },
      ];
      await load(t3, columns, rows3, 1);
      await t3.close();
      expectRows('Spark negative decimals', await spark.request({ op: 'read', path: path3 }), rows3);

      // timestamp_ntz partitions (protocol 3/7 with timestampNtz), logged `YYYY-MM-DD HH:MM:SS.ffffff`.
      const path4 = newTable();
      const ntzColumns = [column('id', 'int64'), column('local', 'timestamp')];
      const t4 = destination(path4, ['local']);
      await load(
        t4,
        ntzColumns,
        [
          { id: '1', local: '2024-06-15T12:30:00.654321' },
          { id: '2', local: '1969-12-31T23:59:59.000000' },
          { id: '3', local: null },
        ],
        1,
      );
      await load(t4, ntzColumns, [{ id: '2', local: '2000-02-29T00:00:00.000000' }], 2, 'merge', ['id']);
      await t4.close();
      const snapshot4 = await readSnapshot(new DeltaFiles(new FileStore(path4)), () =>
        Promise.reject(new Error('no checkpoint')),
      );
      expect([...(snapshot4?.files.values() ?? [])].map((a) => a.partitionValues.local).sort()).toEqual(
        ['2000-02-29 00:00:00.000000', '2024-06-15 12:30:00.654321', null].sort(),
      );
      const rows4: ModelRow[] = [
        { id: '1', local: '2024-06-15T12:30:00.654321' },
        { id: '2', local: '2000-02-29T00:00:00.000000' },
        { id: '3', local: null },
      ];
      expectRows('delta-rs ntz', (await readWithOracle('deltalake', [path4]))[path4], rows4);
      expectRows('Spark ntz', await spark.request({ op: 'read', path: path4 }), rows4);
      const byLocal = await spark.request({
        op: 'read',
        path: path4,
        where: "local = TIMESTAMP_NTZ '2024-06-15 12:30:00.654321'",
      });
      expectRows('Spark ntz pruned', byLocal, [rows4[0] as ModelRow]);
      expect(byLocal.filesScanned).toBe(1);
    },
    TIMEOUT,
  );

  it('refuses partition_by naming an unknown column, an unpartitionable type, or every column', async () => {
    const wide = [
      column('id', 'int64'),
      column('f', 'float64'),
      column('b', 'bytes'),
      column('j', 'json'),
      column('t', 'time'),
      column('f32', 'float32'),
    ];
    const batch = await staging.batch(schemaOf(wide), ['(1, 1.5, NULL, NULL, NULL, 2.5)']);
    for (const [by, pattern] of [
      [['nope'], /partition_by column nope is not a column/],
      [['f'], /partition_by column f \(float64\).*cannot be a partition column/],
      [['f32'], /partition_by column f32 \(float32\)/],
      [['b'], /partition_by column b \(bytes\)/],
      [['j'], /partition_by column j \(json\)/],
      [['t'], /partition_by column t \(time\)/],
      [['id', 'ID'], /names column id twice/],
    ] as const) {
      const path = newTable();
      const error = await failure(commitBatch(destination(path, by), request(batch, 1)));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(pattern);
    }
    const one = [column('id', 'int64')];
    const error = await failure(
      commitBatch(destination(newTable(), ['id']), request(await staging.batch(schemaOf(one), ['(1)']), 1)),
    );
    expect(error.message).toMatch(/names every column/);
  });

  it('an existing table keeps its partitioning; a conflicting partition_by is refused with both lists', async () => {
    const kv = [column('k', 'text'), column('v', 'int64')];
    const path = newTable();
    await load(destination(path, ['k']), kv, [{ k: 'a', v: '1' }], 1);
    // Without partition_by the table's partitioning applies.
    await load(destination(path), kv, [{ k: 'b', v: '2' }], 2);
    const snapshot = await readSnapshot(new DeltaFiles(new FileStore(path)), () =>
      Promise.reject(new Error('no checkpoint')),
    );
    expect([...(snapshot?.files.values() ?? [])].map((a) => a.path.split('/')[0]).sort()).toEqual([
      'k=a',
      'k=b',
    ]);
    // Same list in another case is the same partitioning.
    await load(destination(path, ['K']), kv, [{ k: 'c', v: '3' }], 3);
    const conflict = await failure(
      commitBatch(destination(path, ['v']), request(await staging.batch(schemaOf(kv), ["('d', 4)"]), 4)),
    );
    expect(conflict.code).toBe('CONFIG_INVALID');
    expect(conflict.message).toContain('partition_by [v] conflicts with the partitioning of Delta table');
    expect(conflict.message).toContain('[k]');
    const unpartitioned = newTable();
    await load(destination(unpartitioned), kv, [{ k: 'a', v: '1' }], 1);
    const refused = await failure(
      commitBatch(
        destination(unpartitioned, ['k']),
        request(await staging.batch(schemaOf(kv), ["('d', 4)"]), 2),
      ),
    );
    expect(refused.message).toContain('partition_by [k] conflicts with the partitioning of Delta table');
    expect(refused.message).toContain('[]');
  });
});

describe('merge into a partitioned table', () => {
  const columns = [column('id', 'int64', false), column('region', 'text'), column('v', 'int64')];

  it(
    'moves a row whose partition changes; with the partition in the key only its partitions are rewritten',
    async () => {
      const path = newTable();
      const target = destination(path, ['region']);
      const rows: ModelRow[] = [
        { id: '1', region: 'a/b', v: '1' },
        { id: '2', region: 'a/b', v: '2' },
        { id: '3', region: 'c d', v: '3' },
        { id: '4', region: null, v: '4' },
        { id: '5', region: 'é', v: '5' },
      ];
      await load(target, columns, rows, 1);
      // Key id only: id 1 moves from a/b to é, id 4 from null to c d, id 6 is new.
      await load(
        target,
        columns,
        [
          { id: '1', region: 'é', v: '10' },
          { id: '4', region: 'c d', v: '40' },
          { id: '6', region: null, v: '6' },
        ],
        2,
        'merge',
        ['id'],
      );
      let expected: ModelRow[] = [
        { id: '1', region: 'é', v: '10' },
        { id: '2', region: 'a/b', v: '2' },
        { id: '3', region: 'c d', v: '3' },
        { id: '4', region: 'c d', v: '40' },
        { id: '5', region: 'é', v: '5' },
        { id: '6', region: null, v: '6' },
      ];
      expectRows('delta-rs after merge by id', (await readWithOracle('deltalake', [path]))[path], expected);

      // Key (region, id): only the partitions the incoming rows fall in are read and rewritten.
      await load(
        target,
        columns,
        [
          { id: '2', region: 'a/b', v: '20' },
          { id: '7', region: 'a/b', v: '7' },
        ],
        3,
        'merge',
        ['region', 'id'],
      );
      await target.close();
      const lines = (await readFile(join(path, '_delta_log', '00000000000000000002.json'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, { partitionValues?: Record<string, string | null> }>);
      const touched = lines
        .flatMap((l) => [l.add, l.remove])
        .filter((a) => a !== undefined)
        .map((a) => a.partitionValues?.region);
      expect(new Set(touched)).toEqual(new Set(['a/b']));
      expected = expected.map((r) => (r.id === '2' ? { ...r, v: '20' } : r));
      expected.push({ id: '7', region: 'a/b', v: '7' });
      expectRows('delta-rs', (await readWithOracle('deltalake', [path]))[path], expected);
      expectRows('Spark', await spark.request({ op: 'read', path }), expected);
    },
    TIMEOUT,
  );
});

describe('a table Spark created', () => {
  it(
    'etld appends to and merges into a Spark-partitioned table; Spark appends after it; both engines agree',
    async () => {
      const path = newTable();
      const created = await spark.request({
        op: 'sql',
        sql: [
          `CREATE TABLE delta.\`${path}\` (id BIGINT, name STRING, day DATE, region STRING, n INT, flag BOOLEAN) USING delta PARTITIONED BY (day, region, n, flag)`,
          `INSERT INTO delta.\`${path}\` VALUES (1, 'one', DATE '2024-01-01', 'x/y', 1, true), (2, 'two', NULL, NULL, NULL, NULL), (3, 'three', DATE '2024-01-02', 'ü =%', -1, false)`,
        ],
      });
      expect(created.error).toBeUndefined();
      const columns = [
        column('id', 'int64'),
        column('name', 'text'),
        column('day', 'date'),
        column('region', 'text'),
        column('n', 'int32'),
        column('flag', 'bool'),
      ];
      const target = destination(path);
      const appended: ModelRow[] = [
        { id: '4', name: 'four', day: '2024-01-01', region: 'x/y', n: '1', flag: true },
        { id: '5', name: 'five', day: null, region: null, n: null, flag: null },
        { id: '6', name: 'six', day: '2030-12-31', region: 'new', n: '9', flag: false },
      ];
      await load(target, columns, appended, 1);
      // The merge reads Spark's files back with their partition values from the log.
      await load(
        target,
        columns,
        [
          { id: '1', name: 'ONE', day: '2024-01-01', region: 'x/y', n: '1', flag: true },
          { id: '3', name: 'three', day: '2024-01-03', region: 'ü =%', n: '-1', flag: false },
        ],
        2,
        'merge',
        ['id'],
      );
      await target.close();
      const more = await spark.request({
        op: 'sql',
        sql: [`INSERT INTO delta.\`${path}\` VALUES (7, 'seven', DATE '2024-01-01', 'x/y', 1, true)`],
      });
      expect(more.error).toBeUndefined();
      const expected: ModelRow[] = [
        { id: '1', name: 'ONE', day: '2024-01-01', region: 'x/y', n: '1', flag: true },
        { id: '2', name: 'two', day: null, region: null, n: null, flag: null },
        { id: '3', name: 'three', day: '2024-01-03', region: 'ü =%', n: '-1', flag: false },
        ...appended,
        { id: '7', name: 'seven', day: '2024-01-01', region: 'x/y', n: '1', flag: true },
      ];
      expectRows('Spark', await spark.request({ op: 'read', path }), expected);
      expectRows('delta-rs', (await readWithOracle('deltalake', [path]))[path], expected);
      const pruned = await spark.request({ op: 'read', path, where: "region = 'x/y'" });
      expectRows(
        'Spark pruned',
        pruned,
        expected.filter((r) => r.region === 'x/y'),
      );
      // Spark's file of id 1 was rewritten by etld's merge; files of x/y: etld's merge output,
      // etld's append (id 4) and Spark's last insert.
      expect(pruned.filesScanned).toBe(3);
    },
    TIMEOUT,
  );
});

describe('seeded random partitioned loads', () => {
  const SEED = Number(process.env.ETLD_TEST_SEED ?? 20_241_201);
  const pool = [
    column('s', 'text'),
    column('d', 'date'),
    column('i', 'int32'),
    column('b', 'bool'),
    column('m', { kind: 'decimal', precision: 12, scale: 2 }),
    column('ts', 'timestamptz'),
  ];

  it(
    `rows × partition columns (seed ${SEED}) read back by delta-rs and Spark as the model`,
    async () => {
      const prng = new Prng(SEED, 'partitions');
      const paths: string[] = [];
      const models: ModelRow[][] = [];
      for (let t = 0; t < 4; t++) {
        const partitionBy = prng
          .shuffle(pool)
          .slice(0, prng.int(1, 3))
          .map((c) => c.schema.name);
        const columns = [column('id', 'int64', false), ...pool, column('payload', 'text')];
        const path = newTable();
        const target = destination(path, partitionBy);
        let model = new Map<string, ModelRow>();
        let nextId = 0;
        for (let sequence = 1; sequence <= 4; sequence++) {
          const mode =
            sequence === 1 ? 'incremental' : prng.pick<LoadMode>(['incremental', 'merge', 'merge', 'full']);
          const rows: ModelRow[] = [];
          const count = prng.int(5, 40);
          for (let r = 0; r < count; r++) {
            const reuse = mode === 'merge' && model.size > 0 && prng.chance(0.5);
            const id = reuse ? prng.pick([...model.keys()]) : String(nextId++);
            if (rows.some((x) => x.id === id)) continue;
            const row: ModelRow = { id, payload: `p${sequence}-${r}` };
            for (const c of pool) row[c.schema.name] = randomCell(prng, c.schema.type, true);
            rows.push(row);
          }
          await load(target, columns, rows, sequence, mode, mode === 'merge' ? ['id'] : undefined);
          if (mode === 'full') model = new Map();
          for (const row of rows) model.set(String(row.id), asStored(row, partitionBy));
        }
        await target.close();
        paths.push(path);
        models.push([...model.values()]);
      }
      const rs = await readWithOracle('deltalake', paths);
      for (const [i, path] of paths.entries()) {
        expectRows(`delta-rs table ${i}`, rs[path], models[i] ?? []);
        expectRows(`Spark table ${i}`, await spark.request({ op: 'read', path }), models[i] ?? []);
      }
    },
    TIMEOUT,
  );
});
