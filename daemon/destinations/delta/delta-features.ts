/**
 * The table-feature gate (PROTOCOL.md §Table Features, §Active Features). Legacy protocol
 * versions imply features (delta-rs `kernel/transaction/protocol.rs`); a legacy feature is refused
 * only when it is active. Explicitly listed features outside the supported set are refused, and so
 * is anything above reader 3 / writer 7.
 */
import { EtlError } from '../../../shared/errors.js';
import type { AddAction, MetadataAction, ProtocolAction } from './delta-actions.js';
import { columnMappingMode } from './delta-column-mapping.js';
import type { DeltaType, StructField, StructType } from './delta-schema.js';

/**
 * Features etld writes correctly: appends and truncates need nothing more from them; column
 * mapping in mode `name` only (checked first, delta-column-mapping.ts).
 */
const SUPPORTED = [
  'appendOnly',
  'columnMapping',
  'changeDataFeed',
  'timestampNtz',
  'domainMetadata',
  'vacuumProtocolCheck',
  'inCommitTimestamp',
  'typeWidening',
  'typeWidening-preview',
] as const;

const SUPPORTED_SET: ReadonlySet<string> = new Set(SUPPORTED);

/** Legacy features that are harmless while inactive; each has a test of activity. */
type Activity = (metadata: MetadataAction, schema: StructType, files: Iterable<AddAction>) => boolean;

function anyField(schema: StructType, test: (field: StructField) => boolean): boolean {
  const visit = (type: DeltaType): boolean => {
    if (typeof type === 'string') return false;
    switch (type.type) {
      case 'array':
        return visit(type.elementType);
      case 'map':
        return visit(type.keyType) || visit(type.valueType);
      case 'struct':
        return type.fields.some((f) => test(f) || visit(f.type));
    }
  };
  return visit(schema);
}

function hasMetadataKey(schema: StructType, predicate: (key: string) => boolean): boolean {
  return anyField(schema, (f) => Object.keys(f.metadata).some(predicate));
}

const ACTIVITY: Readonly<Record<string, Activity>> = {
  invariants: (_m, schema) => hasMetadataKey(schema, (k) => k === 'delta.invariants'),
  checkConstraints: (metadata) =>
    Object.keys(metadata.configuration).some((k) => k.startsWith('delta.constraints.')),
  generatedColumns: (_m, schema) => hasMetadataKey(schema, (k) => k === 'delta.generationExpression'),
  identityColumns: (_m, schema) => hasMetadataKey(schema, (k) => k.startsWith('delta.identity.')),
  deletionVectors: (metadata, _s, files) => {
    if (metadata.configuration['delta.enableDeletionVectors'] === 'true') return true;
    for (const file of files) if (file.deletionVector) return true;
    return false;
  },
  allowColumnDefaults: (_m, schema) => hasMetadataKey(schema, (k) => k === 'CURRENT_DEFAULT'),
};

const LEGACY_WRITER: readonly (readonly string[])[] = [
  [],
  [],
  ['appendOnly', 'invariants'],
  ['checkConstraints'],
  ['changeDataFeed', 'generatedColumns'],
  ['columnMapping'],
  ['identityColumns'],
];

function refuse(feature: string, where: string, table: string): never {
  throw new EtlError(
    'UNSUPPORTED_TABLE_FEATURE',
    `UnsupportedTableFeature: ${feature} (${where}) in Delta table ${table}; supported: ${SUPPORTED.join(', ')}`,
  );
}

/** Throws UNSUPPORTED_TABLE_FEATURE when etld cannot write `table` correctly. */
export function checkTableFeatures(
  protocol: ProtocolAction,
  metadata: MetadataAction,
  schema: StructType,
  files: Iterable<AddAction>,
  table: string,
): void {
  if (protocol.minReaderVersion > 3) refuse(`readerVersion ${protocol.minReaderVersion}`, 'protocol', table);
  if (protocol.minWriterVersion > 7) refuse(`writerVersion ${protocol.minWriterVersion}`, 'protocol', table);
  const mapping = columnMappingMode(metadata.configuration);
  // Mode id matches file columns by Parquet field id; etld reads existing files by name.
  if (mapping !== 'none' && mapping !== 'name')
    refuse(`columnMapping mode ${mapping}`, 'delta.columnMapping.mode', table);

  const listed: [string, string][] = [];
  if (protocol.minReaderVersion >= 3)
    for (const f of protocol.readerFeatures ?? []) listed.push([f, 'readerFeatures']);
  if (protocol.minWriterVersion >= 7)
    for (const f of protocol.writerFeatures ?? []) listed.push([f, 'writerFeatures']);
  for (const [feature, where] of listed) {
    if (SUPPORTED_SET.has(feature)) continue;
    const active = ACTIVITY[feature];
    // Listed but provably unused legacy features (e.g. columnMapping with mode none) are harmless.
    if (active !== undefined && !active(metadata, schema, files)) continue;
    refuse(feature, where, table);
  }

  if (protocol.minWriterVersion < 7) {
    const implied = LEGACY_WRITER.slice(0, protocol.minWriterVersion + 1).flat();
    for (const feature of implied) {
      const active = ACTIVITY[feature];
      if (active?.(metadata, schema, files))
        refuse(feature, `writerVersion ${protocol.minWriterVersion}`, table);
    }
  }

  // Spark CHAR/VARCHAR columns carry a length constraint we would not enforce.
  if (hasMetadataKey(schema, (k) => k === '__CHAR_VARCHAR_TYPE_STRING'))
    refuse('charVarchar', 'column metadata', table);
}

/** Whether overwrites and merges are forbidden (PROTOCOL.md §Append-only Tables). */
export function isAppendOnly(metadata: MetadataAction): boolean {
  return metadata.configuration['delta.appendOnly'] === 'true';
}

/** Whether commits must carry `inCommitTimestamp` (PROTOCOL.md §In-Commit Timestamps). */
export function usesInCommitTimestamps(protocol: ProtocolAction, metadata: MetadataAction): boolean {
  return (
    (protocol.writerFeatures ?? []).includes('inCommitTimestamp') &&
    metadata.configuration['delta.enableInCommitTimestamps'] === 'true'
  );
}
