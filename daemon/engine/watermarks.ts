/**
 * Incremental positions. Per shard a run reads `cursor >= from AND cursor <= to`, where `from` is
 * the stored watermark (minus `load.lag`; first run: `start_from`, or no lower bound) and `to` the
 * high-water mark `max(cursor)` read at the start of the run (held below the oldest open
 * transaction on PostgreSQL, see range-reader.ts).
 *
 * Every comparison of cursor values happens in the source database, under the column's own type
 * and collation: the bounds, whether the high-water mark moved past the watermark, and which rows
 * belong to the next boundary (two flag columns the extraction SELECT computes, see `FLAG_*`).
 * DuckDB never orders cursor values, so a text cursor under an ICU or case-insensitive collation,
 * or a float4 cursor, behaves exactly as the source says.
 *
 * The lower bound is inclusive, so rows committed late with exactly the watermark's value are not
 * lost. Incremental (append) mode then drops the rows it already loaded: the watermark's
 * `boundary` is the multiset of content hashes of the loaded rows that the next run reads again
 * (cursor >= watermark - lag), over the columns recorded in `identity`. A row updated in place
 * with the same cursor value has a new hash and is appended; an unchanged row is dropped. Merge
 * mode keeps no boundary: re-merging a row is idempotent, so re-read rows are simply merged again.
 *
 * The planned ranges, and before the destination commit the resulting watermarks, are stored as
 * the run's `planJson`: whichever attempt's commit reached the destination, the state store can
 * commit exactly that attempt's watermarks.
 */
import { z } from 'zod';
import { EtlError } from '../../shared/errors.js';
import type { PipelineConfig } from '../../shared/config/pipeline-schema.js';
import { RUN_KINDS, type ColumnSchema } from '../../shared/types.js';
import type { SourceAdapter } from '../sources/source.js';
import type { BoundaryIdentity, Watermark } from '../state/store.js';

/**
 * A boundary entry set by an operator (`etlctl watermark set`): every row at or below the
 * watermark counts as loaded, whatever its content.
 */
export const ALL_LOADED_AT_OR_BELOW = '*';

/** The extraction's flag column: the row may have been loaded before (cursor <= stored watermark). */
export const FLAG_PRIOR = '__etld_prior';
/** The extraction's flag column: the row belongs to the next boundary (cursor >= next window). */
export const FLAG_NEXT = '__etld_next';

const identitySchema = z.object({ columns: z.array(z.string()).readonly() }).nullable();

const shardRangeSchema = z.object({
  shard: z.string(),
  /** Lower bound of the read (the watermark minus the lag, or start_from); null: none. */
  from: z.string().nullable(),
  /** The stored watermark (the boundary belongs to it). */
  watermark: z.string().nullable(),
  boundary: z.array(z.string()),
  /** Columns the stored boundary hashes; null for boundaries of etld before content hashes (keys). */
  identity: identitySchema.default(null),
  /** Upper bound of the read; null: the run reads nothing from this shard. */
  to: z.string().nullable(),
  /** The watermark this run commits (null: none yet). */
  next: z.string().nullable().default(null),
  /** Rows at or above this value form the next boundary (`next` minus the lag). */
  windowFrom: z.string().nullable().default(null),
  /** Exclusive upper limits besides `to` (a backfill: its `to`, and the next run's lower bound). */
  below: z.array(z.string()).default([]),
});
export type ShardRange = z.infer<typeof shardRangeSchema>;

const finalWatermarkSchema = z.object({
  shard: z.string(),
  value: z.string(),
  boundary: z.array(z.string()),
  identity: identitySchema.default(null),
});
export type FinalWatermark = z.infer<typeof finalWatermarkSchema>;

const plannedFileSchema = z.object({
  key: z.string(),
  size: z.number(),
  version: z.string(),
  modifiedAt: z.string(),
  /** Why a quarantined file was kept out (no row data); null for a loaded file. */
  reason: z.string().nullable(),
});
export type PlanFileEntry = z.infer<typeof plannedFileSchema>;

