/**
 * PostgreSQL type → canonical type, and the SQL that renders each into staging-CSV text.
 *
 * | PostgreSQL                                   | canonical        | rendered by                          |
 * |----------------------------------------------|------------------|--------------------------------------|
 * | int2 / int4 / int8                           | int16/int32/int64| COPY text (digits)                   |
 * | oid                                          | int64            | COPY text                            |
 * | numeric(p,s), p <= 38                        | decimal(p,s)     | COPY text (never an exponent)        |
 * | numeric(p,s) with negative scale             | decimal(p-s,0)   | COPY text                            |
 * | numeric(p,s) with scale > precision          | decimal(s,s)     | COPY text                            |
 * | numeric(p,s), p > 38                         | error naming the column (cast it in a query)            |
 * | numeric (unconstrained)                      | decimal(38,10)   | guarded: a value with more than 10   |
 * |                                              |                  | fractional digits, 28 integer digits,|
 * |                                              |                  | NaN or ±Infinity fails the run       |
 * | money                                        | decimal(19,2)    | `col::numeric` (money text has `$,`) |
 * | float4 / float8                              | float32/float64  | COPY text, extra_float_digits=3      |
 * | bool                                         | bool             | COPY text `t`/`f`                    |
 * | text, varchar, bpchar, "char", name, citext  | text             | COPY text (char(n) keeps padding)    |
 * | and every other string-category type         |                  |                                      |
 * | enum, range, multirange                      | text             | COPY text                            |
 * | interval (IntervalStyle iso_8601), inet,     | text             | COPY text                            |
 * | cidr, macaddr(8), bit, varbit, timetz, xml,  |                  |                                      |
 * | tsvector, tsquery, pg_lsn, jsonpath          |                  |                                      |
 * | bytea                                        | bytes            | `encode(col, 'hex')`                 |
 * | date / time / timestamp                      | date/time/timestamp | COPY text, DateStyle=ISO          |
 * | timestamptz                                  | timestamptz      | COPY text with TimeZone=UTC (`+00`)  |
 * | json / jsonb                                 | json             | `to_json(col)::text`                 |
 * | arrays of anything, composite types          | json             | `to_json(col)::text`                 |
 * | uuid                                         | uuid             | COPY text                            |
 * | domains                                      | as their base type                                      |
 * | geometric types, PostGIS and other unknown   | error naming the column and the type                    |
 * |   extension types                            |                                                         |
 */
import { EtlError } from '../../../shared/errors.js';
import type { CanonicalType } from '../../../shared/types.js';

/** One row of `pg_type`, with a domain already resolved to its base type. */
export interface PgTypeInfo {
  readonly name: string;
  /** `b` base, `c` composite, `d` domain, `e` enum, `p` pseudo, `r` range, `m` multirange. */
  readonly typtype: string;
  /** `A` array, `S` string, `G` geometric, `U` user-defined… */
  readonly category: string;
  /** `format_type(oid, typmod)` for messages and `sourceType`. */
  readonly formatted: string;
}

/** Unconstrained `numeric` is staged as decimal(38,10); the adapter guards against loss. */
export const UNCONSTRAINED_NUMERIC: CanonicalType = { kind: 'decimal', precision: 38, scale: 10 };

const BY_NAME: Readonly<Record<string, CanonicalType>> = {
  int2: { kind: 'int16' },
  int4: { kind: 'int32' },
  int8: { kind: 'int64' },
  oid: { kind: 'int64' },
  float4: { kind: 'float32' },
  float8: { kind: 'float64' },
  bool: { kind: 'bool' },
  money: { kind: 'decimal', precision: 19, scale: 2 },
  bytea: { kind: 'bytes' },
  date: { kind: 'date' },
  time: { kind: 'time' },
  timestamp: { kind: 'timestamp' },
  timestamptz: { kind: 'timestamptz' },
  json: { kind: 'json' },
  jsonb: { kind: 'json' },
  uuid: { kind: 'uuid' },
};

const TEXT_TYPES = new Set([
  'interval',
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'bit',
  'varbit',
  'timetz',
  'xml',
  'tsvector',
  'tsquery',
  'pg_lsn',
  'jsonpath',
  'txid_snapshot',
  'pg_snapshot',
]);

/** numeric's typmod: ((precision << 16) | scale) + 4, scale an 11-bit signed value (PG 15). */
function numericType(typmod: number, column: string, formatted: string): CanonicalType {
  if (typmod < 4) return UNCONSTRAINED_NUMERIC;
  const packed = typmod - 4;
  const precision = (packed >> 16) & 0xffff;
  const scale = ((packed & 0x7ff) ^ 1024) - 1024;
  const digits = scale < 0 ? precision - scale : Math.max(precision, scale);
  const effectiveScale = Math.max(scale, 0);
  if (digits > 38) {
    throw new EtlError(
      'SOURCE_QUERY',
      `column "${column}" is ${formatted}: more than 38 digits cannot be loaded without loss; ` +
        `select it through a query with a cast such as "${column}"::numeric(38,${Math.min(effectiveScale, 38)}) or ::text`,
    );
  }
  return { kind: 'decimal', precision: digits, scale: effectiveScale };
}

export function mapPostgresType(info: PgTypeInfo, typmod: number, column: string): CanonicalType {
  if (info.category === 'A' || info.typtype === 'c') return { kind: 'json' };
  if (info.typtype === 'e' || info.typtype === 'r' || info.typtype === 'm') return { kind: 'text' };
  if (info.name === 'numeric') return numericType(typmod, column, info.formatted);
  const known = BY_NAME[info.name];
  if (known !== undefined) return known;
  if (info.category === 'S' || TEXT_TYPES.has(info.name)) return { kind: 'text' };
  throw new EtlError(
    'SOURCE_QUERY',
    `column "${column}" has type ${info.formatted}, which etld cannot extract; ` +
      `select it through a query with a cast, for example "${column}"::text`,
  );
}
