/**
 * Canonical → PostgreSQL column types, and which existing PostgreSQL columns accept a canonical
 * type (README.md in this folder lists the mapping).
 */
import type { CanonicalType } from '../../../shared/types.js';

/** The PostgreSQL type etld creates for a canonical type. */
export function postgresType(type: CanonicalType): string {
  switch (type.kind) {
    case 'int16':
      return 'smallint';
    case 'int32':
      return 'integer';
    case 'int64':
      return 'bigint';
    case 'float32':
      return 'real';
    case 'float64':
      return 'double precision';
    case 'bool':
      return 'boolean';
    case 'decimal':
      return `numeric(${type.precision},${type.scale})`;
    case 'text':
      return 'text';
    case 'bytes':
      return 'bytea';
    case 'date':
      return 'date';
    case 'time':
      return 'time without time zone';
    case 'timestamp':
      return 'timestamp without time zone';
    case 'timestamptz':
      return 'timestamp with time zone';
    case 'json':
      return 'jsonb';
    case 'uuid':
      return 'uuid';
  }
}

const NUMERIC_RE = /^numeric(?:\((\d+),(\d+)\))?$/;

/**
 * Whether an existing column of `existing` (as `format_type()` prints it) holds every value of
 * `incoming` without loss: the created type itself, or a wider one a user may have chosen
 * (bigint for int32, varchar for text, numeric with more integer digits and the same scale, json
 * for jsonb). Anything else is a type change the run refuses.
 */
export function acceptsType(existing: string, incoming: CanonicalType): boolean {
  const created = postgresType(incoming);
  if (existing === created) return true;
  switch (incoming.kind) {
    case 'int16':
      return existing === 'integer' || existing === 'bigint' || existing === 'numeric';
    case 'int32':
      return existing === 'bigint' || existing === 'numeric';
    case 'int64':
      return existing === 'numeric';
    case 'float32':
      return existing === 'double precision';
    case 'text':
      return existing === 'character varying';
    case 'json':
      return existing === 'json';
    case 'decimal': {
      const match = NUMERIC_RE.exec(existing);
      if (!match) return false;
      if (match[1] === undefined) return true;
      const precision = Number(match[1]);
      const scale = Number(match[2]);
      return scale === incoming.scale && precision - scale >= incoming.precision - incoming.scale;
    }
    case 'float64':
    case 'bool':
    case 'bytes':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'uuid':
      return false;
  }
}

/**
 * The DuckDB expression that renders a staged column as PostgreSQL's CSV input expects it. DuckDB
 * prints BLOB as `\x00\xFF`, which bytea does not read; `\x` + hex is bytea's hex format. Every
 * other staged type prints in a form PostgreSQL parses back exactly (decimals as text, timestamps
 * with `+00` under the UTC session, `nan`/`inf` for floats).
 */
export function csvExpression(quotedColumn: string, type: CanonicalType): string {
  return type.kind === 'bytes' ? `'\\x' || hex(${quotedColumn})` : quotedColumn;
}
