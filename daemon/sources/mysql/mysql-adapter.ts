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

/**
 * A text literal that means the same under every sql_mode (NO_BACKSLASH_ESCAPES or not) and
 * connection charset: the UTF-8 bytes as a hex literal, converted to utf8mb4.
 */
export function mysqlString(text: string): string {
  if (text.length === 0) return "''";
  return `CONVERT(X'${Buffer.from(text, 'utf8').toString('hex')}' USING utf8mb4)`;
}

/** SQL text for MySQL and MariaDB; rendering follows the table in mysql-types.ts. */
export class MysqlAdapter extends SourceAdapterBase {
  readonly identifierDialect = 'mysql' as const;

  quoteIdentifier(name: string): string {
    return `\`${name.replaceAll('`', '``')}\``;
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
      case 'float64': {
        const value = checkFiniteFloat(text, type);
        return /e/i.test(value) ? value : `${value}e0`;
      }
      case 'bool':
        return checkBool(text, type) ? 'TRUE' : 'FALSE';
      case 'text':
      case 'json':
        return mysqlString(text);
      case 'uuid':
        return `'${checkUuid(text, type)}'`;
      case 'bytes': {
        const hex = checkHex(text, type);
        return hex.length === 0 ? "X''" : `X'${hex}'`;
      }
      case 'date':
        return `DATE'${checkDate(text, type)}'`;
      case 'time':
        return `TIME'${checkTime(text, type)}'`;
      case 'timestamp':
        return `TIMESTAMP'${checkTimestamp(text, type, false)}'`;
      case 'timestamptz':
        // The session runs with time_zone = '+00:00', so a UTC literal compares correctly.
        return `TIMESTAMP'${checkTimestamp(text, type, true)}'`;
    }
  }

  renderText(expression: string, column: ColumnSchema): string {
    switch (column.type.kind) {
      case 'bytes':
        return `LOWER(HEX(${expression}))`;
      case 'int64':
      case 'decimal':
        return column.sourceType?.startsWith('bit(') === true
          ? `CAST(${expression} AS UNSIGNED)`
          : expression;
      case 'float32':
        // FLOAT's text has 6 significant digits (MariaDB): the exact double reads back to the same float.
        return `(${expression} + 0e0)`;
      case 'int16':
      case 'int32':
      case 'float64':
      case 'bool':
      case 'text':
      case 'json':
      case 'uuid':
      case 'date':
      case 'time':
      case 'timestamp':
      case 'timestamptz':
        return expression;
    }
  }
}
