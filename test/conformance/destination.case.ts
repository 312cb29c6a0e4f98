/**
 * The destination conformance suite (the source suite's pattern): every destination's test file
 * calls `runDestinationConformance` with a fixture that creates the destination and reads its
 * tables back through something other than the destination itself (a read-only DuckDB, psql-style
 * `::text`, delta-rs, the BigQuery double's storage). The suite drives the real two-phase load API
 * (beginLoad → writePart → commit / abort) and asserts what the contract promises to every run:
 * the three modes, one commit per sequence, schema evolution, cancellation and abort leaving the
 * last good state, and every canonical type stored exactly.
 *
 * Decisions:
 * - Each test loads its own table under its own pipeline name, so tests share one fixture (one
 *   server, one dataset) without sharing state, and a destination that keys its commit records
 *   by pipeline and one that keys them by table both see separate histories.
 * - Rows are compared after normalisation by canonical type (normalise.ts), sorted: the suite
 *   checks values, not each store's rendering or order.
 * - Native type names differ by destination, so messages are checked for what every destination
 *   must name: the column and the incoming canonical type.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Destination, LoadRequest } from '../../daemon/destinations/destination.js';
import type { ColumnSchema } from '../../shared/types.js';
import { commitBatch, commitRequest, failure } from './commit-batch.js';
import { normaliseValue, rowText, valueKindOf, type NormalRow } from './normalise.js';
import { col, createStager, type Stager } from './staged-batch.js';

export interface DestinationFixture {
  /** A destination loading into table `table` (each test uses a name of its own). */
  destination(table: string): Destination;
  /**
   * Every row `table` holds, each normalised per `columns` (in that order; a column the table lacks
   * reads as NULL), or null when the destination holds no such table. Reads around the
   * destination under test, never through it.
   */
  read(table: string, columns: readonly ColumnSchema[]): Promise<NormalRow[] | null>;
  close(): Promise<void>;
}

export interface DestinationConformanceOptions {
  readonly name: string;
  readonly setup: () => Promise<DestinationFixture>;
  /** Per-test timeout, for fixtures whose reads start a process (delta-rs). */
  readonly timeoutMs?: number;
}

/** Rows as the suite writes them: values in the columns' order, SQL literals for the staging DuckDB. */
function expected(columns: readonly ColumnSchema[], rows: readonly (readonly unknown[])[]): NormalRow[] {
  return sortRows(rows.map((row) => columns.map((c, i) => normaliseValue(valueKindOf(c.type), row[i]))));
}

function sortRows(rows: readonly NormalRow[]): NormalRow[] {
  return [...rows].sort((a, b) => (rowText(a) < rowText(b) ? -1 : rowText(a) > rowText(b) ? 1 : 0));
}

/** Every canonical type, with values at the edges of each. */
export const ALL_TYPES: readonly ColumnSchema[] = [
  col('i16', 'int16'),
  col('i32', 'int32'),
  col('i64', 'int64'),
  col('f32', 'float32'),
  col('f64', 'float64'),
  col('b', 'bool'),
  col('small', { kind: 'decimal', precision: 18, scale: 2 }),
  col('wide', { kind: 'decimal', precision: 38, scale: 10 }),
  col('t', 'text'),
  col('by', 'bytes'),
  col('dt', 'date'),
  col('tm', 'time'),
  col('ts', 'timestamp'),
  col('tz', 'timestamptz'),
  col('j', 'json'),
  col('u', 'uuid'),
];

const ALL_TYPES_SQL = `
  (-32768, 2147483647, 9007199254740993, 1.5, 'nan'::DOUBLE, true, 12345678.91,
   1234567890123456789012345678.0123456789, 'quote '' " \\ comma, new' || chr(10) || 'line é ✓',
   '\\x00\\xFF\\x41'::BLOB, DATE '2024-02-29', TIME '23:59:59.999999',
   TIMESTAMP '1999-12-31 23:59:59.123456', TIMESTAMPTZ '2024-01-02 03:04:05.654321+00',
   '{"b": null, "a": [1, 2]}', '123E4567-E89B-12D3-A456-426614174000'),
  (32767, -2147483648, -9223372036854775808, -0.25, 'inf'::DOUBLE, false, -0.01,
   -0.0000000001, '', ''::BLOB, DATE '0001-01-01', TIME '00:00:00',
   TIMESTAMP '2038-01-19 03:14:08', TIMESTAMPTZ '1970-01-01 00:00:00+00', '[]', NULL),
  (NULL, NULL, 0, NULL, -1e300, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`;

