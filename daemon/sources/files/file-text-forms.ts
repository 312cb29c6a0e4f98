/**
 * DuckDB SQL that renders a typed value into its staging-CSV text form (daemon/sources/source.ts),
 * so the COPY that writes the staging file emits the final bytes. DuckDB's own VARCHAR casts
 * already give most forms (plain decimal digits with the scale's digits, shortest round-trip
 * floats, ISO dates and times, canonical UUIDs); the rest is spelled out:
 * - floats: DuckDB writes `nan`, `inf`, `-inf`; the contract says `NaN`, `Infinity`, `-Infinity`;
 * - bool: `t`/`f` (DuckDB writes `true`/`false`);
 * - bytes: lowercase hex (DuckDB's cast writes `\xAB` escapes);
 * - timestamptz: the UTC wall time followed by `+00`, whatever the connection's TimeZone;
 *   `infinity` stays bare, as PostgreSQL writes it and as the staging reader expects it;
 * - timestamp and time: microseconds at most (TIMESTAMP_NS and TIME_NS cut to microseconds).
 */
import type { CanonicalType } from '../../../shared/types.js';

/** `expression` (of the type `readerDuckType(type)` gives) as its staging text, NULL kept NULL. */
export function textFormExpression(expression: string, type: CanonicalType): string {
  const value = `(${expression})`;
  switch (type.kind) {
    case 'float32':
    case 'float64':
      return `CASE WHEN isnan(${value}) THEN 'NaN' WHEN isinf(${value}) THEN CASE WHEN ${value} > 0 THEN 'Infinity' ELSE '-Infinity' END ELSE CAST(${value} AS VARCHAR) END`;
    case 'bool':
      return `CASE WHEN ${value} THEN 't' WHEN NOT ${value} THEN 'f' END`;
    case 'bytes':
      return `lower(hex(${value}))`;
    case 'timestamptz': {
      const utc = `CAST(timezone('UTC', ${value}) AS VARCHAR)`;
      return `CASE WHEN isfinite(${value}) THEN ${utc} || '+00' ELSE ${utc} END`;
    }
    case 'timestamp':
      return `CAST(CAST(${value} AS TIMESTAMP) AS VARCHAR)`;
    case 'time':
      return `CAST(CAST(${value} AS TIME) AS VARCHAR)`;
    case 'int16':
    case 'int32':
    case 'int64':
    case 'decimal':
    case 'text':
    case 'json':
    case 'uuid':
    case 'date':
      return `CAST(${value} AS VARCHAR)`;
  }
}

/** A JavaScript Date as timestamptz staging text: `2026-12-01 10:04:05.25+00` (UTC, milliseconds). */
export function timestamptzText(date: Date): string {
  const iso = date.toISOString(); // 2026-12-01T10:04:05.250Z
  const [wall = '', fraction = ''] = iso.slice(0, -1).replace('T', ' ').split('.');
  const digits = fraction.replace(/0+$/, '');
  return `${wall}${digits.length > 0 ? `.${digits}` : ''}+00`;
}
