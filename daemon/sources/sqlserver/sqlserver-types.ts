/**
 * SQL Server type (as `sp_describe_first_result_set` names it) → canonical type.
 *
 * | SQL Server                                   | canonical       | rendered as text by                       |
 * |----------------------------------------------|-----------------|-------------------------------------------|
 * | tinyint, smallint / int / bigint             | int16/int32/int64 | CONVERT(varchar(40), col)               |
 * | decimal(p,s), numeric(p,s)                   | decimal(p,s)    | CONVERT(varchar(40), col)                 |
 * | money / smallmoney                           | decimal(19,4) / decimal(10,4) | via CAST to decimal          |
 * | real / float                                 | float32/float64 | CONVERT(varchar(30), col, 3): 9 / 17      |
 * |                                              |                 | significant digits, round-trip exact      |
 * | bit                                          | bool            | CASE … 't'/'f'                            |
 * | char, varchar, nchar, nvarchar, sysname      | text            | as is                                     |
 * | text, ntext, xml                             | text            | CONVERT(nvarchar(max), col)               |
 * | binary, varbinary, image, rowversion         | bytes           | CONVERT(varchar(max), …, 2), lowercased   |
 * | uniqueidentifier                             | uuid            | lowercased                                |
 * | date                                         | date            | style 23                                  |
 * | time(n)                                      | time            | truncated to microseconds                 |
 * | datetime, smalldatetime                      | timestamp       | style 121 (milliseconds)                  |
 * | datetime2(n)                                 | timestamp       | style 121, truncated to microseconds:     |
 * |                                              |                 | datetime2(7)'s 100 ns digit is dropped    |
 * | datetimeoffset(n)                            | timestamptz     | SWITCHOFFSET to UTC, style 121, `+00`,    |
 * |                                              |                 | truncated to microseconds                 |
 * | json (SQL Server 2025)                       | json            | CONVERT(nvarchar(max), col)               |
 * | sql_variant, geography, geometry,            | error naming the column                                     |
 * | hierarchyid, vector, CLR types               |                                                             |
 */
import { EtlError } from '../../../shared/errors.js';
import type { CanonicalType } from '../../../shared/types.js';

const DECIMAL_RE = /^(?:decimal|numeric)\((\d+),\s*(\d+)\)$/i;

const BY_BASE: Readonly<Record<string, CanonicalType>> = {
  tinyint: { kind: 'int16' },
  smallint: { kind: 'int16' },
  int: { kind: 'int32' },
  bigint: { kind: 'int64' },
  bit: { kind: 'bool' },
  money: { kind: 'decimal', precision: 19, scale: 4 },
  smallmoney: { kind: 'decimal', precision: 10, scale: 4 },
  real: { kind: 'float32' },
  float: { kind: 'float64' },
  char: { kind: 'text' },
  varchar: { kind: 'text' },
  nchar: { kind: 'text' },
  nvarchar: { kind: 'text' },
  sysname: { kind: 'text' },
  text: { kind: 'text' },
  ntext: { kind: 'text' },
  xml: { kind: 'text' },
  binary: { kind: 'bytes' },
  varbinary: { kind: 'bytes' },
  image: { kind: 'bytes' },
  timestamp: { kind: 'bytes' },
  rowversion: { kind: 'bytes' },
  uniqueidentifier: { kind: 'uuid' },
  date: { kind: 'date' },
  time: { kind: 'time' },
  datetime: { kind: 'timestamp' },
  smalldatetime: { kind: 'timestamp' },
  datetime2: { kind: 'timestamp' },
  datetimeoffset: { kind: 'timestamptz' },
  json: { kind: 'json' },
};

/** `decimal(18,2)` → `decimal`, `nvarchar(max)` → `nvarchar`. */
export function sqlServerBaseType(systemTypeName: string): string {
  return systemTypeName.replace(/\(.*$/, '').trim().toLowerCase();
}

export function mapSqlServerType(systemTypeName: string, column: string): CanonicalType {
  const decimal = DECIMAL_RE.exec(systemTypeName.trim());
  if (decimal) return { kind: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) };
  const known = BY_BASE[sqlServerBaseType(systemTypeName)];
  if (known !== undefined) return known;
  throw new EtlError(
    'SOURCE_QUERY',
    `column "${column}" has type ${systemTypeName}, which etld cannot extract; select it through a query with a conversion, for example CONVERT(nvarchar(max), [${column}])`,
  );
}