const ALL_TYPES_ROWS: readonly (readonly unknown[])[] = [
  [
    '-32768',
    '2147483647',
    '9007199254740993',
    '1.5',
    'nan',
    'true',
    '12345678.91',
    '1234567890123456789012345678.0123456789',
    `quote ' " \\ comma, new\nline é ✓`,
    '00ff41',
    '2024-02-29',
    '23:59:59.999999',
    '1999-12-31 23:59:59.123456',
    '2024-01-02 03:04:05.654321Z',
    '{"a":[1,2],"b":null}',
    '123e4567-e89b-12d3-a456-426614174000',
  ],
  [
    '32767',
    '-2147483648',
    '-9223372036854775808',
    '-0.25',
    'inf',
    'false',
    '-0.01',
    '-0.0000000001',
    '',
    '',
    '0001-01-01',
    '00:00:00',
    '2038-01-19 03:14:08',
    '1970-01-01 00:00:00Z',
    '[]',
    null,
  ],
  [null, null, '0', null, '-1e300', null, null, null, null, null, null, null, null, null, null, null],
];

export function runDestinationConformance(options: DestinationConformanceOptions): void {
  describe(`${options.name}: destination conformance`, { timeout: options.timeoutMs ?? 60_000 }, () => {
    let fixture: DestinationFixture;
    let stager: Stager;

    beforeAll(async () => {
      fixture = await options.setup();
      stager = await createStager();
    });
    afterAll(async () => {
      stager?.close();
      await fixture?.close();
    });

    /** What `table` holds, sorted as `expected` sorts. */
    async function read(table: string, columns: readonly ColumnSchema[]): Promise<NormalRow[] | null> {
      const rows = await fixture.read(table, columns);
      return rows === null ? null : sortRows(rows);
    }

    /** A load of `table` as pipeline `table`, incremental unless `overrides` says otherwise. */
    async function load(
      destination: Destination,
      table: string,
      columns: readonly ColumnSchema[],
      rows: string,
      overrides: Partial<Omit<LoadRequest, 'columns' | 'workDir'>> & { sequence: number },
    ): Promise<Awaited<ReturnType<typeof commitBatch>>> {
      const batch = await stager.stage(columns, rows);
      return commitBatch(
        destination,
        commitRequest(batch, { pipeline: table, runId: `${table}-${overrides.sequence}-1`, ...overrides }),
      );
    }

    const ID_NAME = [col('id', 'int64'), col('name', 'text')];

    test('plans a create and holds no sequence before the first load, and planning writes nothing', async () => {
      const destination = fixture.destination('conf_fresh');
      expect(await destination.planSchema(ID_NAME, 'add_columns')).toEqual([
        expect.objectContaining({ change: 'create' }),
      ]);
      expect(await destination.committedSequence('conf_fresh')).toBeNull();
      expect(await read('conf_fresh', ID_NAME)).toBeNull();
    });

    test('incremental appends each sequence once; a repeated sequence writes nothing; sequences are per pipeline', async () => {
      const destination = fixture.destination('conf_inc');
      const first = await load(destination, 'conf_inc', ID_NAME, `(1, 'a'), (2, 'b')`, { sequence: 7 });
      expect(first).toMatchObject({ rowsLoaded: 2, alreadyCommitted: false });
      const retry = await load(destination, 'conf_inc', ID_NAME, `(1, 'a'), (2, 'b')`, {
        sequence: 7,
        runId: 'conf_inc-7-2',
      });
      expect(retry).toMatchObject({ rowsLoaded: 0, alreadyCommitted: true });
      const committed = await destination.committedSequence('conf_inc');
      expect(committed?.sequence).toBe(7);
      // A destination records the committing attempt or says it does not (null); never another one.
      expect([null, 'conf_inc-7-1']).toContain(committed?.runId);
      expect(await destination.committedSequence('conf_other')).toBeNull();
      expect(await load(destination, 'conf_inc', ID_NAME, `(3, 'c')`, { sequence: 8 })).toMatchObject({
        rowsLoaded: 1,
        alreadyCommitted: false,
      });
      expect((await destination.committedSequence('conf_inc'))?.sequence).toBe(8);
      expect(await read('conf_inc', ID_NAME)).toEqual(
        expected(ID_NAME, [
          ['1', 'a'],
          ['2', 'b'],
          ['3', 'c'],
        ]),
      );
    });

    test('the committed sequence is the highest number, not the highest text: 9, then 10, then 100', async () => {
      // A PostgreSQL destination once ordered its commit record by the text of the sequence, so
      // after sequence 10 it answered 9 and every pipeline with a watermark stopped (chaos seed 1257379275).
      const destination = fixture.destination('conf_digits');
      for (const sequence of [9, 10, 100]) {
        await load(destination, 'conf_digits', ID_NAME, `(${sequence}, 'r')`, { sequence });
        expect((await destination.committedSequence('conf_digits'))?.sequence).toBe(sequence);
      }
      const repeated = await load(destination, 'conf_digits', ID_NAME, `(100, 'r')`, {
        sequence: 100,
        runId: 'conf_digits-100-2',
      });
      expect(repeated).toMatchObject({ rowsLoaded: 0, alreadyCommitted: true });
    });

    test('full replaces the whole snapshot with each sequence, an empty batch included', async () => {
      const destination = fixture.destination('conf_full');
      await load(destination, 'conf_full', ID_NAME, `(1, 'a'), (2, 'b')`, { sequence: 1, mode: 'full' });
      expect(
        await load(destination, 'conf_full', ID_NAME, `(7, 'z')`, { sequence: 2, mode: 'full' }),
      ).toMatchObject({ rowsLoaded: 1, alreadyCommitted: false });
      expect(await read('conf_full', ID_NAME)).toEqual(expected(ID_NAME, [['7', 'z']]));
      expect(
        await load(destination, 'conf_full', ID_NAME, `(8, 'y')`, { sequence: 2, mode: 'full' }),
      ).toMatchObject({ rowsLoaded: 0, alreadyCommitted: true });
      expect(await read('conf_full', ID_NAME)).toEqual(expected(ID_NAME, [['7', 'z']]));
      await load(destination, 'conf_full', ID_NAME, `SELECT 1, 'x' WHERE false`, {
        sequence: 3,
        mode: 'full',
      });
      expect(await read('conf_full', ID_NAME)).toEqual([]);
      expect((await destination.committedSequence('conf_full'))?.sequence).toBe(3);
    });

    test('merge upserts the newest row per key: by cursor, else by staging order', async () => {
      const destination = fixture.destination('conf_merge');
      const columns = [
        col('id', 'int32'),
        col('region', 'text'),
        col('v', 'text'),
        col('updated', 'timestamptz'),
      ];
      const merge = { mode: 'merge' as const, key: ['id', 'region'], cursor: 'updated' };
      await load(
        destination,
        'conf_merge',
        columns,
        `(1, 'eu', 'old1', TIMESTAMPTZ '2024-01-01 00:00:00+00'), (2, 'eu', 'old2', TIMESTAMPTZ '2024-01-01 00:00:00+00')`,
        { ...merge, sequence: 1 },
      );
      const second = await load(
        destination,
        'conf_merge',
        columns,
        `(2, 'eu', 'newest', TIMESTAMPTZ '2024-03-01 00:00:00+00'), (2, 'eu', 'older', TIMESTAMPTZ '2024-02-01 00:00:00+00'),
         (3, 'us', 'new3', TIMESTAMPTZ '2024-02-01 00:00:00+00'), (1, 'us', 'other-region', NULL)`,
        { ...merge, sequence: 2 },
      );
      expect(second).toMatchObject({ rowsLoaded: 3, alreadyCommitted: false });
      await load(destination, 'conf_merge', columns, `(3, 'us', 'first', NULL), (3, 'us', 'last', NULL)`, {
        ...merge,
        cursor: undefined,
        sequence: 3,
      });
      expect(await read('conf_merge', columns)).toEqual(
        expected(columns, [
          ['1', 'eu', 'old1', '2024-01-01 00:00:00Z'],
          ['1', 'us', 'other-region', null],
          ['2', 'eu', 'newest', '2024-03-01 00:00:00Z'],
          ['3', 'us', 'last', null],
        ]),
      );
      const again = await load(destination, 'conf_merge', columns, `(3, 'us', 'again', NULL)`, {
        ...merge,
        sequence: 3,
      });
      expect(again.alreadyCommitted).toBe(true);
    });

    test('append_missing appends only the batch rows the table lacks, copy by copy, and nothing when repeated', async () => {
      const destination = fixture.destination('conf_fill');
      expect(destination.appendsMissing).toBe(true);
      const columns = [
        col('id', 'int64'),
        col('note', 'text'),
        col('f', 'float64'),
        col('j', 'json'),
        col('meta', 'text'),
      ];
      // `meta` stands for the per-run _etl_* columns: loaded, never compared.
      const compare = ['id', 'note', 'f', 'j'];
      await load(
        destination,
        'conf_fill',
        columns,
        `(1, 'a', 0.1, '{"k": 1}', 'run1'), (2, 'dup', 2.5, NULL, 'run1'), (2, 'dup', 2.5, NULL, 'run1'),
         (3, NULL, NULL, '[1, 2]', 'run1')`,
        { sequence: 1 },
      );
      const batch = `(1, 'a', 0.1, '{"k": 1}', 'fill'), (2, 'dup', 2.5, NULL, 'fill'), (2, 'dup', 2.5, NULL, 'fill'),
         (2, 'dup', 2.5, NULL, 'fill'), (3, NULL, NULL, '[1, 2]', 'fill'), (3, NULL, NULL, '[1, 3]', 'fill'),
         (4, 'new', 0.30000000000000004, NULL, 'fill'), (1, 'a', 0.1, '{"k": 2}', 'fill')`;
      const first = await load(destination, 'conf_fill', columns, batch, {
        mode: 'append_missing',
        compare,
        sequence: 2,
      });
      // The third copy of `dup`, `[1, 3]`, the new row and the changed JSON are missing; four are held.
      expect(first).toMatchObject({ rowsLoaded: 4, rowsSkipped: 4, alreadyCommitted: false });
      const held = [
        ['1', 'a', 0.1, '{"k":1}', 'run1'],
        ['2', 'dup', 2.5, null, 'run1'],
        ['2', 'dup', 2.5, null, 'run1'],
        ['3', null, null, '[1,2]', 'run1'],
        ['2', 'dup', 2.5, null, 'fill'],
        ['3', null, null, '[1,3]', 'fill'],
        ['4', 'new', 0.30000000000000004, null, 'fill'],
        ['1', 'a', 0.1, '{"k":2}', 'fill'],
      ];
      expect(await read('conf_fill', columns)).toEqual(expected(columns, held));
      const again = await load(destination, 'conf_fill', columns, batch, {
        mode: 'append_missing',
        compare,
        sequence: 3,
      });
      expect(again).toMatchObject({ rowsLoaded: 0, rowsSkipped: 8, alreadyCommitted: false });
      expect(await read('conf_fill', columns)).toEqual(expected(columns, held));
    });

    test('evolution adds a new column (older rows read NULL); strict refuses it; a changed type or a vanished column fails before writing, naming the column and the incoming type', async () => {
      const destination = fixture.destination('conf_evo');
      const v1 = [col('id', 'int32'), col('amount', { kind: 'decimal', precision: 10, scale: 2 })];
      await load(destination, 'conf_evo', v1, `(1, 1.25)`, { sequence: 1 });

      const v2 = [...v1, col('note', 'text')];
      expect(await destination.planSchema(v2, 'add_columns')).toEqual([
        expect.objectContaining({ column: 'note', change: 'add' }),
      ]);
      const strict = await failure(destination.planSchema(v2, 'strict'));
      expect(strict.code).toBe('SCHEMA_MISMATCH');
      expect(strict.message).toContain('"note"');
      await load(destination, 'conf_evo', v2, `(2, 2.50, 'hi')`, { sequence: 2 });
      expect(await read('conf_evo', v2)).toEqual(
        expected(v2, [
          ['1', '1.25', null],
          ['2', '2.50', 'hi'],
        ]),
      );

      const retyped = [
        col('id', 'int32'),
        col('amount', { kind: 'decimal', precision: 12, scale: 4 }),
        col('note', 'text'),
      ];
      const typeError = await failure(
        load(destination, 'conf_evo', retyped, `(3, 1.0, 'x')`, { sequence: 3 }),
      );
      expect(typeError.code).toBe('SCHEMA_MISMATCH');
      expect(typeError.retryable).toBe(false);
      expect(typeError.message).toContain('"amount"');
      expect(typeError.message).toContain('decimal(12,4)');

      const vanished = await failure(load(destination, 'conf_evo', v1, `(4, 4.00)`, { sequence: 3 }));
      expect(vanished.code).toBe('SCHEMA_MISMATCH');
      expect(vanished.message).toContain('"note"');
      expect(vanished.message).toContain('missing');

      expect(await read('conf_evo', v2)).toHaveLength(2);
      expect((await destination.committedSequence('conf_evo'))?.sequence).toBe(2);
    });

    test('a cancelled load commits nothing, and the same sequence commits afterwards', async () => {
      const destination = fixture.destination('conf_cancel');
      await load(destination, 'conf_cancel', ID_NAME, `(1, 'a')`, { sequence: 1 });
      const controller = new AbortController();
      controller.abort();
      const cancelled = await failure(
        load(destination, 'conf_cancel', ID_NAME, `(2, 'b')`, { sequence: 2, signal: controller.signal }),
      );
      expect(cancelled.code).toBe('CANCELLED');
      expect(await read('conf_cancel', ID_NAME)).toEqual(expected(ID_NAME, [['1', 'a']]));
      expect((await destination.committedSequence('conf_cancel'))?.sequence).toBe(1);
      expect(await load(destination, 'conf_cancel', ID_NAME, `(2, 'b')`, { sequence: 2 })).toMatchObject({
        rowsLoaded: 1,
        alreadyCommitted: false,
      });
      expect(await read('conf_cancel', ID_NAME)).toEqual(
        expected(ID_NAME, [
          ['1', 'a'],
          ['2', 'b'],
        ]),
      );
    });

    test('an aborted load leaves nothing visible, also when it was the table’s first', async () => {
      const destination = fixture.destination('conf_abort');
      for (const sequence of [1, 2]) {
        const batch = await stager.stage(ID_NAME, `(${sequence}, 'written then aborted')`);
        const pending = await destination.beginLoad({
          pipeline: 'conf_abort',
          runId: `conf_abort-${sequence}-1`,
          sequence,
          mode: 'incremental',
          key: undefined,
          cursor: undefined,
          schemaEvolution: 'add_columns',
          columns: batch.columns,
          workDir: batch.workDir,
          signal: new AbortController().signal,
        });
        expect(
          await pending.writePart({
            connection: batch.connection,
            select: `SELECT * FROM ${batch.relation}`,
            id: 'p1',
          }),
        ).toBe(1);
        await pending.abort();
        await pending.abort();
        if (sequence === 1) {
          expect(await read('conf_abort', ID_NAME)).toBeNull();
          expect(await destination.committedSequence('conf_abort')).toBeNull();
          await load(destination, 'conf_abort', ID_NAME, `(10, 'kept')`, { sequence: 1 });
        }
      }
      expect(await read('conf_abort', ID_NAME)).toEqual(expected(ID_NAME, [['10', 'kept']]));
      expect((await destination.committedSequence('conf_abort'))?.sequence).toBe(1);
    });

    test('every canonical type is stored exactly, at the edges of its range', async () => {
      const destination = fixture.destination('conf_types');
      expect(
        await load(destination, 'conf_types', ALL_TYPES, ALL_TYPES_SQL, { sequence: 1, mode: 'full' }),
      ).toMatchObject({ rowsLoaded: 3 });
      expect(await read('conf_types', ALL_TYPES)).toEqual(expected(ALL_TYPES, ALL_TYPES_ROWS));
      expect(await destination.planSchema(ALL_TYPES, 'strict')).toEqual([]);
    });
  });
}
