import type { CanonicalType, ColumnSchema } from '../../../shared/types.js';
import {
  checkBool,
  checkDate,
  checkDecimal,
  checkFloat,
  checkHex,
  checkInteger,
  checkTime,
  checkTimestamp,
  checkUuid,
} from '../literal-text.js';
import { SourceAdapterBase } from '../source-adapter-base.js';
import { DATA_CHECK_MARKER } from './postgres-errors.js';

export function quotePostgresString(text: string): string {
  // standard_conforming_strings is on (the default since 9.1, set per session by the driver),
  // so only the quote needs doubling.
  return `'${text.replaceAll('\0', '').replaceAll("'", "''")}'`;
}

/** SQL text for PostgreSQL; rendering follows the table in postgres-types.ts. */
export class PostgresAdapter extends SourceAdapterBase {
  quoteIdentifier(name: string): string {
    return `"${name.replaceAll('"', '""')}"`;
  }

  literal(text: string, type: CanonicalType): string {
    switch (type.kind) {
      case 'int16':
      case 'int32':
      case 'int64':
        return `${checkInteger(text, type)}::int8`;
      case 'decimal':
        return `${checkDecimal(text, type)}::numeric`;
      case 'float32':
      case 'float64':
        return `'${checkFloat(text, type)}'::float8`;
      case 'bool':
        return checkBool(text, type) ? 'true' : 'false';
      case 'text':
        return quotePostgresString(text);
      case 'json':
        return `${quotePostgresString(text)}::jsonb`;
      case 'uuid':
        return `'${checkUuid(text, type)}'::uuid`;
      case 'bytes':
        return `'\\x${checkHex(text, type)}'::bytea`;
      case 'date':
        return `'${checkDate(text, type)}'::date`;
      case 'time':
        return `'${checkTime(text, type)}'::time`;
      case 'timestamp':
        return `'${checkTimestamp(text, type, false)}'::timestamp`;
      case 'timestamptz':
        return `'${checkTimestamp(text, type, true)}+00'::timestamptz`;
    }
  }

  renderText(expression: string, column: ColumnSchema): string {
    switch (column.type.kind) {
      case 'bytes':
        return `encode(${expression}, 'hex')`;
      case 'json':
        return `to_json(${expression})::text`;
      case 'decimal':
        if (column.sourceType === 'money') return `(${expression})::numeric`;
        if (column.sourceType === 'numeric') return this.#guardedNumeric(expression, column);
        return expression;
      case 'int16':
      case 'int32':
      case 'int64':
      case 'float32':
      case 'float64':
      case 'bool':
      case 'text':
      case 'uuid':
      case 'date':
      case 'time':
      case 'timestamp':
      case 'timestamptz':
        return expression;
    }
  }

  /**
   * Unconstrained numeric is staged as decimal(p,s); a value that would not fit exactly fails
   * the run instead of being rounded. The failure is raised by casting a message to numeric,
   * which PostgreSQL reports as "invalid input syntax … <message>" (mapped to SOURCE_DATA).
   */
  #guardedNumeric(expression: string, column: ColumnSchema): string {
    if (column.type.kind !== 'decimal') return expression;
    const { precision, scale } = column.type;
    const message = quotePostgresString(
      `${DATA_CHECK_MARKER} column "${column.name}" (numeric, staged as decimal(${precision},${scale})) holds a value that does not fit without rounding: `,
    );
    const fits = `abs(${expression}) < 1e${precision - scale} AND ${expression} = round(${expression}, ${scale})`;
    return `CASE WHEN ${expression} IS NULL OR (${fits}) THEN (${expression})::text ELSE (${message} || (${expression})::text)::numeric::text END`;
  }
}
