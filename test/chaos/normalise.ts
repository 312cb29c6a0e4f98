/**
 * Value normalisation: every side (source snapshot, DuckDB, PostgreSQL and Delta read-backs) is
 * rendered as text first, then each value is normalised by its column's kind, so that renderings
 * of one value compare equal: PostgreSQL `t`, DuckDB `true`, delta-rs JSON `true` → `true`;
 * `2024-01-02T03:04:05.100000Z`, `2024-01-02 03:04:05.1+00` → `2024-01-02 03:04:05.100000Z`.
 *
 * Decisions:
 * - NULL stays `null` (rows are compared as JSON arrays, so NULL never collides with a text).
 * - Decimals carry their column's scale (`1.5` → `1.50` for scale 2); extra non-zero digits are
 *   kept, so a value that lost or gained precision shows up as different.
 * - timestamptz is converted to UTC; timestamp (no time zone) must carry no offset, and one that
 *   does is left as is (and will not match).
 * - A value that does not parse is returned unchanged, prefixed with `?`: it will not match and the
 *   diff shows it.
 */

export type ValueKind =
  | { readonly kind: 'int' }
  | { readonly kind: 'decimal'; readonly scale: number }
  | { readonly kind: 'text' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'date' }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'timestamptz' };

/** A normalised row: column values in the pipeline's column order. */
export type NormalRow = readonly (string | null)[];

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?$/;

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
  }
}

/** The comparison key of a row (JSON keeps NULL apart from every text). */
export function rowText(row: NormalRow): string {
  return JSON.stringify(row);
}
