/**
 * Reads each shard's incremental range at the start of a run, asking the source for every
 * comparison (see watermarks.ts): rows with a NULL cursor (counted, refused or excluded per
 * `load.null_cursor`), the oldest open transaction (PostgreSQL, `load.open_transactions: wait`),
 * then max(cursor) at or below it and how that compares with the stored watermark.
 */
import type { PipelineConfig } from '../../shared/config/pipeline-schema.js';
import { EtlError } from '../../shared/errors.js';
import type { ColumnSchema, RunKind } from '../../shared/types.js';
import type { Watermark } from '../state/store.js';
import type { PreparedSource } from './run-setup.js';
import type { ShardSource } from './source-shards.js';
import {
  flagPredicates,
  FLAG_NEXT,
  FLAG_PRIOR,
  keepsBoundary,
  lowerBound,
  nextWindowFrom,
  rangePredicates,
  upperBound,
  usesWatermarks,
  type ShardRange,
} from './watermarks.js';

export interface RangeReading {
  readonly ranges: ShardRange[];
  /** Source rows no range reads on purpose (NULL cursors under `exclude`). */
  readonly excluded: number;
  /** For the run's log and history: exclusions, a held-back high-water mark. */
  readonly notes: string[];
}

/** A held-back high-water mark is worth a note once the blocking transaction is this old. */
const HELD_BACK_NOTE_AFTER_S = 60;

function textCell(rows: readonly (readonly (string | null)[])[], column: number): string | null {
  return rows[0]?.[column] ?? null;
}

async function countNullCursors(
  config: PipelineConfig,
  prepared: PreparedSource,
  shard: ShardSource,
  cursor: ColumnSchema,
  signal: AbortSignal | undefined,
): Promise<number> {
  if (!cursor.nullable || config.load.null_cursor === 'include') return 0;
  const { adapter, relation } = prepared.source;
  const rows = await shard.driver.queryText(
    adapter.buildCount(relation, [`${adapter.quoteIdentifier(cursor.name)} IS NULL`]),
    signal,
  );
  const count = Number(textCell(rows, 0) ?? '0');
  if (count > 0 && config.load.null_cursor === 'fail') {
    throw new EtlError(
      'SOURCE_DATA',
      `shard ${shard.name}: ${count} row(s) have a NULL cursor (column "${cursor.name}"), which no incremental range can read; ` +
        'set load.null_cursor: exclude to skip them (counted in every run)' +
        (config.load.mode === 'merge' ? ' or include to merge them in every run' : '') +
        ', or give them a cursor value',
    );
  }
  return count;
}

/** The oldest open transaction's start, when the source can tell and the pipeline waits for it. */
async function openTransactionCap(
  config: PipelineConfig,
  prepared: PreparedSource,
  shard: ShardSource,
  cursor: ColumnSchema,
  notes: string[],
  signal: AbortSignal | undefined,
): Promise<string | null> {
  if (config.load.open_transactions !== 'wait') return null;
  const sql = prepared.source.adapter.openTransactionsSql(cursor);
  if (sql === null) return null;
  const rows = await shard.driver.queryText(sql, signal);
  const cap = textCell(rows, 0);
  const hidden = Number(textCell(rows, 1) ?? '0');
  const ageSeconds = Number(textCell(rows, 2) ?? '0');
  if (hidden > 0) {
    notes.push(
      `shard ${shard.name}: ${hidden} session(s) of other roles are not visible to the etld login, so rows their open transactions ` +
        'commit later may be missed (grant pg_read_all_stats, or set load.lag)',
    );
  }
  if (cap !== null && ageSeconds >= HELD_BACK_NOTE_AFTER_S) {
    notes.push(
      `shard ${shard.name}: high-water mark held at or below ${cap}: a transaction has been open for ${Math.round(ageSeconds)} s`,
    );
  }
  return cap;
}

