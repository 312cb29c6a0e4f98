/**
 * Delta transaction log actions as etld reads and writes them (PROTOCOL.md §Actions). Fields we do
 * not use are kept on the parsed objects so a remove can echo its add faithfully.
 */

export interface ProtocolAction {
  readonly minReaderVersion: number;
  readonly minWriterVersion: number;
  readonly readerFeatures?: readonly string[];
  readonly writerFeatures?: readonly string[];
}

export interface MetadataAction {
  readonly id: string;
  readonly name?: string | null;
  readonly description?: string | null;
  readonly format: { readonly provider: string; readonly options: Readonly<Record<string, string>> };
  readonly schemaString: string;
  readonly partitionColumns: readonly string[];
  readonly configuration: Readonly<Record<string, string>>;
  readonly createdTime?: number | null;
}

export interface DeletionVectorDescriptor {
  readonly storageType: string;
  readonly pathOrInlineDv: string;
  readonly offset?: number | null;
  readonly sizeInBytes: number;
  readonly cardinality: number;
}

export interface AddAction {
  /** Raw URI-encoded path exactly as logged; never re-encoded (removes must match it byte for byte). */
  readonly path: string;
  readonly partitionValues: Readonly<Record<string, string | null>>;
  readonly size: number;
  readonly modificationTime: number;
  readonly dataChange: boolean;
  readonly stats?: string | null;
  readonly tags?: Readonly<Record<string, string>> | null;
  readonly deletionVector?: DeletionVectorDescriptor | null;
}

export interface RemoveAction {
  readonly path: string;
  readonly deletionTimestamp?: number | null;
  readonly dataChange: boolean;
  readonly extendedFileMetadata?: boolean | null;
  readonly partitionValues?: Readonly<Record<string, string | null>> | null;
  readonly size?: number | null;
  readonly deletionVector?: DeletionVectorDescriptor | null;
}

/**
 * A change data file (PROTOCOL.md §Add CDC File): rows of the table plus `_change_type`. Readers of
 * the change feed use a version's cdc files instead of its adds and removes; `dataChange` is
 * always false because the file adds nothing to the table.
 */
export interface CdcAction {
  readonly path: string;
  readonly partitionValues: Readonly<Record<string, string | null>>;
  readonly size: number;
  readonly dataChange: false;
}

export interface TxnAction {
  readonly appId: string;
  readonly version: number;
  readonly lastUpdated?: number | null;
}

export interface DomainMetadataAction {
  readonly domain: string;
  readonly configuration: string;
  readonly removed: boolean;
}

export type CommitInfo = Readonly<Record<string, unknown>>;

/** One line of a commit file. Unknown actions are ignored on read (PROTOCOL.md §Protocol Evolution). */
export type DeltaAction =
  | { readonly commitInfo: CommitInfo }
  | { readonly protocol: ProtocolAction }
  | { readonly metaData: MetadataAction }
  | { readonly txn: TxnAction }
  | { readonly add: AddAction }
  | { readonly remove: RemoveAction }
  | { readonly cdc: CdcAction }
  | { readonly domainMetadata: DomainMetadataAction };

/** Files are identified by (path, deletion vector id) (PROTOCOL.md §Action Reconciliation). */
export function fileKey(action: {
  readonly path: string;
  readonly deletionVector?: DeletionVectorDescriptor | null;
}): string {
  const dv = action.deletionVector;
  return dv ? `${action.path}\u0000${dv.storageType}${dv.pathOrInlineDv}@${dv.offset ?? ''}` : action.path;
}

export function commitFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.json`;
}

export function checkpointFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.checkpoint.parquet`;
}

/** Builds the remove for a live add, re-emitting its raw path (delta-rs `remove_action`). */
export function removeFor(add: AddAction, now: number): RemoveAction {
  return {
    path: add.path,
    deletionTimestamp: now,
    dataChange: true,
    extendedFileMetadata: true,
    partitionValues: add.partitionValues,
    size: add.size,
    ...(add.deletionVector ? { deletionVector: add.deletionVector } : {}),
  };
}
