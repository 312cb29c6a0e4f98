/** Compares a BigQuery table's fields with the incoming columns. */
import { EtlError } from '../../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../../shared/types.js';
import type { SchemaChange } from '../destination.js';
import { bigqueryField, fieldAccepts, fieldTypeText, type BigQueryField } from './bigquery-types.js';

export function incomingFields(columns: readonly ColumnSchema[]): BigQueryField[] {
  return columns.map((c) => bigqueryField(c.name, c.type));
}

/**
 * `create` per column for a missing table, `add` per new column; SCHEMA_MISMATCH naming the
 * column and both types for a changed type or a vanished column, and under `strict` for new ones.
 * BigQuery column names are case-insensitive, so they are matched that way.
 */
export function diffFields(
  label: string,
  existing: readonly BigQueryField[] | undefined,
  incoming: readonly ColumnSchema[],
  policy: 'add_columns' | 'strict',
): SchemaChange[] {
  if (existing === undefined) {
    return incoming.map((c) => ({
      column: c.name,
      change: 'create' as const,
      detail: fieldTypeText(bigqueryField(c.name, c.type)),
    }));
  }
  const byName = new Map(existing.map((f) => [f.name.toLowerCase(), f]));
  const incomingNames = new Set(incoming.map((c) => c.name.toLowerCase()));
  const problems: string[] = [];
  const changes: SchemaChange[] = [];
  for (const column of incoming) {
    const want = bigqueryField(column.name, column.type);
    const have = byName.get(column.name.toLowerCase());
    if (have === undefined) {
      if (policy === 'strict') {
        problems.push(
          `new column "${column.name}" (${typeToString(column.type)}) is not in ${label} (schema_evolution: strict)`,
        );
      } else {
        changes.push({ column: column.name, change: 'add', detail: `add ${fieldTypeText(want)}` });
      }
    } else if (!fieldAccepts(have, want)) {
      problems.push(
        `column "${column.name}" is ${fieldTypeText(have)} in ${label} but the incoming rows have ${typeToString(column.type)} (${fieldTypeText(want)})`,
      );
    }
  }
  for (const field of existing) {
    if (!incomingNames.has(field.name.toLowerCase())) {
      problems.push(
        `column "${field.name}" (${fieldTypeText(field)} in ${label}) is missing from the incoming rows`,
      );
    }
  }
  if (problems.length > 0) throw new EtlError('SCHEMA_MISMATCH', problems.join('; '));
  return changes;
}
