/**
 * DuckDB column types (as DESCRIBE spells them) → canonical types, and back to the DuckDB type a
 * file's values are read or cast as.
 *
 * | DuckDB                                       | canonical       |
 * |----------------------------------------------|-----------------|
 * | TINYINT, SMALLINT, UTINYINT                  | int16           |
 * | INTEGER, USMALLINT                           | int32           |
 * | BIGINT, UINTEGER                             | int64           |
 * | UBIGINT                                      | decimal(20,0)   |
 * | HUGEINT                                      | decimal(38,0)   | (a value beyond 38 digits fails the file)
 * | FLOAT / DOUBLE                               | float32/float64 |
 * | DECIMAL(p,s)                                 | decimal(p,s)    |
 * | VARCHAR, ENUM(…)                             | text            |
 * | BOOLEAN, DATE, BLOB, UUID, JSON              | bool, date, bytes, uuid, json |
 * | TIME, TIME_NS                                | time            | (nanoseconds cut to microseconds)
 * | TIMESTAMP, TIMESTAMP_S/_MS/_NS               | timestamp       | (nanoseconds cut to microseconds)
 * | TIMESTAMP WITH TIME ZONE                     | timestamptz     |
 * | STRUCT(…), MAP(…), T[], T[n]                 | nested: json, or refused (`nested`) |
 * | anything else (INTERVAL, BIT, UNION, TIME WITH TIME ZONE, UHUGEINT, VARIANT…) | refused by name |
 */
import type { CanonicalType } from '../../../shared/types.js';
import { stagingDuckType } from '../../duckdb/staging-types.js';

export type DuckTypeReading =
  | { readonly kind: 'canonical'; readonly type: CanonicalType }
  | { readonly kind: 'nested' }
  | { readonly kind: 'unsupported' };

const BY_NAME: Readonly<Record<string, CanonicalType>> = {
  TINYINT: { kind: 'int16' },
  SMALLINT: { kind: 'int16' },
  UTINYINT: { kind: 'int16' },
  INTEGER: { kind: 'int32' },
  USMALLINT: { kind: 'int32' },
  BIGINT: { kind: 'int64' },
  UINTEGER: { kind: 'int64' },
  UBIGINT: { kind: 'decimal', precision: 20, scale: 0 },
  HUGEINT: { kind: 'decimal', precision: 38, scale: 0 },
  FLOAT: { kind: 'float32' },
  DOUBLE: { kind: 'float64' },
  VARCHAR: { kind: 'text' },
  BOOLEAN: { kind: 'bool' },
  DATE: { kind: 'date' },
  TIME: { kind: 'time' },
  TIME_NS: { kind: 'time' },
  TIMESTAMP: { kind: 'timestamp' },
  TIMESTAMP_S: { kind: 'timestamp' },
  TIMESTAMP_MS: { kind: 'timestamp' },
  TIMESTAMP_NS: { kind: 'timestamp' },
  'TIMESTAMP WITH TIME ZONE': { kind: 'timestamptz' },
  BLOB: { kind: 'bytes' },
  UUID: { kind: 'uuid' },
  JSON: { kind: 'json' },
};

const DECIMAL_RE = /^DECIMAL\((\d+),\s*(\d+)\)$/;

/** What a column of DuckDB type `duckType` (DESCRIBE's text) loads as. */
export function readDuckType(duckType: string): DuckTypeReading {
  const known = BY_NAME[duckType];
  if (known !== undefined) return { kind: 'canonical', type: known };
  const decimal = DECIMAL_RE.exec(duckType);
  if (decimal !== null) {
    return {
      kind: 'canonical',
      type: { kind: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) },
    };
  }
  if (duckType.startsWith('ENUM(')) return { kind: 'canonical', type: { kind: 'text' } };
  // A list (`T[]`) or fixed-size array (`T[3]`) ends in `]` whatever its element type is.
  if (duckType.startsWith('STRUCT(') || duckType.startsWith('MAP(') || duckType.endsWith(']')) {
    return { kind: 'nested' };
  }
  return { kind: 'unsupported' };
}

/**
 * The DuckDB type a file's values are read as (CSV `types`, NDJSON `columns`) or cast to
 * (Parquet) for a batch column of `type`. JSON and UUID keep DuckDB's own types so the reader
 * checks them; everything else is the staging type.
 */
export function readerDuckType(type: CanonicalType): string {
  if (type.kind === 'json') return 'JSON';
  if (type.kind === 'uuid') return 'UUID';
  return stagingDuckType(type);
}
