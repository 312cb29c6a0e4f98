/**
 * Change data feed: merges into a table with `delta.enableChangeDataFeed=true` write `_change_data`
 * files with exactly the changed rows, so delta-rs `load_cdf` and Spark `readChangeFeed` report
 * update pre/post images for changed keys, inserts for new keys, deletes for duplicates a merge
 * collapses, and nothing for the untouched rows of rewritten files. Appends and full overwrites
 * need no cdc files: readers derive their inserts and deletes from the adds and removes. Tables
 * created by etld (`change_data_feed`) and by Spark, partitioned and not, and a seeded random
 * sequence of loads checked against a model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadMode } from '../../daemon/destinations/destination.js';
import { FileStore } from '../../daemon/storage/file-store.js';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import { Prng } from '../chaos/prng.js';
import { commitBatch } from '../conformance/commit-batch.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import { tempDir } from './fixtures.js';
import { OracleSession } from './oracle-session.js';
import type { ModelColumn, ModelRow } from './row-model.js';
import { column, expectRows, randomCell, schemaOf, tuples } from './row-model.js';
import { Staging, request } from './staging.js';

const TIMEOUT = 900_000;

let dir: string;
let cleanup: () => Promise<void>;
let staging: Staging;
let spark: OracleSession;
let deltaRs: OracleSession;
let tables = 0;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('cdf'));
  staging = await Staging.open();
  spark = new OracleSession('spark');
  deltaRs = new OracleSession('deltalake');
});
afterAll(async () => {
  await spark.close();
  await deltaRs.close();
  staging.close();
  await cleanup();
});

type Change = 'insert' | 'delete' | 'update_preimage' | 'update_postimage';

/**
 * A table and what it should hold: loads go to etld and to the model, which records the change
 * rows each version must report (one version per load).
 */
class Modelled {
  readonly path: string;
  readonly destination: DeltaDestination;
  readonly rows = new Map<string, ModelRow>();
  readonly changes: ModelRow[] = [];
  version: number;
  #sequence = 0;

  readonly columns: readonly ModelColumn[];

  constructor(
    columns: readonly ModelColumn[],
    options: { partitionBy?: string[]; changeDataFeed?: boolean; path?: string; version?: number } = {},
  ) {
    this.columns = columns;
    this.path = options.path ?? join(dir, `t${++tables}`);
    this.version = options.version ?? -1;
    this.destination = new DeltaDestination({
      store: new FileStore(this.path),
      logger: silentLogger,
      ...(options.partitionBy ? { partitionBy: options.partitionBy } : {}),
      ...(options.changeDataFeed === undefined ? {} : { changeDataFeed: options.changeDataFeed }),
    });
  }

  #record(row: ModelRow, change: Change): void {
    this.changes.push({ ...row, _change_type: change, _commit_version: String(this.version) });
  }

  /** Loads `rows` (unique ids) and records their changes under the model's rules. */
  async load(rows: readonly ModelRow[], mode: LoadMode): Promise<void> {
    await commitBatch(
      this.destination,
      request(
        await staging.batch(schemaOf(this.columns), tuples(this.columns, rows)),
        ++this.#sequence,
        mode,
        mode === 'merge' ? { key: ['id'] } : {},
      ),
    );
    this.version++;
    if (mode === 'full') {
      for (const old of this.rows.values()) this.#record(old, 'delete');
      this.rows.clear();
    }
    for (const row of rows) {
      const id = String(row.id);
      const old = this.rows.get(id);
      if (old === undefined) this.#record(row, 'insert');
      else if (JSON.stringify(old) !== JSON.stringify(row)) {
        this.#record(old, 'update_preimage');
        this.#record(row, 'update_postimage');
      }
      this.rows.set(id, row);
    }
  }

  since(version: number): ModelRow[] {
    return this.changes.filter((c) => Number(c._commit_version) >= version);
  }

  /**
   * Both engines report exactly the model's rows and change rows from `version` on. `deltaRs:
   * false` for partition values that need URI escaping: delta-rs 1.6.6 `load_cdf` does not
   * percent-decode logged paths and fails to find the files (on Spark-written tables as well).
   */
  async expectFeed(version: number, { deltaRs: withDeltaRs = true } = {}): Promise<void> {
    const expected = this.since(version);
    if (withDeltaRs) {
      expectRows(
        'delta-rs load_cdf',
        await deltaRs.request({ op: 'cdf', path: this.path, start: version }),
        expected,
      );
    }
    expectRows(
      'Spark readChangeFeed',
      await spark.request({ op: 'cdf', path: this.path, start: version }),
      expected,
    );
    expectRows('delta-rs table', (await readWithOracle('deltalake', [this.path]))[this.path], [
      ...this.rows.values(),
    ]);
  }
}

