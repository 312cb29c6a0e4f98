/** BigQuery's rules for comparing a table's fields with the incoming columns (schema-diff.ts). */
import type { ColumnSchema } from '../../../shared/types.js';
import type { SchemaRules } from '../schema-diff.js';
import { bigqueryField, fieldAccepts, fieldTypeText, type BigQueryField } from './bigquery-types.js';

export function incomingFields(columns: readonly ColumnSchema[]): BigQueryField[] {
  return columns.map((c) => bigqueryField(c.name, c.type));
}

/**
 * BigQuery column names are case-insensitive, so they match that way; an existing field accepts
 * the incoming one when it holds every value (`fieldAccepts`: same type, a wide-enough decimal,
 * never a REPEATED field), under either policy.
 */
export const BIGQUERY_SCHEMA_RULES: SchemaRules<BigQueryField> = {
  names: 'case-insensitive',
  nativeType: (column) => fieldTypeText(bigqueryField(column.name, column.type)),
  existingType: (field) => fieldTypeText(field),
  accepts: (field, incoming) => fieldAccepts(field, bigqueryField(incoming.name, incoming.type)),
};
