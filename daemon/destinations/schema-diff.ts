/**
 * Schema evolution, shared by destinations: compares the destination table's columns with
 * the incoming ones, both described by the destination's own type names (so `json` and `text`
 * landing in the same native type are no difference). New columns are `add` changes under
 * `add_columns`; a changed type or a vanished column is a SCHEMA_MISMATCH naming the column and
 * both types; `strict` refuses any difference, including new columns.
 */
import { EtlError } from '../../shared/errors.js';
import type { SchemaChange } from './destination.js';

export interface NativeColumn {
  readonly name: string;
  /** The destination's type name, normalised so equal types compare equal (e.g. `DECIMAL(18,2)`). */
  readonly nativeType: string;
  /** How the incoming column was described in the pipeline (canonical type), for messages. */
  readonly canonical?: string;
}

export interface SchemaDiffInput {
  /** e.g. `duckdb /lake/shop.duckdb table orders`, used in messages. */
  readonly target: string;
  /** null: the table does not exist yet. */
  readonly existing: readonly NativeColumn[] | null;
  readonly incoming: readonly NativeColumn[];
  readonly policy: 'add_columns' | 'strict';
}

function describeIncoming(column: NativeColumn): string {
  return column.canonical === undefined ? column.nativeType : `${column.canonical} (${column.nativeType})`;
}

export function diffSchema(input: SchemaDiffInput): SchemaChange[] {
  const { target, existing, incoming, policy } = input;
  if (existing === null) {
    return [{ column: '*', change: 'create', detail: `create ${target} with ${incoming.length} columns` }];
  }
  const incomingByName = new Map(incoming.map((c) => [c.name, c]));
  const existingByName = new Map(existing.map((c) => [c.name, c]));
  for (const current of existing) {
    const next = incomingByName.get(current.name);
    if (next === undefined) {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `${target}: column "${current.name}" (${current.nativeType}) is in the destination but no longer in the incoming rows; nothing was written`,
        { retryable: false },
      );
    }
    if (next.nativeType !== current.nativeType) {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `${target}: column "${current.name}" changed type: destination has ${current.nativeType}, incoming is ${describeIncoming(next)}; nothing was written`,
        { retryable: false },
      );
    }
  }
  const changes: SchemaChange[] = [];
  for (const column of incoming) {
    if (existingByName.has(column.name)) continue;
    if (policy === 'strict') {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `${target}: new column "${column.name}" (${describeIncoming(column)}) is refused by schema_evolution: strict; nothing was written`,
        { retryable: false },
      );
    }
    changes.push({ column: column.name, change: 'add', detail: `add column ${describeIncoming(column)}` });
  }
  return changes;
}
