/**
 * Schema evolution, the one algorithm every destination uses: compares the destination table's
 * columns with the incoming ones under the pipeline's policy (`schema_evolution`). A destination
 * supplies only its rules (`SchemaRules`): how a canonical type is named natively, which existing
 * native type accepts an incoming column (PostgreSQL's lossless widenings, BigQuery's compatible
 * decimals, Delta's integer widening), how its existing types are printed, and how it matches
 * column names. The behaviour is the same everywhere:
 *
 * - a table that does not exist is one `create` change with column `*`, its detail naming the
 *   table and listing every column with its native definition (`public.t with 2 columns: id
 *   bigint, note text`);
 * - under `add_columns`, each new column is one `add` change: the column name in `column`, its
 *   native definition in `detail` (`text`, `STRING`, Delta's `string (nullable)`), in the
 *   incoming order;
 * - every problem is collected and thrown as one SCHEMA_MISMATCH (not retryable), problems joined
 *   by `; ` in table order, so an operator fixes them in one go: each changed type (naming the
 *   column, the destination's type and the incoming type), each vanished column (naming the column
 *   and its type), and under `strict` each new column (naming the column and its type) and each
 *   type the destination would accept under `add_columns` but that is not the same type;
 * - names match as the destination itself matches them (`NameMatching`): PostgreSQL and DuckDB
 *   identifiers, as etld quotes them, are case-sensitive; Delta and BigQuery column names are
 *   case-insensitive, and two incoming columns that are one column there are a problem too.
 *
 * Checks that are not diffing (Delta's forbidden names and table features, partition columns)
 * stay with their destination.
 */
import { EtlError } from '../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../shared/types.js';
import type { SchemaChange } from './destination.js';

export type SchemaPolicy = 'add_columns' | 'strict';

/** How a destination decides that two column names name one column. */
export type NameMatching = 'case-sensitive' | 'case-insensitive';

/** What a destination supplies: its own type names, compatibility and name matching. */
export interface SchemaRules<E extends { readonly name: string }> {
  readonly names: NameMatching;
  /** The native type an incoming column is written as (`numeric(12,4)`, `STRING`, `long`). */
  nativeType(column: ColumnSchema): string;
  /**
   * The column definition a `create` or an `add` uses, for the change's detail (e.g. Delta's
   * `long not null`); the native type when absent.
   */
  definition?(column: ColumnSchema, change: 'create' | 'add'): string;
  /** An existing column's type as the destination names it, for messages. */
  existingType(column: E): string;
  /**
   * Whether rows of `incoming` may be written into the existing column as it is under `policy`
   * (a destination may accept a compatible type under `add_columns` only).
   */
  accepts(existing: E, incoming: ColumnSchema, policy: SchemaPolicy): boolean;
}

export interface SchemaDiffInput<E extends { readonly name: string }> {
  /** The table as messages name it, e.g. `public.orders`, `Delta table /lake/orders`. */
  readonly target: string;
  /** null or undefined: the table does not exist yet. */
  readonly existing: readonly E[] | null | undefined;
  readonly incoming: readonly ColumnSchema[];
  readonly policy: SchemaPolicy;
  readonly rules: SchemaRules<E>;
}

/** A column described by its native type name alone (normalised so equal types compare equal). */
export interface NativeColumn {
  readonly name: string;
  /** e.g. `DECIMAL(18,2)` */
  readonly nativeType: string;
}

/**
 * Rules for a destination whose existing columns accept exactly the native type an incoming
 * column is written as (no widening), compared by name.
 */
export function sameNativeTypeRules(
  nativeType: (column: ColumnSchema) => string,
  names: NameMatching,
): SchemaRules<NativeColumn> {
  return {
    names,
    nativeType,
    existingType: (column) => column.nativeType,
    accepts: (existing, incoming) => existing.nativeType === nativeType(incoming),
  };
}

/** The key two names share when the destination treats them as one column. */
export function columnKey(names: NameMatching, name: string): string {
  return names === 'case-insensitive' ? name.toLowerCase() : name;
}

/** `decimal(12,4) (numeric(12,4), source NUMBER(12,4))`: canonical type, native type, source type. */
function describeIncoming(column: ColumnSchema, native: string): string {
  const canonical = typeToString(column.type);
  const notes: string[] = [];
  if (native !== canonical) notes.push(native);
  const source = column.sourceType;
  if (source !== undefined && source !== native && source !== canonical) notes.push(`source ${source}`);
  return notes.length === 0 ? canonical : `${canonical} (${notes.join(', ')})`;
}

/**
 * The changes a commit applies (`create`, `add`); throws SCHEMA_MISMATCH listing every problem
 * (see the module header).
 */
export function diffSchema<E extends { readonly name: string }>(input: SchemaDiffInput<E>): SchemaChange[] {
  const { target, existing, incoming, policy, rules } = input;
  const key = (name: string): string => columnKey(rules.names, name);
  const definition = (column: ColumnSchema, change: 'create' | 'add'): string =>
    rules.definition?.(column, change) ?? rules.nativeType(column);
  const problems: string[] = [];

  const incomingByKey = new Map<string, ColumnSchema>();
  for (const column of incoming) {
    const other = incomingByKey.get(key(column.name));
    if (other === undefined) {
      incomingByKey.set(key(column.name), column);
    } else if (other.name === column.name) {
      problems.push(`the incoming rows have column "${column.name}" twice`);
    } else {
      problems.push(
        `incoming columns "${other.name}" and "${column.name}" are one column in ${target} (column names are case-insensitive there)`,
      );
    }
  }

  if (existing === null || existing === undefined) {
    if (problems.length > 0) throw mismatch(problems);
    const columns = [...incomingByKey.values()];
    return [
      {
        column: '*',
        change: 'create',
        detail: `${target} with ${columns.length} columns: ${columns.map((c) => `${c.name} ${definition(c, 'create')}`).join(', ')}`,
      },
    ];
  }

  const existingKeys = new Set<string>();
  for (const current of existing) {
    existingKeys.add(key(current.name));
    const next = incomingByKey.get(key(current.name));
    if (next === undefined) {
      problems.push(
        `column "${current.name}" (${rules.existingType(current)} in ${target}) is missing from the incoming rows`,
      );
    } else if (!rules.accepts(current, next, policy)) {
      const strictOnly = policy === 'strict' && rules.accepts(current, next, 'add_columns');
      problems.push(
        `column "${current.name}" is ${rules.existingType(current)} in ${target} but the incoming rows have ${describeIncoming(next, rules.nativeType(next))}${strictOnly ? ' (schema_evolution: strict wants the same type)' : ''}`,
      );
    }
  }

  const changes: SchemaChange[] = [];
  for (const column of incomingByKey.values()) {
    if (existingKeys.has(key(column.name))) continue;
    if (policy === 'strict') {
      problems.push(
        `new column "${column.name}" (${describeIncoming(column, rules.nativeType(column))}) is not in ${target} (schema_evolution: strict)`,
      );
    } else {
      changes.push({ column: column.name, change: 'add', detail: definition(column, 'add') });
    }
  }
  if (problems.length > 0) throw mismatch(problems);
  return changes;
}

function mismatch(problems: readonly string[]): EtlError {
  return new EtlError('SCHEMA_MISMATCH', problems.join('; '));
}
