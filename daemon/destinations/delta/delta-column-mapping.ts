/**
 * Column mapping (PROTOCOL.md §Column Mapping), mode `name`: every field carries
 * `delta.columnMapping.id` and `delta.columnMapping.physicalName`; data files, `add.stats` and
 * `partitionValues` use the physical names (and Parquet field ids), the schema keeps the logical
 * names people read by. This is how a Delta table can hold columns named `Customer Name`,
 * `a,b` or `größe`.
 *
 * When etld creates a mapped table: when some incoming column name is not plain, that is when it
 * holds a character Spark refuses without column mapping (` ,;{}()\n\t=`), a dot (Spark's
 * nested-field separator), or anything outside printable ASCII. Every other table stays plain
 * (protocol 1/2), so older readers keep reading it. A plain table is never converted: a new
 * column whose name is not plain fails the run naming it.
 *
 * Mode `id` (files matched by field id, names free) is refused: etld reads files by name.
 */
import { randomUUID } from 'node:crypto';
import { EtlError } from '../../../shared/errors.js';
import type { DeltaType, StructField, StructType } from './delta-schema.js';
import { sqlIdent, sqlString } from './delta-sql.js';

export const MODE_KEY = 'delta.columnMapping.mode';
export const MAX_ID_KEY = 'delta.columnMapping.maxColumnId';
const ID_KEY = 'delta.columnMapping.id';
const PHYSICAL_KEY = 'delta.columnMapping.physicalName';

/** Characters Spark refuses in column names without column mapping (delta-error-classes.json). */
const SPARK_FORBIDDEN = /[ ,;{}()\n\t=]/;
/** Printable ASCII other than the dot: names of these characters need no mapping. */
const PLAIN_CHARS = /^[\x20-\x2d\x2f-\x7e]+$/;

/** Whether `name` can be a column of a plain (unmapped) Delta table (see the file comment). */
export function isPlainColumnName(name: string): boolean {
  return PLAIN_CHARS.test(name) && !SPARK_FORBIDDEN.test(name);
}

/** The table's column mapping mode; anything but none and name is refused by the feature gate. */
export function columnMappingMode(configuration: Readonly<Record<string, string>>): string {
  return configuration[MODE_KEY] ?? 'none';
}

/** Whether files of a table with `configuration` use physical names. */
export function isColumnMapped(configuration: Readonly<Record<string, string>>): boolean {
  return columnMappingMode(configuration) === 'name';
}

/** The name of `field` in data files, stats and partition values. */
export function physicalName(field: StructField, mapped: boolean): string {
  if (!mapped) return field.name;
  const physical = field.metadata[PHYSICAL_KEY];
  if (typeof physical !== 'string' || physical.length === 0) {
    throw new EtlError(
      'DESTINATION_WRITE',
      `column ${field.name} of a column-mapped Delta table has no ${PHYSICAL_KEY}`,
      { retryable: false },
    );
  }
  return physical;
}

function fieldId(field: StructField): number | undefined {
  const id = field.metadata[ID_KEY];
  return typeof id === 'number' && Number.isInteger(id) ? id : undefined;
}

function mapType(type: DeltaType, rename: (field: StructField) => StructField): DeltaType {
  if (typeof type === 'string') return type;
  switch (type.type) {
    case 'array':
      return { ...type, elementType: mapType(type.elementType, rename) };
    case 'map':
      return { ...type, keyType: mapType(type.keyType, rename), valueType: mapType(type.valueType, rename) };
    case 'struct':
      return {
        type: 'struct',
        fields: type.fields.map((f) => rename({ ...f, type: mapType(f.type, rename) })),
      };
  }
}

/** `schema` with every field named by its physical name: the schema of the data files. */
export function physicalSchema(schema: StructType, mapped: boolean): StructType {
  if (!mapped) return schema;
  return mapType(schema, (f) => ({ ...f, name: physicalName(f, true) })) as StructType;
}

/** The highest column id in use: the configured maximum, or a field's id if larger. */
function maxColumnId(
  schema: StructType | undefined,
  configuration: Readonly<Record<string, string>>,
): number {
  let max = Number(configuration[MAX_ID_KEY] ?? 0);
  if (!Number.isInteger(max) || max < 0) max = 0;
  if (schema !== undefined)
    mapType(schema, (f) => {
      max = Math.max(max, fieldId(f) ?? 0);
      return f;
    });
  return max;
}

/**
 * Gives `added` fields the next ids and fresh `col-<uuid>` physical names (Spark's form); returns
 * them and the configuration with the new `maxColumnId`.
 */
export function assignColumnMapping(
  existing: StructType | undefined,
  added: readonly StructField[],
  configuration: Readonly<Record<string, string>>,
): { fields: StructField[]; configuration: Record<string, string> } {
  let next = maxColumnId(existing, configuration);
  const fields = added.map((field) => {
    if (typeof field.type !== 'string') {
      throw new EtlError(
        'SCHEMA_MISMATCH',
        `column ${field.name} has a nested Delta type that etld cannot write`,
      );
    }
    next += 1;
    return {
      ...field,
      metadata: { ...field.metadata, [ID_KEY]: next, [PHYSICAL_KEY]: `col-${randomUUID()}` },
    };
  });
  return { fields, configuration: { ...configuration, [MODE_KEY]: 'name', [MAX_ID_KEY]: String(next) } };
}

/** DuckDB's `FIELD_IDS {...}` COPY option for the top-level fields of a mapped table. */
export function fieldIdsOption(schema: StructType): string {
  const entries = schema.fields.flatMap((field) => {
    const id = fieldId(field);
    return id === undefined ? [] : [`${sqlString(physicalName(field, true))}: ${id}`];
  });
  return entries.length === 0 ? '' : `, FIELD_IDS {${entries.join(', ')}}`;
}

/** The SELECT list renaming logical columns (as the writer projects them) to physical ones. */
export function toPhysicalSelect(schema: StructType): string {
  return schema.fields.map((f) => `${sqlIdent(f.name)} AS ${sqlIdent(physicalName(f, true))}`).join(', ');
}
