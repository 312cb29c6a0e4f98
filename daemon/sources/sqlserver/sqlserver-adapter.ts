import type { CanonicalType, ColumnSchema } from '../../../shared/types.js';
import {
  checkBool,
  checkDate,
  checkDecimal,
  checkFiniteFloat,
  checkHex,
  checkInteger,
  checkTime,
  checkTimestamp,
  checkUuid,
} from '../literal-text.js';
import { SourceAdapterBase } from '../source-adapter-base.js';
import { sqlServerBaseType } from './sqlserver-types.js';

export function sqlServerString(text: string): string {
  return `N'${text.replaceAll("'", "''")}'`;
}

/** SQL text for SQL Server; rendering follows the table in sqlserver-types.ts. */
export class SqlServerAdapter extends SourceAdapterBase {
  readonly identifierDialect = 'sqlserver' as const;

  quoteIdentifier(name: string): string {
    return `[${name.replaceAll(']', ']]')}]`;
  }

  literal(text: string, type: CanonicalType): string {
    switch (type.kind) {
      case 'int16':
      case 'int32':
      case 'int64':
        return checkInteger(text, type);
      case 'decimal':
        return checkDecimal(text, type);
      case 'float32':
      case 'float64':
        return `CAST('${checkFiniteFloat(text, type)}' AS float)`;
      case 'bool':
        return checkBool(text, type) ? '1' : '0';
      case 'text':
      case 'json':
        return sqlServerString(text);
      case 'uuid':
        return `CAST('${checkUuid(text, type)}' AS uniqueidentifier)`;
      case 'bytes':
        return `0x${checkHex(text, type)}`;
      case 'date':
        return `CAST('${checkDate(text, type)}' AS date)`;
      case 'time':
        return `CAST('${checkTime(text, type)}' AS time(7))`;
      case 'timestamp':
        return `CAST('${checkTimestamp(text, type, false)}' AS datetime2(7))`;
      case 'timestamptz':
        return `CAST('${checkTimestamp(text, type, true)} +00:00' AS datetimeoffset(7))`;
    }
  }

  renderText(expression: string, column: ColumnSchema): string {
    const base = sqlServerBaseType(column.sourceType ?? '');
    switch (column.type.kind) {
      case 'int16':
      case 'int32':
      case 'int64':
        return `CONVERT(varchar(40), ${expression})`;
      case 'decimal':
        if (base === 'money' || base === 'smallmoney') {
          return `CONVERT(varchar(40), CAST(${expression} AS decimal(${column.type.precision},${column.type.scale})))`;
        }
        return `CONVERT(varchar(48), ${expression})`;
      case 'float32':
      case 'float64':
        // Style 3: always 9 (real) or 17 (float) significant digits — lossless, though not shortest.
        return `CONVERT(varchar(30), ${expression}, 3)`;
      case 'bool':
        return `CASE WHEN ${expression} = 1 THEN 't' WHEN ${expression} = 0 THEN 'f' END`;
      case 'text':
        return base === 'text' || base === 'ntext' || base === 'xml'
          ? `CONVERT(nvarchar(max), ${expression})`
          : expression;
      case 'json':
        return `CONVERT(nvarchar(max), ${expression})`;
      case 'bytes':
        return `LOWER(CONVERT(varchar(max), CONVERT(varbinary(max), ${expression}), 2))`;
      case 'uuid':
        return `LOWER(CONVERT(char(36), ${expression}))`;
      case 'date':
        return `CONVERT(char(10), ${expression}, 23)`;
      case 'time':
        return `LEFT(CONVERT(varchar(16), ${expression}), 15)`;
      case 'timestamp':
        return base === 'datetime' || base === 'smalldatetime'
          ? `CONVERT(varchar(23), ${expression}, 121)`
          : `LEFT(CONVERT(varchar(27), ${expression}, 121), 26)`;
      case 'timestamptz':
        return `LEFT(CONVERT(varchar(27), CONVERT(datetime2(7), SWITCHOFFSET(${expression}, '+00:00')), 121), 26) + '+00'`;
    }
  }

  protected override countExpression(): string {
    return 'COUNT_BIG(*)';
  }
}
