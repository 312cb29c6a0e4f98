/**
 * Value normalisation: every side (source snapshot, DuckDB, PostgreSQL, Delta and BigQuery
 * read-backs) is rendered as text first, then each value is normalised by its column's kind, so that renderings
 * of one value compare equal: PostgreSQL `t`, DuckDB `true`, delta-rs JSON `true` → `true`;
 * `2024-01-02T03:04:05.100000Z`, `2024-01-02 03:04:05.1+00` → `2024-01-02 03:04:05.100000Z`.
 *
 * Decisions:
 * - NULL stays `null` (rows are compared as JSON arrays, so NULL never collides with a text).
 * - Decimals carry their column's scale (`1.5` → `1.50` for scale 2); extra non-zero digits are
 *   kept, so a value that lost or gained precision shows up as different.
 * - timestamptz is converted to UTC; timestamp (no time zone) must carry no offset, and one that
 *   does is left as is (and will not match).
 * - Floats compare as JavaScript numbers print them (`1.5`, `1e+300`); NaN is `nan`, infinities
 *   `inf` / `-inf` (PostgreSQL says `NaN` / `Infinity`, Python `nan` / `inf`).
 * - Bytes compare as lowercase hex. Readers hand over hex (`\x00ff`, `00FF`) or, where the store
 *   speaks JSON (BigQuery), base64 marked `base64:`; the reader knows which, the text does not.
 * - JSON compares by value: parsed and printed with sorted keys, so `{"b":1, "a":2}` (PostgreSQL's
 *   jsonb reorders keys and spaces) equals `{"a":2,"b":1}`.
 * - time compares as `HH:MM:SS.ffffff`; uuid in lowercase.
 * - A value that does not parse is returned unchanged, prefixed with `?`: it will not match and the
 *   diff shows it.
 */
import type { CanonicalType } from '../../shared/types.js';

export type ValueKind =
  | { readonly kind: 'int' }
  | { readonly kind: 'decimal'; readonly scale: number }
  | { readonly kind: 'text' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'date' }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'timestamptz' }
  | { readonly kind: 'float' }
  | { readonly kind: 'bytes' }
  | { readonly kind: 'json' }
  | { readonly kind: 'time' }
  | { readonly kind: 'uuid' };

/** How a value of a canonical type is compared. */
export function valueKindOf(type: CanonicalType): ValueKind {
  switch (type.kind) {
    case 'int16':
    case 'int32':
    case 'int64':
      return { kind: 'int' };
    case 'decimal':
      return { kind: 'decimal', scale: type.scale };
    case 'float32':
    case 'float64':
      return { kind: 'float' };
    case 'bool':
    case 'text':
    case 'bytes':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'json':
    case 'uuid':
      return { kind: type.kind };
  }
}

/** A normalised row: column values in the pipeline's column order. */
export type NormalRow = readonly (string | null)[];

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?$/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function fraction6(digits: string | undefined): string {
  const text = (digits ?? '').padEnd(6, '0');
  return text.length > 6 ? text.replace(/0+$/, '').padEnd(6, '0') : text;
}

function offsetMinutes(zone: string | undefined): number {
  if (zone === undefined || zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
}

function timestamp(text: string, withZone: boolean): string {
  const m = TS_RE.exec(text.trim());
  if (m === null) return `?${text}`;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (!withZone) {
    if (zone !== undefined) return `?${text}`;
    return `${y}-${mo}-${d} ${h}:${mi}:${s}.${fraction6(frac)}`;
  }
  const ms =
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) -
    offsetMinutes(zone) * 60_000;
  const at = new Date(ms);
  const date = `${pad(at.getUTCFullYear(), 4)}-${pad(at.getUTCMonth() + 1, 2)}-${pad(at.getUTCDate(), 2)}`;
  const time = `${pad(at.getUTCHours(), 2)}:${pad(at.getUTCMinutes(), 2)}:${pad(at.getUTCSeconds(), 2)}`;
  return `${date} ${time}.${fraction6(frac)}Z`;
}

function decimal(text: string, scale: number): string {
  const m = DECIMAL_RE.exec(text.trim());
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return `?${text}`;
  const integer = (m[2] ?? '').replace(/^0+/, '') || '0';
  let frac = (m[3] ?? '').padEnd(scale, '0');
  if (frac.length > scale) frac = frac.replace(/0+$/, '').padEnd(scale, '0');
  const zero = /^0*$/.test(integer + frac);
  const sign = m[1] === '-' && !zero ? '-' : '';
  return frac.length === 0 ? `${sign}${integer}` : `${sign}${integer}.${frac}`;
}

function float(text: string): string {
  const lower = text.trim().toLowerCase();
  if (lower === 'nan') return 'nan';
  if (lower === 'inf' || lower === 'infinity' || lower === '+inf' || lower === '+infinity') return 'inf';
  if (lower === '-inf' || lower === '-infinity') return '-inf';
  const value = Number(lower);
  return lower === '' || Number.isNaN(value) ? `?${text}` : String(value);
}

function bytes(text: string): string {
  if (text.startsWith('base64:')) return Buffer.from(text.slice('base64:'.length), 'base64').toString('hex');
  const hex = text.replaceAll('\\x', '').toLowerCase();
  return /^([0-9a-f]{2})*$/.test(hex) ? hex : `?${text}`;
}

function sortedJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedJson);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortedJson(v)]));
  }
  return value;
}

function json(text: string): string {
  try {
    return JSON.stringify(sortedJson(JSON.parse(text)));
  } catch {
    return `?${text}`;
  }
}

function time(text: string): string {
  const m = TIME_RE.exec(text.trim());
  return m === null ? `?${text}` : `${m[1]}:${m[2]}:${m[3]}.${fraction6(m[4])}`;
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}

/** Normalises one value of `kind` from any side's rendering. */
export function normaliseValue(kind: ValueKind, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = asText(value);
  switch (kind.kind) {
    case 'int':
      try {
        return BigInt(text.trim()).toString();
      } catch {
        return `?${text}`;
      }
    case 'decimal':
      return decimal(text, kind.scale);
    case 'text':
      return text;
    case 'bool': {
      const lower = text.trim().toLowerCase();
      if (lower === 't' || lower === 'true' || lower === '1') return 'true';
      if (lower === 'f' || lower === 'false' || lower === '0') return 'false';
      return `?${text}`;
    }
    case 'date': {
      const trimmed = text.trim();
      return DATE_RE.test(trimmed) ? trimmed : `?${text}`;
    }
    case 'timestamp':
      return timestamp(text, false);
    case 'timestamptz':
      return timestamp(text, true);
    case 'float':
      return float(text);
    case 'bytes':
      return bytes(text);
    case 'json':
      return json(text);
    case 'time':
      return time(text);
    case 'uuid':
      return text.trim().toLowerCase();
  }
}

/** The comparison key of a row (JSON keeps NULL apart from every text). */
export function rowText(row: NormalRow): string {
  return JSON.stringify(row);
}
