/**
 * Canonical → BigQuery column types (README.md in this folder), the
 * comparison with an existing table, and the DuckDB expressions that render staged values so the
 * BigQuery NDJSON loader reads them back exactly.
 */
import type { CanonicalType } from '../../../shared/types.js';

/** A `TableFieldSchema` as the REST API takes it (precision/scale are int64, sent as strings). */
export interface BigQueryField {
  readonly name: string;
  readonly type: string;
  readonly mode?: string;
  readonly precision?: string;
  readonly scale?: string;
}

// NUMERIC holds 29 integer digits and 9 fraction digits; BIGNUMERIC 38 and 38.
const NUMERIC_MAX_INTEGER_DIGITS = 29;
const NUMERIC_MAX_SCALE = 9;

export function bigqueryField(name: string, type: CanonicalType): BigQueryField {
  // Every field is NULLABLE: a source column that later admits NULLs would otherwise fail every
  // load, and the source, not BigQuery, is where NOT NULL is enforced.
  const base = { name, mode: 'NULLABLE' };
  switch (type.kind) {
    case 'int16':
    case 'int32':
    case 'int64':
      return { ...base, type: 'INT64' };
    case 'float32':
    case 'float64':
      return { ...base, type: 'FLOAT64' };
    case 'bool':
      return { ...base, type: 'BOOL' };
    case 'decimal': {
      const small =
        type.precision - type.scale <= NUMERIC_MAX_INTEGER_DIGITS && type.scale <= NUMERIC_MAX_SCALE;
      return {
        ...base,
        type: small ? 'NUMERIC' : 'BIGNUMERIC',
        precision: String(type.precision),
        scale: String(type.scale),
      };
    }
    case 'text':
    case 'uuid':
      return { ...base, type: 'STRING' };
    case 'bytes':
      return { ...base, type: 'BYTES' };
    case 'date':
      return { ...base, type: 'DATE' };
    case 'time':
      return { ...base, type: 'TIME' };
    case 'timestamp':
      return { ...base, type: 'DATETIME' };
    case 'timestamptz':
      return { ...base, type: 'TIMESTAMP' };
    case 'json':
      return { ...base, type: 'JSON' };
  }
}

/** Legacy SQL names that the API may return for tables created by other tools. */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  INTEGER: 'INT64',
  FLOAT: 'FLOAT64',
  BOOLEAN: 'BOOL',
  STRUCT: 'RECORD',
  BIGDECIMAL: 'BIGNUMERIC',
  DECIMAL: 'NUMERIC',
};

export function normalizeType(type: string): string {
  const upper = type.toUpperCase();
  return TYPE_ALIASES[upper] ?? upper;
}

export function fieldTypeText(field: {
  type: string;
  precision?: string | undefined;
  scale?: string | undefined;
  mode?: string | undefined;
}): string {
  const type = normalizeType(field.type);
  const params =
    field.precision === undefined
      ? ''
      : `(${field.precision}${field.scale === undefined ? '' : `,${field.scale}`})`;
  return `${field.mode?.toUpperCase() === 'REPEATED' ? 'ARRAY<' : ''}${type}${params}${field.mode?.toUpperCase() === 'REPEATED' ? '>' : ''}`;
}

/**
 * Whether an existing field holds every value of the incoming field: same type, or a decimal
 * field that is unparameterized or has the same scale and at least as many integer digits, or a
 * BIGNUMERIC field for NUMERIC values.
 */
export function fieldAccepts(
  existing: {
    type: string;
    mode?: string | undefined;
    precision?: string | undefined;
    scale?: string | undefined;
  },
  incoming: BigQueryField,
): boolean {
  if (existing.mode?.toUpperCase() === 'REPEATED') return false;
  const have = normalizeType(existing.type);
  const want = normalizeType(incoming.type);
  const isDecimal = want === 'NUMERIC' || want === 'BIGNUMERIC';
  if (!isDecimal) return have === want;
  if (have !== want && !(have === 'BIGNUMERIC' && want === 'NUMERIC')) return false;
  if (existing.precision === undefined) return true;
  const scale = Number(existing.scale ?? '0');
  return (
    scale === Number(incoming.scale) &&
    Number(existing.precision) - scale >= Number(incoming.precision) - Number(incoming.scale)
  );
}

/**
 * The DuckDB expression rendering a staged column for NDJSON. DuckDB's JSON writer prints BIGINT
 * and DECIMAL as JSON numbers (which BigQuery may read through a double), BLOB as `\x..` escapes,
 * NaN bare (invalid JSON) and TIMESTAMPTZ with a `+00` suffix; so int64, decimals and floats go as
 * strings (BigQuery's loader accepts quoted numbers, and NaN/Infinity in that form), bytes as
 * base64, timestamps with microseconds in the forms TIMESTAMP/DATETIME read, JSON embedded as a
 * value.
 */
function duckText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export function ndjsonExpression(column: string, type: CanonicalType): string {
  switch (type.kind) {
    case 'int64':
    case 'decimal':
      return `CAST(${column} AS VARCHAR)`;
    case 'float32':
    case 'float64':
      return `CASE WHEN isnan(${column}) THEN 'NaN' WHEN ${column} = 'inf'::DOUBLE THEN 'Infinity' WHEN ${column} = '-inf'::DOUBLE THEN '-Infinity' ELSE CAST(${column} AS VARCHAR) END`;
    case 'bytes':
      return `base64(${column})`;
    case 'time':
      // BigQuery TIME ends at 23:59:59.999999; PostgreSQL's 24:00:00 would roll over to 00:00.
      return `CASE WHEN ${column} = TIME '24:00:00' THEN error(${duckText(`etld: column ${column} holds 24:00:00, which a BigQuery TIME cannot store`)}) ELSE strftime(DATE '2000-01-01' + ${column}, '%H:%M:%S.%f') END`;
    case 'timestamp':
      return `strftime(${column}, '%Y-%m-%d %H:%M:%S.%f')`;
    case 'timestamptz':
      return `strftime(${column}, '%Y-%m-%d %H:%M:%S.%f') || '+00:00'`;
    case 'json':
      return `CAST(${column} AS JSON)`;
    case 'int16':
    case 'int32':
    case 'bool':
    case 'text':
    case 'uuid':
    case 'date':
      return column;
  }
}

/**
 * Parquet is used only when every column loads from it without loss: JSON columns need
 * autodetect, and DATETIME from Parquet is unreliable (dlt disables it too).
 */
export function parquetAllows(type: CanonicalType): boolean {
  return type.kind !== 'json' && type.kind !== 'timestamp';
}
