/**
 * Incremental positions (SPEC §5). Per shard the run reads `cursor >= from AND cursor <= to`, where
 * `from` is the stored watermark (first run: `start_from`, or no lower bound) and `to` the
 * high-water mark `max(cursor)` read at the start of the run. The lower bound is inclusive so
 * rows committed late with exactly the watermark's cursor value are not lost; rows already loaded
 * at that value (their keys, or full-row hashes without a key, are the watermark's `boundary`)
 * are dropped in staging, so nothing is duplicated.
 *
 * The high-water mark is read before the extraction's snapshot is taken: every row it saw with
 * cursor <= to is still visible to the later snapshot, so the cut is the same as reading it inside.
 *
 * `load.lag` (merge mode only) widens the lower bound to `watermark - lag` for timestamp and date
 * cursors and relies on merge's key de-duplication for the re-read rows; incremental (append)
 * mode refuses it, because re-read rows would be appended twice.
 *
 * The planned ranges, and before the destination commit the resulting watermarks, are stored as
 * the run's `planJson`: a retry that finds the destination already committed commits exactly them.
 */
import { z } from 'zod';
import { EtlError } from '../../shared/errors.js';
import type { PipelineConfig } from '../../shared/config/pipeline-schema.js';
import type { ColumnSchema } from '../../shared/types.js';
import type { SourceAdapter } from '../sources/source.js';
import type { Watermark } from '../state/store.js';

const shardRangeSchema = z.object({
  shard: z.string(),
  from: z.string().nullable(),
  /** The stored watermark the boundary belongs to (differs from `from` under a lag). */
  watermark: z.string().nullable(),
  boundary: z.array(z.string()),
  to: z.string().nullable(),
});
export type ShardRange = z.infer<typeof shardRangeSchema>;

const finalWatermarkSchema = z.object({ shard: z.string(), value: z.string(), boundary: z.array(z.string()) });
export type FinalWatermark = z.infer<typeof finalWatermarkSchema>;

const planRecordSchema = z.object({
  version: z.literal(1),
  sequence: z.number().int(),
  mode: z.enum(['full', 'incremental', 'merge']),
  ranges: z.array(shardRangeSchema),
  /** Set just before the destination commit; null until then. */
  watermarks: z.array(finalWatermarkSchema).nullable(),
});
export type PlanRecord = z.infer<typeof planRecordSchema>;

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

export function checkLagAllowed(config: PipelineConfig): void {
  if (config.load.lag === undefined) return;
  if (config.load.mode !== 'merge') {
    throw new EtlError(
      'CONFIG_INVALID',
      `pipeline ${config.name}: load.lag needs mode merge (re-read rows are de-duplicated by key); ${config.load.mode} would load them twice`,
      { retryable: false },
    );
  }
}

const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?(\+00)?$/;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** `text - lagMs` for date/timestamp/timestamptz canonical texts (microseconds kept). */
function subtractLag(text: string, cursor: ColumnSchema, lagMs: number): string {
  const kind = cursor.type.kind;
  const match = TIMESTAMP_RE.exec(text);
  if ((kind !== 'date' && kind !== 'timestamp' && kind !== 'timestamptz') || match === null) {
    throw new EtlError(
      'CONFIG_INVALID',
      `load.lag needs a date or timestamp cursor; "${cursor.name}" is ${kind} with watermark ${JSON.stringify(text)}`,
      { retryable: false },
    );
  }
  const [, y, mo, d, h, mi, s, frac] = match;
  const micros = Number((frac ?? '').padEnd(6, '0'));
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)) - lagMs;
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
): Pick<ShardRange, 'from' | 'watermark' | 'boundary'> {
  if (stored === undefined) {
    const start = config.load.start_from;
    return { from: start === undefined ? null : String(start), watermark: null, boundary: [] };
  }
  const lag = config.load.lag;
  const from = lag === undefined ? stored.value : subtractLag(stored.value, cursor, lag);
  return { from, watermark: stored.value, boundary: [...stored.boundary] };
}

export function rangePredicates(adapter: SourceAdapter, cursor: ColumnSchema, range: Pick<ShardRange, 'from' | 'to'>): string[] {
  const column = adapter.quoteIdentifier(cursor.name);
  const where: string[] = [];
  if (range.from !== null) where.push(`${column} >= ${adapter.literal(range.from, cursor.type)}`);
  if (range.to !== null) where.push(`${column} <= ${adapter.literal(range.to, cursor.type)}`);
  return where;
}
