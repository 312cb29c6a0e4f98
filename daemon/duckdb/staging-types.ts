/**
 * The staging database's types, a contract between the engine (which stages rows in DuckDB) and
 * the destinations (which read staged values): it lives in the DuckDB room both import, so
 * neither imports the other.
 */
import type { CanonicalType } from '../../shared/types.js';

/**
 * The DuckDB type that holds a canonical type in the staging database. Destinations rely on this
 * mapping: int64 is BIGINT, decimals keep precision and scale, timestamptz is TIMESTAMPTZ (UTC),
 * timestamp is TIMESTAMP, bytes BLOB, json and uuid are VARCHAR (their text forms).
 */
export function stagingDuckType(type: CanonicalType): string {
  switch (type.kind) {
    case 'int16':
      return 'SMALLINT';
    case 'int32':
      return 'INTEGER';
    case 'int64':
      return 'BIGINT';
    case 'float32':
      return 'FLOAT';
    case 'float64':
      return 'DOUBLE';
    case 'bool':
      return 'BOOLEAN';
    case 'decimal':
      return `DECIMAL(${type.precision},${type.scale})`;
    case 'text':
    case 'json':
    case 'uuid':
      return 'VARCHAR';
    case 'bytes':
      return 'BLOB';
    case 'date':
      return 'DATE';
    case 'time':
      return 'TIME';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'timestamptz':
      return 'TIMESTAMPTZ';
  }
}
