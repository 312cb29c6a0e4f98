/** SQL text helpers for the DuckDB statements of the Delta writer. */

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
