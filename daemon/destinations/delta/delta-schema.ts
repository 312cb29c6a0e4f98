/**
 * Spark StructType JSON (PROTOCOL.md §Schema Serialization Format) and its mapping to etld's
 * canonical types, plus Delta's rules for the shared schema evolution (schema-diff.ts): new
 * nullable columns at the end; a changed type or a vanished column fails before anything is
 * written.
 */
import { EtlError } from '../../../shared/errors.js';
import type { CanonicalType, ColumnSchema } from '../../../shared/types.js';
import type { SchemaChange } from '../destination.js';
import { diffSchema, type SchemaRules } from '../schema-diff.js';
import { assignColumnMapping, isColumnMapped, isPlainColumnName } from './delta-column-mapping.js';

export type DeltaType =
  | string
  | { readonly type: 'array'; readonly elementType: DeltaType; readonly containsNull: boolean }
  | {
      readonly type: 'map';
      readonly keyType: DeltaType;
      readonly valueType: DeltaType;
      readonly valueContainsNull: boolean;
    }
  | StructType;

export interface StructField {
  readonly name: string;
  readonly type: DeltaType;
  readonly nullable: boolean;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface StructType {
  readonly type: 'struct';
  readonly fields: readonly StructField[];
}

/** Characters Spark refuses in column names without column mapping (delta-error-classes.json). */
const FORBIDDEN_NAME_CHARS = /[ ,;{}()\n\t=]/;

export function parseSchemaString(schemaString: string, table: string): StructType {
  let parsed: unknown;
  try {
    parsed = JSON.parse(schemaString);
  } catch (cause) {
    throw new EtlError('DESTINATION_WRITE', `Delta table ${table}: schemaString is not valid JSON`, {
      cause,
      retryable: false,
    });
  }
  if (!isStruct(parsed)) {
    throw new EtlError('DESTINATION_WRITE', `Delta table ${table}: schemaString is not a struct type`, {
      retryable: false,
    });
  }
  return parsed;
}

function isStruct(value: unknown): value is StructType {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as { type?: unknown; fields?: unknown };
  return record.type === 'struct' && Array.isArray(record.fields);
}

/** `decimal(10,2)`, `array<integer>`, `struct<a:long>` for messages. */
export function deltaTypeToString(type: DeltaType): string {
  if (typeof type === 'string') return type;
  switch (type.type) {
    case 'array':
      return `array<${deltaTypeToString(type.elementType)}>`;
    case 'map':
      return `map<${deltaTypeToString(type.keyType)},${deltaTypeToString(type.valueType)}>`;
    case 'struct':
      return `struct<${type.fields.map((f) => `${f.name}:${deltaTypeToString(f.type)}`).join(',')}>`;
  }
}

/**
 * Canonical → Delta primitive. `time` has no Delta type: it is stored as a string `HH:MM:SS.ffffff`
 * (fixed width, so string order is time order and stats stay meaningful).
 */
function deltaTypeFor(type: CanonicalType): string {
  switch (type.kind) {
    case 'int16':
      return 'short';
    case 'int32':
      return 'integer';
    case 'int64':
      return 'long';
    case 'float32':
      return 'float';
    case 'float64':
      return 'double';
    case 'bool':
      return 'boolean';
    case 'decimal':
      return `decimal(${type.precision},${type.scale})`;
    case 'text':
    case 'json':
    case 'uuid':
    case 'time':
      return 'string';
    case 'bytes':
      return 'binary';
    case 'date':
      return 'date';
    case 'timestamptz':
      return 'timestamp';
    case 'timestamp':
      return 'timestamp_ntz';
  }
}

/** The DuckDB type whose Parquet encoding is exactly the Delta type, or undefined. */
export function duckTypeForDelta(type: DeltaType): string | undefined {
  if (typeof type !== 'string') return undefined;
  const decimal = /^decimal\((\d+),(\d+)\)$/.exec(type);
  if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
  const map: Record<string, string> = {
    byte: 'TINYINT',
    short: 'SMALLINT',
    integer: 'INTEGER',
    long: 'BIGINT',
    float: 'FLOAT',
    double: 'DOUBLE',
    boolean: 'BOOLEAN',
    string: 'VARCHAR',
    binary: 'BLOB',
    date: 'DATE',
    timestamp: 'TIMESTAMPTZ',
    timestamp_ntz: 'TIMESTAMP',
  };
  return map[type];
}

const SMALL_INTS = new Set(['byte', 'short', 'integer']);

/** Whether incoming data of Delta type `incoming` may be written into a column of type `existing`. */
function compatible(existing: DeltaType, incoming: string): boolean {
  if (typeof existing !== 'string') return false;
  if (existing === incoming) return true;
  // byte/short/int share INT32 storage; Spark's mergeSchemas accepts them among themselves and we
  // cast to the table's type so the file type equals the table type.
  return SMALL_INTS.has(existing) && SMALL_INTS.has(incoming);
}

export function schemaNeedsTimestampNtz(schema: StructType): boolean {
  const visit = (type: DeltaType): boolean => {
    if (typeof type === 'string') return type === 'timestamp_ntz';
    switch (type.type) {
      case 'array':
        return visit(type.elementType);
      case 'map':
        return visit(type.keyType) || visit(type.valueType);
      case 'struct':
        return type.fields.some((f) => visit(f.type));
    }
  };
  return visit(schema);
}

/**
 * Names the table can take: not empty, unique ignoring case, and in a plain (unmapped) table free
 * of the characters Spark refuses there. Only columns the commit creates or adds are checked for
 * characters: an existing column's name is the table's own.
 */
function validateColumnNames(
  columns: readonly ColumnSchema[],
  existing: StructType | undefined,
  mapped: boolean,
  table: string,
): void {
  const known = new Set(existing?.fields.map((f) => f.name.toLowerCase()));
  const seen = new Map<string, string>();
  for (const column of columns) {
    if (column.name.length === 0) {
      throw new EtlError('SCHEMA_MISMATCH', `a column of Delta table ${table} has an empty name`);
    }
    const lower = column.name.toLowerCase();
    if (!mapped && !known.has(lower) && FORBIDDEN_NAME_CHARS.test(column.name)) {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `column ${JSON.stringify(column.name)} cannot be added to Delta table ${table}: the table does not use column mapping, and without it names must not contain any of " ,;{}()\\n\\t=" ` +
          `(use column_names: snake_case, or enable column mapping on the table, e.g. Spark's ALTER TABLE … SET TBLPROPERTIES ('delta.columnMapping.mode' = 'name'))`,
      );
    }
    const other = seen.get(lower);
    if (other !== undefined) {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `columns ${other} and ${column.name} collide in Delta table ${table}: Delta names are case-insensitive`,
      );
    }
    seen.set(lower, column.name);
  }
}

