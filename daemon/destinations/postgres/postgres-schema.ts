/** Reads a PostgreSQL table's columns, and PostgreSQL's rules for comparing them with the incoming rows. */
import type { PoolClient } from 'pg';
import type { SchemaRules } from '../schema-diff.js';
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
 * PostgreSQL's rules for the shared schema diff (schema-diff.ts): identifiers are quoted, so names
 * match case-sensitively; an existing column accepts the incoming type when it holds every value
 * (`acceptsType`), under either policy.
 */
export const POSTGRES_SCHEMA_RULES: SchemaRules<ExistingColumn> = {
  names: 'case-sensitive',
  nativeType: (column) => postgresType(column.type),
  existingType: (column) => column.type,
  accepts: (existing, incoming) => acceptsType(existing.type, incoming.type),
};