async function commitLines(
  path: string,
  version: number,
): Promise<Record<string, Record<string, unknown>>[]> {
  const text = await readFile(join(path, '_delta_log', `${String(version).padStart(20, '0')}.json`), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
}

const COLUMNS = [column('id', 'int64', false), column('name', 'text'), column('qty', 'int32')];

describe('change data feed', () => {
  it(
    'change_data_feed creates a CDF table; appends and full overwrites need no cdc files',
    async () => {
      const t = new Modelled(COLUMNS, { changeDataFeed: true });
      await t.load(
        [
          { id: '1', name: 'a', qty: '1' },
          { id: '2', name: 'b', qty: null },
        ],
        'incremental',
      );
      const v0 = await commitLines(t.path, 0);
      expect(v0.find((l) => l.protocol)?.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 4 });
      expect(v0.find((l) => l.metaData)?.metaData?.configuration).toEqual({
        'delta.enableChangeDataFeed': 'true',
      });
      await t.load([{ id: '3', name: 'c', qty: '3' }], 'incremental');
      await t.load([{ id: '9', name: 'z', qty: '9' }], 'full');
      for (const version of [0, 1, 2]) {
        expect((await commitLines(t.path, version)).some((l) => l.cdc)).toBe(false);
      }
      await t.destination.close();
      await t.expectFeed(0);
      await t.expectFeed(2);
    },
    TIMEOUT,
  );

  it(
    'a merge reports pre/post images of changed keys and inserts, nothing for unchanged rows of rewritten files',
    async () => {
      const t = new Modelled(COLUMNS, { changeDataFeed: true });
      await t.load(
        [1, 2, 3, 4, 5].map((i) => ({ id: String(i), name: `n${i}`, qty: String(i) })),
        'incremental',
      );
      // id 2 changes, id 3 arrives unchanged, id 6 is new: the one data file is rewritten.
      await t.load(
        [
          { id: '2', name: 'n2', qty: '20' },
          { id: '3', name: 'n3', qty: '3' },
          { id: '6', name: 'n6', qty: null },
        ],
        'merge',
      );
      const v1 = await commitLines(t.path, 1);
      const cdc = v1.filter((l) => l.cdc).map((l) => l.cdc ?? {});
      expect(cdc.length).toBeGreaterThan(0);
      for (const action of cdc) {
        expect(action.dataChange).toBe(false);
        expect(String(action.path)).toMatch(/^_change_data\/cdc-00000-.*\.parquet$/);
        expect(typeof action.size).toBe('number');
      }
      // As Spark writes a MERGE: the rewritten files' add and remove keep dataChange true.
      expect(v1.filter((l) => l.add).every((l) => l.add?.dataChange === true)).toBe(true);
      expect(v1.filter((l) => l.remove).every((l) => l.remove?.dataChange === true)).toBe(true);
      expect(v1.find((l) => l.commitInfo)?.commitInfo?.operationMetrics).toMatchObject({
        numTargetRowsInserted: '1',
        numTargetRowsUpdated: '1',
        numTargetRowsDeleted: '0',
      });
      // Every row arrives unchanged: no file is rewritten, the version holds only the txn.
      await t.load([{ id: '2', name: 'n2', qty: '20' }], 'merge');
      const v2 = await commitLines(t.path, 2);
      expect(v2.filter((l) => l.add || l.remove || l.cdc)).toEqual([]);
      // Only new keys: no file is rewritten, the adds are the inserts.
      await t.load([{ id: '7', name: 'n7', qty: '7' }], 'merge');
      expect((await commitLines(t.path, 3)).some((l) => l.cdc)).toBe(false);
      await t.destination.close();
      await t.expectFeed(0);
      await t.expectFeed(1);
    },
    TIMEOUT,
  );

  it(
    'a merge that collapses duplicate keys reports the extra rows as deleted',
    async () => {
      const t = new Modelled(COLUMNS, { changeDataFeed: true });
      await t.load([{ id: '1', name: 'a', qty: '1' }], 'incremental');
      // An append of the same key: the table holds two rows of id 1 (appends do not deduplicate).
      await commitBatch(
        t.destination,
        request(await staging.batch(schemaOf(COLUMNS), ["(1, 'a', 1)"]), 2, 'incremental'),
      );
      await commitBatch(
        t.destination,
        request(await staging.batch(schemaOf(COLUMNS), ["(1, 'a', 1)"]), 3, 'merge', { key: ['id'] }),
      );
      await t.destination.close();
      const expected: ModelRow[] = [
        { id: '1', name: 'a', qty: '1', _change_type: 'insert', _commit_version: '0' },
        { id: '1', name: 'a', qty: '1', _change_type: 'insert', _commit_version: '1' },
        // The row equal to the incoming one stays; its duplicate goes.
        { id: '1', name: 'a', qty: '1', _change_type: 'delete', _commit_version: '2' },
      ];
      expectRows('delta-rs', await deltaRs.request({ op: 'cdf', path: t.path, start: 0 }), expected);
      expectRows('Spark', await spark.request({ op: 'cdf', path: t.path, start: 0 }), expected);
    },
    TIMEOUT,
  );

  it(
    'a partitioned CDF table: cdc files in partition directories, a moved row is pre in its old and post in its new partition',
    async () => {
      const columns = [column('id', 'int64', false), column('region', 'text'), column('v', 'int32')];
      const t = new Modelled(columns, { changeDataFeed: true, partitionBy: ['region'] });
      await t.load(
        [
          { id: '1', region: 'a/b', v: '1' },
          { id: '2', region: 'a/b', v: '2' },
          { id: '3', region: 'é x', v: '3' },
          { id: '4', region: null, v: '4' },
        ],
        'incremental',
      );
      await t.load(
        [
          { id: '1', region: 'é x', v: '1' },
          { id: '4', region: null, v: '40' },
          { id: '5', region: '100%', v: '5' },
        ],
        'merge',
      );
      const cdc = (await commitLines(t.path, 1)).filter((l) => l.cdc).map((l) => l.cdc ?? {});
      const paths = cdc.map((c) => String(c.path).split('/').slice(0, 2).join('/')).sort();
      expect(paths).toEqual(
        [
          '_change_data/region=100%2525',
          '_change_data/region=__HIVE_DEFAULT_PARTITION__',
          '_change_data/region=a%252Fb',
          '_change_data/region=%C3%A9%20x',
        ].sort(),
      );
      expect(cdc.map((c) => (c.partitionValues as Record<string, string | null>).region)).toContain(null);
      await t.destination.close();
      await t.expectFeed(1, { deltaRs: false });
    },
    TIMEOUT,
  );

  it(
    'a Spark-created CDF table, and CDF enabled on an existing etld table',
    async () => {
      const t = new Modelled(COLUMNS, { path: join(dir, `t${++tables}`), version: 1 });
      const created = await spark.request({
        op: 'sql',
        sql: [
          `CREATE TABLE delta.\`${t.path}\` (id BIGINT NOT NULL, name STRING, qty INT) USING delta TBLPROPERTIES (delta.enableChangeDataFeed = true)`,
          `INSERT INTO delta.\`${t.path}\` VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)`,
        ],
      });
      expect(created.error).toBeUndefined();
      for (const [id, name, qty] of [
        ['1', 'a', '1'],
        ['2', 'b', '2'],
        ['3', 'c', '3'],
      ] as const)
        t.rows.set(id, { id, name, qty });
      await t.load(
        [
          { id: '1', name: 'A', qty: '1' },
          { id: '3', name: 'c', qty: '3' },
          { id: '4', name: 'd', qty: null },
        ],
        'merge',
      );
      await t.destination.close();
      await t.expectFeed(2);

      // An etld table without CDF; the option turns it on (metaData and protocol in one commit).
      const u = new Modelled(COLUMNS);
      await u.load([{ id: '1', name: 'a', qty: '1' }], 'incremental');
      await u.destination.close();
      const enabled = new Modelled(COLUMNS, { path: u.path, changeDataFeed: true, version: 0 });
      for (const [id, row] of u.rows) enabled.rows.set(id, row);
      await commitBatch(
        enabled.destination,
        request(await staging.batch(schemaOf(COLUMNS), ["(1, 'a2', 1)"]), 2, 'merge', { key: ['id'] }),
      );
      enabled.version = 1;
      enabled.rows.set('1', { id: '1', name: 'a2', qty: '1' });
      const v1 = await commitLines(u.path, 1);
      expect(v1.find((l) => l.protocol)?.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 4 });
      expect(v1.find((l) => l.metaData)?.metaData?.configuration).toEqual({
        'delta.enableChangeDataFeed': 'true',
      });
      await enabled.destination.close();
      const expected: ModelRow[] = [
        { id: '1', name: 'a', qty: '1', _change_type: 'update_preimage', _commit_version: '1' },
        { id: '1', name: 'a2', qty: '1', _change_type: 'update_postimage', _commit_version: '1' },
      ];
      expectRows('delta-rs', await deltaRs.request({ op: 'cdf', path: u.path, start: 1 }), expected);
      expectRows('Spark', await spark.request({ op: 'cdf', path: u.path, start: 1 }), expected);
    },
    TIMEOUT,
  );

  const SEED = Number(process.env.ETLD_TEST_SEED ?? 20_241_202);
  it(
    `a seeded random sequence of merges, appends and overwrites (seed ${SEED}) reads as the model's changes`,
    async () => {
      const prng = new Prng(SEED, 'cdf');
      const columns = [
        column('id', 'int64', false),
        column('s', 'text'),
        column('i', 'int32'),
        column('d', 'date'),
        column('b', 'bool'),
      ];
      const models = [
        new Modelled(columns, { changeDataFeed: true }),
        new Modelled(columns, { changeDataFeed: true, partitionBy: ['i'] }),
        new Modelled(columns, { changeDataFeed: true, partitionBy: ['s', 'b'] }),
      ];
      for (const t of models) {
        let nextId = 0;
        const partitionText = t === models[2];
        for (let step = 0; step < 8; step++) {
          const mode =
            step === 0
              ? 'incremental'
              : prng.weighted<LoadMode>([
                  ['merge', 6],
                  ['incremental', 1],
                  ['full', 1],
                ]);
          const rows: ModelRow[] = [];
          const seen = new Set<string>();
          for (let r = prng.int(1, 12); r > 0; r--) {
            const reuse = mode === 'merge' && t.rows.size > 0 && prng.chance(0.7);
            const id = reuse ? prng.pick([...t.rows.keys()].sort()) : String(nextId++);
            if (seen.has(id)) continue;
            seen.add(id);
            const old = t.rows.get(id);
            // Often a key arrives unchanged, or with one column changed.
            const row: ModelRow =
              old && prng.chance(0.3)
                ? { ...old }
                : {
                    id,
                    s: randomCell(prng, { kind: 'text' }, true),
                    i: randomCell(prng, { kind: 'int32' }, true),
                    d: randomCell(prng, { kind: 'date' }, true),
                    b: randomCell(prng, { kind: 'bool' }, true),
                  };
            // Delta stores an empty string in a partition column as null.
            if (partitionText) {
              // Values delta-rs load_cdf can find (see expectFeed); Delta stores '' as null.
              row.s = prng.pick(['a', 'b', 'c', null]);
            }
            rows.push(row);
          }
          await t.load(rows, mode);
        }
        await t.destination.close();
      }
      for (const t of models) {
        await t.expectFeed(0);
        await t.expectFeed(3);
      }
    },
    TIMEOUT,
  );
});