export interface SchemaPlan {
  /** The table schema after this commit (logical names; mapped tables carry their metadata). */
  readonly schema: StructType;
  readonly changes: SchemaChange[];
  /** Whether a new metaData action is needed (create or add columns). */
  readonly changed: boolean;
  /**
   * The metadata configuration after this commit, when the plan changes it (a new column-mapped
   * table, or new columns of one, move `delta.columnMapping.maxColumnId`).
   */
  readonly configuration?: Readonly<Record<string, string>>;
}

/**
 * Delta's rules for the shared schema diff (schema-diff.ts). Names are case-insensitive. Under
 * `add_columns` an existing column accepts the same type, and byte/short/integer among themselves
 * (`compatible`); under `strict` only the same type. A created column keeps the incoming
 * nullability; an added column is always nullable (files written before it read it as null).
 */
export const DELTA_SCHEMA_RULES: SchemaRules<StructField> = {
  names: 'case-insensitive',
  nativeType: (column) => deltaTypeFor(column.type),
  definition: (column, change) =>
    change === 'create'
      ? `${deltaTypeFor(column.type)}${column.nullable ? '' : ' not null'}`
      : `${deltaTypeFor(column.type)} (nullable)`,
  existingType: (field) => deltaTypeToString(field.type),
  accepts: (field, incoming, policy) => {
    const incomingType = deltaTypeFor(incoming.type);
    return policy === 'strict' ? field.type === incomingType : compatible(field.type, incomingType);
  },
};

/**
 * Plans the table schema for `incoming` rows: the shared diff (schema-diff.ts) under Delta's rules,
 * after Delta's own name checks. Throws SCHEMA_MISMATCH naming every changed type, vanished
 * column, or any difference under `strict`, each with the column and both types. A new table is
 * column-mapped when some incoming name is not plain (delta-column-mapping.ts); new columns of a
 * mapped table get the next ids and fresh physical names.
 */
export function planSchemaChange(
  existing: StructType | undefined,
  incoming: readonly ColumnSchema[],
  policy: 'add_columns' | 'strict',
  table: string,
  configuration: Readonly<Record<string, string>> = {},
): SchemaPlan {
  const mapped =
    existing === undefined
      ? !incoming.every((c) => isPlainColumnName(c.name))
      : isColumnMapped(configuration);
  validateColumnNames(incoming, existing, mapped, table);
  const changes = diffSchema({
    target: `Delta table ${table}`,
    existing: existing?.fields,
    incoming,
    policy,
    rules: DELTA_SCHEMA_RULES,
  });
  if (existing === undefined) {
    const fields = incoming.map((c) => ({
      name: c.name,
      type: deltaTypeFor(c.type),
      nullable: c.nullable,
      metadata: {},
    }));
    if (!mapped) return { schema: { type: 'struct', fields }, changes, changed: true };
    const assigned = assignColumnMapping(undefined, fields, configuration);
    return {
      schema: { type: 'struct', fields: assigned.fields },
      changes,
      changed: true,
      configuration: assigned.configuration,
    };
  }
  const added = new Set(changes.filter((c) => c.change === 'add').map((c) => c.column));
  // Added columns are nullable: files written before they existed read them as null.
  const addedFields = incoming
    .filter((c) => added.has(c.name))
    .map((c) => ({
      name: c.name,
      type: deltaTypeFor(c.type),
      nullable: true,
      metadata: {},
    }));
  if (!mapped || addedFields.length === 0) {
    return {
      schema: { type: 'struct', fields: [...existing.fields, ...addedFields] },
      changes,
      changed: addedFields.length > 0,
    };
  }
  const assigned = assignColumnMapping(existing, addedFields, configuration);
  return {
    schema: { type: 'struct', fields: [...existing.fields, ...assigned.fields] },
    changes,
    changed: true,
    configuration: assigned.configuration,
  };
}
