/**
 * SQL text helpers for DuckDB (staging database and the DuckDB destination). Identifiers are
 * double-quoted with `"` doubled; string literals single-quoted with `'` doubled — DuckDB's rules.
 * Used by the engine and the destinations alike, so its home is the DuckDB room.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ERROR_CODES, EtlError, type ErrorCode } from '../../shared/errors.js';
import { withoutRowData } from '../logging/row-data.js';

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** `schema.table` or `table` → quoted parts (the schema defaults to `main`). */
export function splitTableName(name: string): { readonly schema: string; readonly table: string } {
  const dot = name.indexOf('.');
  if (dot < 0) return { schema: 'main', table: name };
  return { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

/** Runs one statement and returns every value as text (NULL stays null). */
export async function queryStrings(connection: DuckDBConnection, sql: string): Promise<(string | null)[][]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRows().map((row) => row.map((value) => (value === null ? null : String(value))));
}

/**
 * Runs `work`, turning DuckDB's plain errors into EtlError `code` with `what` in front; quoted
 * values and raw CSV lines are cut from DuckDB's text (row contents never reach a message).
 */
export async function duckStep<T>(code: ErrorCode, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof EtlError) throw error;
    const message = withoutRowData(error instanceof Error ? error.message : String(error));
    throw new EtlError(code, `${what}: ${message}`, { cause: error });
  }
}

/**
 * A failure raised inside a statement by DuckDB's `error()`: `etld: message` (the source's data:
 * SOURCE_DATA) or `etld[CODE]: message`. The message is ours and names no value, so it is used
 * as it is; anything DuckDB wrapped around it (which may quote a value) is dropped.
 */
const MARKER = /etld(?:\[([A-Z_]+)\])?: ([^\n]*)/;

/** The SQL expression that fails the statement with `message` (a SQL text expression) as `code`. */
export function failWith(code: ErrorCode, message: string): string {
  return `error('etld[${code}]: ' || ${message})`;
}

/** The EtlError a marked failure (see `failWith`) stands for, found anywhere in the error's text. */
export function markedFailure(error: unknown): EtlError | undefined {
  const text = error instanceof Error ? error.message : String(error);
  const found = MARKER.exec(text);
  if (found === null) return undefined;
  const named = ERROR_CODES.find((c) => c === found[1]);
  const code: ErrorCode = named ?? 'SOURCE_DATA';
  return new EtlError(code, found[2] ?? text, { cause: error, retryable: false });
}