export async function readRanges(
  config: PipelineConfig,
  prepared: PreparedSource,
  stored: readonly Watermark[],
  signal: AbortSignal | undefined,
): Promise<RangeReading> {
  const cursor = prepared.cursor;
  if (!usesWatermarks(config) || cursor === undefined) return { ranges: [], excluded: 0, notes: [] };
  const { adapter, relation } = prepared.source;
  const notes: string[] = [];
  let excluded = 0;
  const start = config.load.start_from === undefined ? null : String(config.load.start_from);
  const ranges = await Promise.all(
    prepared.source.shards.map(async (shard): Promise<ShardRange> => {
      const nulls = await countNullCursors(config, prepared, shard, cursor, signal);
      if (nulls > 0) {
        excluded += nulls;
        notes.push(
          `shard ${shard.name}: ${nulls} row(s) with a NULL "${cursor.name}" excluded (load.null_cursor: exclude)`,
        );
      }
      const lower = lowerBound(
        config,
        cursor,
        stored.find((w) => w.shard === shard.name),
      );
      const cap = await openTransactionCap(config, prepared, shard, cursor, notes, signal);
      const compareWith = lower.watermark ?? start;
      const rows = await shard.driver.queryText(
        adapter.buildHighWater({ relation, cursor, compareWith, atMost: cap }),
        signal,
      );
      const max = textCell(rows, 0);
      const orderText = compareWith === null ? null : textCell(rows, 1);
      const upper = upperBound(lower, start, max, orderText === null ? null : Number(orderText));
      const windowFrom = keepsBoundary(config) ? nextWindowFrom(config, cursor, upper.next) : null;
      return { shard: shard.name, ...lower, ...upper, windowFrom, below: [] };
    }),
  );
  return { ranges, excluded, notes };
}

/**
 * The range's WHERE predicates; a shard without any cursor value reads nothing (or its NULL-cursor
 * rows, which a merge under `null_cursor: include` reads in every run, but a backfill, bounded to
 * cursor values, never).
 */
export function rangeWhere(
  config: PipelineConfig,
  prepared: PreparedSource,
  range: ShardRange | undefined,
  kind: RunKind,
): string[] {
  if (range === undefined) return [];
  const cursor = prepared.cursor;
  if (cursor === undefined) throw new EtlError('INTERNAL', 'a watermark range without a cursor column');
  return rangePredicates(
    prepared.source.adapter,
    cursor,
    range,
    config.load.null_cursor === 'include' && config.load.mode === 'merge' && kind !== 'backfill',
  );
}

/** The staging columns of the extraction's flags, after the source columns (append mode only). */
export function flagColumns(config: PipelineConfig): ColumnSchema[] {
  if (!keepsBoundary(config)) return [];
  return [FLAG_PRIOR, FLAG_NEXT].map((name) => ({ name, type: { kind: 'text' }, nullable: false }));
}

/** The flag columns the extraction adds in append mode (empty otherwise). */
export function rangeFlags(
  config: PipelineConfig,
  prepared: PreparedSource,
  range: ShardRange | undefined,
): { name: string; predicate: string }[] {
  const cursor = prepared.cursor;
  if (!keepsBoundary(config) || cursor === undefined || range === undefined) return [];
  const predicates = flagPredicates(prepared.source.adapter, cursor, range);
  return [
    { name: FLAG_PRIOR, predicate: predicates.prior },
    { name: FLAG_NEXT, predicate: predicates.next },
  ];
}

/** One text for a per-shard value: the value when all shards agree, else `shard=value, …`. */
export function summarise(
  ranges: readonly ShardRange[],
  pick: (r: ShardRange) => string | null,
): string | null {
  if (ranges.length === 0) return null;
  const values = ranges.map(pick);
  if (values.every((v) => v === values[0])) return values[0] ?? null;
  return ranges.map((r, i) => `${r.shard}=${values[i] ?? 'none'}`).join(', ');
}
