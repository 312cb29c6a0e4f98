/**
 * MySQL/MariaDB result-column metadata → canonical type. Decided mappings:
 *
 * | MySQL / MariaDB                        | canonical       | notes                                      |
 * |----------------------------------------|-----------------|--------------------------------------------|
 * | tinyint(1) (BOOLEAN)                   | bool            | a value other than 0/1 fails the run       |
 * | tinyint, tinyint unsigned, smallint    | int16           |                                            |
 * | smallint unsigned, mediumint (±), int  | int32           |                                            |
 * | int unsigned, bigint                   | int64           |                                            |
 * | bigint unsigned                        | decimal(20,0)   | 18446744073709551615 does not fit int64    |
 * | decimal(p,s), p <= 38                  | decimal(p,s)    | p > 38 (MySQL allows 65): error naming col |
 * | float                                  | float32         | as double (`col + 0e0`): FLOAT's own text  |
 * |                                        |                 | has only 6 significant digits (MariaDB)    |
 * | double                                 | float64         | server text, round-trip                    |
 * | bit(n), n <= 63                        | int64           | `CAST(col AS UNSIGNED)`                    |
 * | bit(64)                                | decimal(20,0)   |                                            |
 * | year                                   | int16           |                                            |
 * | char, varchar, text…, enum, set        | text            |                                            |
 * | binary, varbinary, blob…               | bytes           | `LOWER(HEX(col))`                          |
 * | json (MySQL), MariaDB JSON (longtext   | json            | MariaDB: extended metadata format "json",  |
 * |   with json_valid check)               |                 | or CHECK_CONSTRAINTS for tables            |
 * | MariaDB uuid                           | uuid            |                                            |
 * | MariaDB inet4 / inet6                  | text            |                                            |
 * | date                                   | date            | zero dates: NULL or SOURCE_DATA (option)   |
 * | datetime                               | timestamp       | zero dates likewise                        |
 * | timestamp                              | timestamptz     | stored in UTC; read with time_zone=+00:00  |
 * | time                                   | time            | values outside 00:00–24:00 fail in staging |
 * | geometry, point…                       | error naming the column                                      |
 */
import { EtlError } from '../../../shared/errors.js';
import type { CanonicalType } from '../../../shared/types.js';

/** What the introspector reads from a result column's metadata. */
export interface MysqlFieldInfo {
  readonly name: string;
  readonly columnType: number;
  readonly columnLength: number;
  readonly decimals: number;
  readonly flags: number;
  readonly characterSet: number;
  readonly extendedTypeName?: string;
  readonly extendedFormat?: string;
}

export const FLAG_NOT_NULL = 1;
const FLAG_UNSIGNED = 32;
const FLAG_ENUM = 256;
const FLAG_SET = 2048;
const BINARY_CHARSET = 63;

export interface MysqlMappedType {
  readonly type: CanonicalType;
  readonly sourceType: string;
}

function unsupported(field: MysqlFieldInfo, typeName: string): EtlError {
  return new EtlError(
    'SOURCE_QUERY',
    `column "${field.name}" has type ${typeName}, which etld cannot extract; select it through a query with a conversion, for example ST_AsText(\`${field.name}\`)`,
  );
}

/** `jsonColumns`: MariaDB JSON columns found through CHECK_CONSTRAINTS. */
export function mapMysqlType(field: MysqlFieldInfo, jsonColumns: ReadonlySet<string>): MysqlMappedType {
  const unsigned = (field.flags & FLAG_UNSIGNED) !== 0;
  const suffix = unsigned ? ' unsigned' : '';
  const binary = field.characterSet === BINARY_CHARSET;
  const int = (kind: 'int16' | 'int32' | 'int64', name: string): MysqlMappedType => ({
    type: { kind },
    sourceType: `${name}${suffix}`,
  });
  if (field.extendedTypeName === 'uuid') return { type: { kind: 'uuid' }, sourceType: 'uuid' };
  if (field.extendedTypeName === 'inet4' || field.extendedTypeName === 'inet6')
    return { type: { kind: 'text' }, sourceType: field.extendedTypeName };
  switch (field.columnType) {
    case 1:
      if (field.columnLength === 1 && !unsigned) return { type: { kind: 'bool' }, sourceType: 'tinyint(1)' };
      return int('int16', 'tinyint');
    case 2:
      return int(unsigned ? 'int32' : 'int16', 'smallint');
    case 9:
      return int('int32', 'mediumint');
    case 3:
      return int(unsigned ? 'int64' : 'int32', 'int');
    case 8:
      return unsigned
        ? { type: { kind: 'decimal', precision: 20, scale: 0 }, sourceType: 'bigint unsigned' }
        : int('int64', 'bigint');
    case 0:
    case 246: {
      const scale = field.decimals;
      const precision = field.columnLength - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1);
      const sourceType = `decimal(${precision},${scale})${suffix}`;
      if (precision > 38) {
        throw new EtlError(
          'SOURCE_QUERY',
          `column "${field.name}" is ${sourceType}: more than 38 digits cannot be loaded without loss; select it through a query with CAST(\`${field.name}\` AS DECIMAL(38,${Math.min(scale, 38)})) or as CHAR`,
        );
      }
      return { type: { kind: 'decimal', precision: Math.max(precision, 1), scale }, sourceType };
    }
    case 4:
      return { type: { kind: 'float32' }, sourceType: 'float' };
    case 5:
      return { type: { kind: 'float64' }, sourceType: 'double' };
    case 16:
      return field.columnLength >= 64
        ? { type: { kind: 'decimal', precision: 20, scale: 0 }, sourceType: `bit(${field.columnLength})` }
        : { type: { kind: 'int64' }, sourceType: `bit(${field.columnLength})` };
    case 13:
      return { type: { kind: 'int16' }, sourceType: 'year' };
    case 10:
    case 14:
      return { type: { kind: 'date' }, sourceType: 'date' };
    case 12:
    case 18:
      return { type: { kind: 'timestamp' }, sourceType: 'datetime' };
    case 7:
    case 17:
      return { type: { kind: 'timestamptz' }, sourceType: 'timestamp' };
    case 11:
    case 19:
      return { type: { kind: 'time' }, sourceType: 'time' };
    case 245:
      return { type: { kind: 'json' }, sourceType: 'json' };
    case 6:
      return { type: { kind: 'text' }, sourceType: 'null' };
    case 247:
    case 248:
      return { type: { kind: 'text' }, sourceType: field.columnType === 247 ? 'enum' : 'set' };
    case 15:
    case 253:
    case 254:
    case 249:
    case 250:
    case 251:
    case 252: {
      if ((field.flags & (FLAG_ENUM | FLAG_SET)) !== 0)
        return { type: { kind: 'text' }, sourceType: (field.flags & FLAG_ENUM) !== 0 ? 'enum' : 'set' };
      const isBlob = field.columnType >= 249 && field.columnType <= 252;
      if (binary) return { type: { kind: 'bytes' }, sourceType: isBlob ? 'blob' : 'varbinary' };
      if (field.extendedFormat === 'json' || jsonColumns.has(field.name))
        return { type: { kind: 'json' }, sourceType: 'json' };
      return { type: { kind: 'text' }, sourceType: isBlob ? 'text' : 'varchar' };
    }
    case 255:
      throw unsupported(field, field.extendedTypeName ?? 'geometry');
    default:
      throw unsupported(field, `mysql type #${field.columnType}`);
  }
}
