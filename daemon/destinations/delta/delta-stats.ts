/**
 * Per-file statistics JSON for `add.stats` (PROTOCOL.md §Per-file Statistics), built from DuckDB's
 * `COPY … (RETURN_STATS)` output and encoded as Spark 3.5 does (golden table
 * `stats-writing-all-types`): exact integer/decimal text, timestamps floored to milliseconds, strings
 * truncated to 32 characters, no min/max for booleans, binaries, arrays, maps, all-null or NaN columns.
 */
import type { DeltaType, StructType } from './delta-schema.js';

/** DuckDB's per-leaf statistics (`min`, `max`, `null_count`, `has_nan`…) keyed by leaf path. */
export type LeafStats = ReadonlyMap<string, Readonly<Record<string, string>>>;

export interface StatsOptions {
  /** `delta.dataSkippingNumIndexedCols`; -1 means every column. */
  readonly numIndexedCols: number;
  /** Null counts of top-level array/map columns (element stats do not give them), keyed like LeafStats. */
  readonly nestedNullCounts?: ReadonlyMap<string, number>;
}

const STRING_PREFIX = 32;

export function leafKey(path: readonly string[]): string {
  return path.join('\u0000');
}

/** Splits DuckDB's stats key `"a"."b ""c"""` (quoted, dot-separated) into its path. */
export function parseStatsKey(key: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < key.length) {
    if (key[i] === '"') {
      let part = '';
      i++;
      while (i < key.length) {
        if (key[i] === '"') {
          if (key[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += key[i];
        i++;
      }
      parts.push(part);
    } else {
      const end = key.indexOf('.', i);
      parts.push(key.slice(i, end === -1 ? key.length : end));
      i = end === -1 ? key.length : end;
    }
    if (key[i] === '.') i++;
  }
  return parts;
}

const INTEGER = /^-?\d+$/;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const DECIMAL = /^-?\d+(?:\.\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DUCK_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(\+00(?::00)?)?$/;

/**
 * `2023-06-15 12:30:00.9985+00` → `2023-06-15T12:30:00.998`. Truncating calendar fields floors the
 * instant, pre-epoch too, since the fraction always counts forward from the second.
 */
function timestampText(text: string, withZone: boolean): string | undefined {
  const match = DUCK_TIMESTAMP.exec(text);
  if (!match) return undefined;
  if (withZone !== (match[4] !== undefined)) return undefined;
  const millis = (match[3] ?? '').padEnd(3, '0').slice(0, 3);
  return `${match[1]}T${match[2]}.${millis}${withZone ? 'Z' : ''}`;
}

/** Spark's `truncateMaxStringAgg`: prefix plus a tie-breaker that sorts after the cut character. */
export function truncateMax(value: string): string | undefined {
  const chars = Array.from(value);
  if (chars.length <= STRING_PREFIX) return value;
  for (let i = STRING_PREFIX; i < Math.min(chars.length, 2 * STRING_PREFIX); i++) {
    const code = chars[i]?.codePointAt(0) ?? 0;
    if (code < 0x7f) return chars.slice(0, i).join('') + '\u007f';
    if (code < 0x10ffff) return chars.slice(0, i).join('') + String.fromCodePoint(0x10ffff);
  }
  return undefined;
}

export function truncateMin(value: string): string {
  const chars = Array.from(value);
  return chars.length <= STRING_PREFIX ? value : chars.slice(0, STRING_PREFIX).join('');
}

/** Encodes one min or max as raw JSON text, or undefined when Delta stats cannot carry it. */
function encodeBound(type: string, text: string, which: 'min' | 'max'): string | undefined {
  switch (type) {
    case 'byte':
    case 'short':
    case 'integer':
    case 'long':
      return INTEGER.test(text) ? text : undefined;
    case 'float':
    case 'double':
      return JSON_NUMBER.test(text) ? text : undefined;
    case 'date':
      return DATE.test(text) ? JSON.stringify(text) : undefined;
    case 'timestamp':
    case 'timestamp_ntz': {
      const encoded = timestampText(text, type === 'timestamp');
      return encoded === undefined ? undefined : JSON.stringify(encoded);
    }
    case 'string': {
      const bounded = which === 'min' ? truncateMin(text) : truncateMax(text);
      return bounded === undefined ? undefined : JSON.stringify(bounded);
    }
    default:
      if (/^decimal\(\d+,\d+\)$/.test(type)) return DECIMAL.test(text) ? text : undefined;
      return undefined;
  }
}

type Entries = [string, string][];

function objectText(entries: Entries): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

/** Builds the `stats` string of one data file. */
export function encodeStats(
  schema: StructType,
  numRecords: number,
  leaves: LeafStats,
  options: StatsOptions,
): string {
  let budget = options.numIndexedCols < 0 ? Number.POSITIVE_INFINITY : options.numIndexedCols;

  const visit = (
    fields: StructType['fields'],
    prefix: readonly string[],
  ): { min: Entries; max: Entries; nulls: Entries } => {
    const min: Entries = [];
    const max: Entries = [];
    const nulls: Entries = [];
    for (const field of fields) {
      if (budget <= 0) break;
      const path = [...prefix, field.name];
      const type: DeltaType = field.type;
      if (typeof type !== 'string' && type.type === 'struct') {
        const nested = visit(type.fields, path);
        if (nested.min.length > 0) min.push([field.name, objectText(nested.min)]);
        if (nested.max.length > 0) max.push([field.name, objectText(nested.max)]);
        if (nested.nulls.length > 0) nulls.push([field.name, objectText(nested.nulls)]);
        continue;
      }
      budget--;
      if (typeof type !== 'string') {
        const count = options.nestedNullCounts?.get(leafKey(path));
        if (count !== undefined) nulls.push([field.name, String(count)]);
        continue;
      }
      const stats = leaves.get(leafKey(path));
      if (stats === undefined) continue;
      const nullCount = stats.null_count;
      if (nullCount !== undefined && INTEGER.test(nullCount)) nulls.push([field.name, nullCount]);
      if (stats.has_nan === 'true' || nullCount === String(numRecords)) continue;
      if (stats.min === undefined || stats.max === undefined) continue;
      const low = encodeBound(type, stats.min, 'min');
      const high = encodeBound(type, stats.max, 'max');
      if (low !== undefined) min.push([field.name, low]);
      if (high !== undefined) max.push([field.name, high]);
    }
    return { min, max, nulls };
  };

  const { min, max, nulls } = visit(schema.fields, []);
  return `{"numRecords":${numRecords},"minValues":${objectText(min)},"maxValues":${objectText(max)},"nullCount":${objectText(nulls)}}`;
}

/** Reads the `column_statistics` MAP of a RETURN_STATS row (as `getRowObjectsJson` renders it). */
export function leafStatsFromJson(columnStatistics: unknown): Map<string, Record<string, string>> {
  const result = new Map<string, Record<string, string>>();
  if (!Array.isArray(columnStatistics)) return result;
  for (const entry of columnStatistics as { key?: unknown; value?: unknown }[]) {
    if (typeof entry.key !== 'string' || !Array.isArray(entry.value)) continue;
    const values: Record<string, string> = {};
    for (const item of entry.value as { key?: unknown; value?: unknown }[]) {
      if (typeof item.key === 'string' && typeof item.value === 'string') values[item.key] = item.value;
    }
    result.set(leafKey(parseStatsKey(entry.key)), values);
  }
  return result;
}