const plannedFilesSchema = z.object({
  /** The attempt that planned the files (the ledger names it). */
  runId: z.string(),
  /** The loaded set replaces the ledger's (a full load or full refresh). */
  replaceLoaded: z.boolean(),
  loaded: z.array(plannedFileSchema),
  quarantined: z.array(plannedFileSchema),
  /** The batch's source columns (name and canonical type): the next batch starts from them. */
  columns: z.array(z.object({ name: z.string(), type: z.string() })).default([]),
});

const planRecordSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  sequence: z.number().int(),
  mode: z.enum(['full', 'incremental', 'merge']),
  /**
   * The run's kind: a full refresh's watermarks replace every stored one (a shard without rows
   * loses its old watermark); a backfill's leave them as they are (`watermarks` is empty).
   */
  kind: z.enum(RUN_KINDS).default('normal'),
  ranges: z.array(shardRangeSchema),
  /** Set just before the destination commit; null until then. */
  watermarks: z.array(finalWatermarkSchema).nullable(),
  /**
   * A files run: the files its commit loads and the ones it quarantined, set with `watermarks`
   * just before the destination commit; recorded in the file ledger with the sequence.
   */
  files: plannedFilesSchema.optional(),
});
export type PlanRecord = z.infer<typeof planRecordSchema>;

export const PLAN_VERSION = 2;

export function parsePlanRecord(json: string | null): PlanRecord | null {
  if (json === null) return null;
  try {
    const parsed = planRecordSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Incremental, or merge with a cursor: the modes that keep watermarks. */
export function usesWatermarks(config: PipelineConfig): boolean {
  return config.load.cursor !== undefined && config.load.mode !== 'full';
}

/**
 * Whether the next run starts where the committed ones ended (watermarks, or a files source's
 * ledger of loaded files): a destination that lost commits would then leave a gap.
 */
export function resumesFromState(config: PipelineConfig): boolean {
  return usesWatermarks(config) || (config.source.type === 'files' && config.load.mode !== 'full');
}

/** Only append mode drops re-read rows, so only it keeps a boundary. */
export function keepsBoundary(config: PipelineConfig): boolean {
  return config.load.mode === 'incremental' && config.load.cursor !== undefined;
}

const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?(\+00)?$/;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** `load.lag` needs a cursor it can subtract a duration from. */
export function checkLagCursor(config: PipelineConfig, cursor: ColumnSchema | undefined): void {
  if (config.load.lag === undefined || cursor === undefined) return;
  const kind = cursor.type.kind;
  if (kind !== 'date' && kind !== 'timestamp' && kind !== 'timestamptz') {
    throw new EtlError(
      'CONFIG_INVALID',
      `load.lag needs a date or timestamp cursor; "${cursor.name}" is ${kind}`,
    );
  }
}

/** `text - lagMs` for date/timestamp/timestamptz canonical texts (microseconds kept). */
export function subtractLag(text: string, cursor: ColumnSchema, lagMs: number): string {
  const kind = cursor.type.kind;
  const match = TIMESTAMP_RE.exec(text);
  if ((kind !== 'date' && kind !== 'timestamp' && kind !== 'timestamptz') || match === null) {
    throw new EtlError(
      'CONFIG_INVALID',
      `load.lag needs a date or timestamp cursor; "${cursor.name}" is ${kind} with a watermark that is not a date or timestamp`,
    );
  }
  const [, y, mo, d, h, mi, s, frac] = match;
  const micros = Number((frac ?? '').padEnd(6, '0'));
  const ms =
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)) - lagMs;
  const at = new Date(ms);
  const date = `${pad(at.getUTCFullYear(), 4)}-${pad(at.getUTCMonth() + 1, 2)}-${pad(at.getUTCDate(), 2)}`;
  if (kind === 'date') return date;
  const time = `${pad(at.getUTCHours(), 2)}:${pad(at.getUTCMinutes(), 2)}:${pad(at.getUTCSeconds(), 2)}`;
  const fraction = micros === 0 ? '' : `.${pad(micros, 6)}`;
  return `${date} ${time}${fraction}${kind === 'timestamptz' ? '+00' : ''}`;
}

