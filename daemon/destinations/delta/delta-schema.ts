/**
 * Spark StructType JSON (PROTOCOL.md §Schema Serialization Format) and its mapping to etld's
 * canonical types, plus schema evolution under the pipeline's policy (new nullable
 * columns at the end; a changed type or a vanished column fails before anything is written).
 */
import { EtlError } from '../../../shared/errors.js';
import type { CanonicalType, ColumnSchema } from '../../../shared/types.js';
import { typeToString } from '../../../shared/types.js';
import type { SchemaChange } from '../destination.js';

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

function validateColumnNames(columns: readonly ColumnSchema[], table: string): void {
  const seen = new Map<string, string>();
  for (const column of columns) {
    if (FORBIDDEN_NAME_CHARS.test(column.name) || column.name.length === 0) {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `column ${JSON.stringify(column.name)} cannot be written to Delta table ${table}: names must not contain any of " ,;{}()\\n\\t=" (column mapping is not supported)`,
        { retryable: false },
      );
    }
    const lower = column.name.toLowerCase();
    const other = seen.get(lower);
    if (other !== undefined) {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `columns ${other} and ${column.name} collide in Delta table ${table}: Delta names are case-insensitive`,
        {
          retryable: false,
        },
      );
    }
    seen.set(lower, column.name);
  }
}

export interface SchemaPlan {
  /** The table schema after this commit. */
  readonly schema: StructType;
  readonly changes: SchemaChange[];
  /** Whether a new metaData action is needed (create or add columns). */
  readonly changed: boolean;
}

/**
 * Plans the table schema for `incoming` rows. Throws SCHEMA_MISMATCH naming the column and both
 * types for a changed type, a vanished column, or any difference under `strict`.
 */
export function planSchemaChange(
  existing: StructType | undefined,
  incoming: readonly ColumnSchema[],
  policy: 'add_columns' | 'strict',
  table: string,
): SchemaPlan {
  validateColumnNames(incoming, table);
  if (existing === undefined) {
    const fields = incoming.map((c) => ({
      name: c.name,
      type: deltaTypeFor(c.type),
      nullable: c.nullable,
      metadata: {},
    }));
    return {
      schema: { type: 'struct', fields },
      changes: incoming.map((c) => ({
        column: c.name,
        change: 'create',
        detail: `${deltaTypeFor(c.type)}${c.nullable ? '' : ' not null'}`,
      })),
      changed: true,
    };
  }
  const byName = new Map(incoming.map((c) => [c.name.toLowerCase(), c]));
  for (const field of existing.fields) {
    const column = byName.get(field.name.toLowerCase());
    if (column === undefined) {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `column ${field.name} (${deltaTypeToString(field.type)}) of Delta table ${table} is missing from the incoming rows; dropping columns is not supported`,
        { retryable: false },
      );
    }
    const incomingType = deltaTypeFor(column.type);
    const exact = typeof field.type === 'string' && field.type === incomingType;
    if (!compatible(field.type, incomingType) || (policy === 'strict' && !exact)) {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `column ${field.name} has type ${deltaTypeToString(field.type)} in Delta table ${table} but the incoming rows have ${incomingType} (source ${column.sourceType ?? typeToString(column.type)})`,
        { retryable: false },
      );
    }
  }
  const known = new Set(existing.fields.map((f) => f.name.toLowerCase()));
  const added = incoming.filter((c) => !known.has(c.name.toLowerCase()));
  if (added.length > 0 && policy === 'strict') {
    throw new EtlError(
      'SCHEMA_MISMATCH',
      `Delta table ${table} has no column ${added.map((c) => `${c.name} (${deltaTypeFor(c.type)})`).join(', ')} and schema_evolution is strict`,
      { retryable: false },
    );
  }
  // Added columns are nullable: files written before they existed read them as null.
  const addedFields = added.map((c) => ({
    name: c.name,
    type: deltaTypeFor(c.type),
    nullable: true,
    metadata: {},
  }));
  return {
    schema: { type: 'struct', fields: [...existing.fields, ...addedFields] },
    changes: added.map((c) => ({
      column: c.name,
      change: 'add',
      detail: `${deltaTypeFor(c.type)} (nullable)`,
    })),
    changed: added.length > 0,
  };
}
