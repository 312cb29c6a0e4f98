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
import { POSTGRES_SOURCE_APPLICATION } from './postgres-connection.js';
import { DATA_CHECK_MARKER } from './postgres-errors.js';

export function quotePostgresString(text: string): string {
  // standard_conforming_strings is on (the default since 9.1, set per session by the driver),
  // so only the quote needs doubling.
  return `'${text.replaceAll('\0', '').replaceAll("'", "''")}'`;
}

/** SQL text for PostgreSQL; rendering follows the table in postgres-types.ts. */
export class PostgresAdapter extends SourceAdapterBase {
  readonly identifierDialect = 'postgres' as const;

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
      // A literal of the column's own width: float4 1.1 widened to float8 is 1.10000002, so a
      // float8 '1.1' would compare below the very row it came from.
      case 'float32':
        return `'${checkFloat(text, type)}'::float4`;
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

  /**
   * The oldest open transaction of any other session (not etld's own readers), as the cursor's
   * type: `now()` in a transaction is its start, so no row it commits later can carry an earlier
   * timestamp. `timestamp` and `date` cursors are read in the server's default TimeZone (the
   * session's reset value, before etld sets UTC), which is what `now()::timestamp` gives writers
   * that keep the default. Sessions of other roles show no `state` without pg_read_all_stats:
   * they are counted so the run can say the cap is incomplete.
   */
  override openTransactionsSql(cursor: ColumnSchema): string | null {
    const oldest = 'min(xact_start)';
    let value: string;
    switch (cursor.type.kind) {
      case 'timestamptz':
        value = `${oldest}::text`;
        break;
      case 'timestamp':
        value = `(${oldest} AT TIME ZONE (SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'))::text`;
        break;
      case 'date':
        value = `(${oldest} AT TIME ZONE (SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'))::date::text`;
        break;
      default:
        return null;
    }
    const age = `extract(epoch FROM now() - ${oldest})::text`;
    return `SELECT ${value}, count(*) FILTER (WHERE state IS NULL)::text, ${age} FROM pg_stat_activity
      WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
        AND coalesce(application_name, '') <> ${quotePostgresString(POSTGRES_SOURCE_APPLICATION)}
        AND (xact_start IS NOT NULL OR state IS NULL)`;
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
   * which PostgreSQL reports as "invalid input syntax … <message>" (mapped to SOURCE_DATA). The
   * message never holds the value (row contents stay out of errors); the digit count it appends
   * depends on the row, so the planner cannot fold the failing branch into a constant.
   */
  #guardedNumeric(expression: string, column: ColumnSchema): string {
    if (column.type.kind !== 'decimal') return expression;
    const { precision, scale } = column.type;
    const message = quotePostgresString(
      `${DATA_CHECK_MARKER} column "${column.name}" (numeric, staged as decimal(${precision},${scale})) holds a value that does not fit without rounding (digits: `,
    );
    const fits = `abs(${expression}) < 1e${precision - scale} AND ${expression} = round(${expression}, ${scale})`;
    return `CASE WHEN ${expression} IS NULL OR (${fits}) THEN (${expression})::text ELSE (${message} || length((${expression})::text) || ')')::numeric::text END`;
  }
}