/** The lower bound of a shard's range from its stored watermark (or `start_from`). */
export function lowerBound(
  config: PipelineConfig,
  cursor: ColumnSchema,
  stored: Watermark | undefined,
): Pick<ShardRange, 'from' | 'watermark' | 'boundary' | 'identity'> {
  if (stored === undefined) {
    const start = config.load.start_from;
    return {
      from: start === undefined ? null : String(start),
      watermark: null,
      boundary: [],
      identity: null,
    };
  }
  const lag = config.load.lag;
  const from = lag === undefined ? stored.value : subtractLag(stored.value, cursor, lag);
  return { from, watermark: stored.value, boundary: [...stored.boundary], identity: stored.identity };
}

/**
 * Where the run reads up to and what it commits, from the source's own answers: `max` is
 * max(cursor) (held back by open transactions), `order` the sign of max − (watermark, else
 * start_from) as the source compares them.
 */
export function upperBound(
  range: Pick<ShardRange, 'watermark'>,
  start: string | null,
  max: string | null,
  order: number | null,
): Pick<ShardRange, 'to' | 'next'> {
  if (max === null) return { to: null, next: range.watermark };
  const base = range.watermark ?? start;
  if (base === null || order === null || order > 0) return { to: max, next: max };
  // Never read less than the watermark: rows up to it may be re-read and must be recognised.
  if (range.watermark !== null) return { to: range.watermark, next: range.watermark };
  // First run, nothing at or above start_from yet.
  return order === 0 ? { to: max, next: max } : { to: null, next: null };
}

/** The lower edge of the next run's re-read window: rows at or above it form the next boundary. */
export function nextWindowFrom(
  config: PipelineConfig,
  cursor: ColumnSchema,
  next: string | null,
): string | null {
  if (next === null) return null;
  return config.load.lag === undefined ? next : subtractLag(next, cursor, config.load.lag);
}

export function rangePredicates(
  adapter: SourceAdapter,
  cursor: ColumnSchema,
  range: Pick<ShardRange, 'from' | 'to'> & Partial<Pick<ShardRange, 'below'>>,
  includeNulls: boolean,
): string[] {
  const column = adapter.quoteIdentifier(cursor.name);
  const bounds: string[] = [];
  if (range.to === null) {
    return [includeNulls ? `${column} IS NULL` : '1 = 0'];
  }
  if (range.from !== null) bounds.push(`${column} >= ${adapter.literal(range.from, cursor.type)}`);
  bounds.push(`${column} <= ${adapter.literal(range.to, cursor.type)}`);
  for (const limit of range.below ?? []) bounds.push(`${column} < ${adapter.literal(limit, cursor.type)}`);
  const inRange = bounds.join(' AND ');
  return [includeNulls ? `(${inRange}) OR ${column} IS NULL` : inRange];
}

/** The two flag predicates the extraction renders as `'t'`/`'f'` columns (append mode only). */
export function flagPredicates(
  adapter: SourceAdapter,
  cursor: ColumnSchema,
  range: ShardRange,
): { prior: string; next: string } {
  const column = adapter.quoteIdentifier(cursor.name);
  const prior =
    range.watermark === null || range.boundary.length === 0
      ? '1 = 0'
      : `${column} <= ${adapter.literal(range.watermark, cursor.type)}`;
  const next =
    range.windowFrom === null ? '1 = 0' : `${column} >= ${adapter.literal(range.windowFrom, cursor.type)}`;
  return { prior, next };
}

/** Multiset union keeping each entry's highest multiplicity; sorted. */
export function mergeBoundaries(a: readonly string[], b: readonly string[]): string[] {
  const count = (list: readonly string[]): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const entry of list) counts.set(entry, (counts.get(entry) ?? 0) + 1);
    return counts;
  };
  const left = count(a);
  const right = count(b);
  const out: string[] = [];
  for (const key of new Set([...left.keys(), ...right.keys()])) {
    const times = Math.max(left.get(key) ?? 0, right.get(key) ?? 0);
    for (let i = 0; i < times; i++) out.push(key);
  }
  return out.sort();
}

export function sameIdentity(a: BoundaryIdentity | null, b: BoundaryIdentity | null): boolean {
  if (a === null || b === null) return a === b;
  return a.columns.length === b.columns.length && a.columns.every((c, i) => c === b.columns[i]);
}
