/** Reads a PostgreSQL table's columns and compares them with the incoming rows. */
import type { PoolClient } from 'pg';
import { EtlError } from '../../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../../shared/types.js';
import type { SchemaChange } from '../destination.js';
import { acceptsType, postgresType } from './postgres-types.js';

export interface ExistingColumn {
  readonly name: string;
  /** As `format_type()` prints it: `bigint`, `numeric(18,2)`, `timestamp with time zone`… */
  readonly type: string;
}

/** The table's columns in order, or undefined when the table does not exist. */
export async function describeTable(
  client: PoolClient,
  schema: string,
  table: string,
): Promise<ExistingColumn[] | undefined> {
  const exists = await client.query<{ oid: string | null }>(
    `SELECT to_regclass(format('%I.%I', $1::text, $2::text))::oid::text AS oid`,
    [schema, table],
  );
  const oid = exists.rows[0]?.oid ?? null;
  if (oid === null) return undefined;
  const result = await client.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type
       FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [oid],
  );
  return result.rows;
}

/**
 * The changes a commit applies (`create` per column for a new table, `add` for new columns);
 * throws SCHEMA_MISMATCH for a changed type or a vanished column, and under `strict` for any
 * added column too.
 */
export function diffSchema(
  label: string,
  existing: readonly ExistingColumn[] | undefined,
  incoming: readonly ColumnSchema[],
  policy: 'add_columns' | 'strict',
): SchemaChange[] {
  if (existing === undefined) {
    return incoming.map((c) => ({ column: c.name, change: 'create' as const, detail: postgresType(c.type) }));
  }
  const byName = new Map(existing.map((c) => [c.name, c]));
  const incomingNames = new Set(incoming.map((c) => c.name));
  const problems: string[] = [];
  const changes: SchemaChange[] = [];
  for (const column of incoming) {
    const found = byName.get(column.name);
    if (found === undefined) {
      if (policy === 'strict') {
        problems.push(
          `new column "${column.name}" (${typeToString(column.type)}) is not in ${label} (schema_evolution: strict)`,
        );
      } else {
        changes.push({ column: column.name, change: 'add', detail: `add ${postgresType(column.type)}` });
      }
    } else if (!acceptsType(found.type, column.type)) {
      problems.push(
        `column "${column.name}" is ${found.type} in ${label} but the incoming rows have ${typeToString(column.type)} (${postgresType(column.type)})`,
      );
    }
  }
  for (const column of existing) {
    if (!incomingNames.has(column.name)) {
      problems.push(`column "${column.name}" (${column.type} in ${label}) is missing from the incoming rows`);
    }
  }
  if (problems.length > 0) throw new EtlError('SCHEMA_MISMATCH', problems.join('; '));
  return changes;
}
