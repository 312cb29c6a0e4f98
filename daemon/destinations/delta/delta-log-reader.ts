/**
 * Table snapshot by log replay (PROTOCOL.md §Action Reconciliation): the newest complete
 * checkpoint, then every `N.json` after it. `_last_checkpoint` is not trusted (a listing of
 * `_delta_log/` is always current, and one paginated request per 1,000 entries on an object
 * store); a missing version in the replayed range is an error.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { EtlError } from '../../../shared/errors.js';
import type {
  AddAction,
  CommitInfo,
  DeltaAction,
  DomainMetadataAction,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
  TxnAction,
} from './delta-actions.js';
import { commitFileName, fileKey } from './delta-actions.js';
import type { DeltaFiles } from './delta-files.js';
import type { StructType } from './delta-schema.js';
import { parseSchemaString } from './delta-schema.js';
import { sqlString } from './delta-sql.js';

export interface DeltaSnapshot {
  readonly version: number;
  readonly protocol: ProtocolAction;
  readonly metadata: MetadataAction;
  readonly schema: StructType;
  /** Live files keyed by `fileKey`. */
  readonly files: ReadonlyMap<string, AddAction>;
  /** Remove tombstones still in the log state, keyed by `fileKey`. */
  readonly tombstones: ReadonlyMap<string, RemoveAction>;
  readonly txns: ReadonlyMap<string, TxnAction>;
  readonly domains: ReadonlyMap<string, DomainMetadataAction>;
  /** commitInfo of `version` when it was replayed from JSON (in-commit timestamps need it). */
  readonly lastCommitInfo: CommitInfo | undefined;
}

interface LogListing {
  readonly commits: readonly number[];
  /** Complete checkpoints, newest first, with their part files. */
  readonly checkpoints: readonly { readonly version: number; readonly files: readonly string[] }[];
}

const COMMIT_RE = /^(\d{20})\.json$/;
const CLASSIC_CHECKPOINT_RE = /^(\d{20})\.checkpoint\.parquet$/;
const MULTIPART_CHECKPOINT_RE = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;

/** The log's key prefix in the table's store. */
export const LOG_PREFIX = '_delta_log/';

/** The store key of a file of the log. */
export function logKey(name: string): string {
  return `${LOG_PREFIX}${name}`;
}

async function listLog(files: DeltaFiles): Promise<LogListing> {
  const names: string[] = [];
  try {
    for await (const info of files.store.list(LOG_PREFIX)) {
      const name = info.key.slice(LOG_PREFIX.length);
      // Only the log's own entries (`_staged_commits/`, `_sidecars/` hold nothing etld reads).
      if (!name.includes('/')) names.push(name);
    }
  } catch (cause) {
    if (cause instanceof EtlError) throw cause;
    throw new EtlError(
      'DESTINATION_WRITE',
      `cannot list ${files.label}/${LOG_PREFIX}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const commits: number[] = [];
  const parts = new Map<number, { total: number; files: string[] }>();
  const classic = new Map<number, string>();
  for (const name of names) {
    const commit = COMMIT_RE.exec(name);
    if (commit) {
      commits.push(Number(commit[1]));
      continue;
    }
    const single = CLASSIC_CHECKPOINT_RE.exec(name);
    if (single) {
      classic.set(Number(single[1]), name);
      continue;
    }
    const multi = MULTIPART_CHECKPOINT_RE.exec(name);
    if (multi) {
      const version = Number(multi[1]);
      const entry = parts.get(version) ?? { total: Number(multi[3]), files: [] };
      entry.files.push(name);
      parts.set(version, entry);
    }
  }
  const checkpoints: { version: number; files: string[] }[] = [];
  for (const [version, name] of classic) checkpoints.push({ version, files: [name] });
  for (const [version, entry] of parts) {
    if (!classic.has(version) && entry.files.length === entry.total)
      checkpoints.push({ version, files: entry.files.sort() });
  }
  commits.sort((a, b) => a - b);
  checkpoints.sort((a, b) => b.version - a.version);
  return { commits, checkpoints };
}

/** Parses one commit file; undefined when the version does not exist. */
export async function readCommit(files: DeltaFiles, version: number): Promise<DeltaAction[] | undefined> {
  const key = logKey(commitFileName(version));
  const file = `${files.label}/${key}`;
  let body: Uint8Array | undefined;
  try {
    body = await files.store.get(key);
  } catch (cause) {
    if (cause instanceof EtlError) throw cause;
    throw new EtlError('DESTINATION_WRITE', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  if (body === undefined) return undefined;
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  const actions: DeltaAction[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      actions.push(JSON.parse(line) as DeltaAction);
    } catch (cause) {
      throw new EtlError('DESTINATION_WRITE', `${file} line ${index + 1} is not valid JSON`, {
        cause,
        retryable: false,
      });
    }
  }
  return actions;
}

/** Mutable log state; `apply` folds actions in commit order. */
export class SnapshotState {
  version = -1;
  protocol: ProtocolAction | undefined;
  metadata: MetadataAction | undefined;
  readonly files = new Map<string, AddAction>();
  readonly tombstones = new Map<string, RemoveAction>();
  readonly txns = new Map<string, TxnAction>();
  readonly domains = new Map<string, DomainMetadataAction>();
  lastCommitInfo: CommitInfo | undefined;

  apply(action: DeltaAction | Record<string, unknown>): void {
    if ('add' in action && action.add) {
      const add = action.add as AddAction;
      this.files.set(fileKey(add), add);
      this.tombstones.delete(fileKey(add));
    } else if ('remove' in action && action.remove) {
      const remove = action.remove as RemoveAction;
      this.files.delete(fileKey(remove));
      this.tombstones.set(fileKey(remove), remove);
    } else if ('txn' in action && action.txn) {
      const txn = action.txn as TxnAction;
      this.txns.set(txn.appId, txn);
    } else if ('metaData' in action && action.metaData) {
      this.metadata = action.metaData as MetadataAction;
    } else if ('protocol' in action && action.protocol) {
      this.protocol = action.protocol as ProtocolAction;
    } else if ('domainMetadata' in action && action.domainMetadata) {
      const domain = action.domainMetadata as DomainMetadataAction;
      if (domain.removed) this.domains.delete(domain.domain);
      else this.domains.set(domain.domain, domain);
    } else if ('commitInfo' in action && action.commitInfo) {
      this.lastCommitInfo = action.commitInfo as CommitInfo;
    }
  }

  /** Applies one JSON commit. */
  applyCommit(version: number, actions: readonly DeltaAction[]): void {
    this.lastCommitInfo = undefined;
    for (const action of actions) this.apply(action);
    this.version = version;
  }

  freeze(table: string): DeltaSnapshot {
    if (this.protocol === undefined || this.metadata === undefined) {
      throw new EtlError(
        'DESTINATION_WRITE',
        `Delta table ${table} has no ${this.protocol ? 'metaData' : 'protocol'} action at version ${this.version}`,
        {
          retryable: false,
        },
      );
    }
    return {
      version: this.version,
      protocol: this.protocol,
      metadata: this.metadata,
      schema: parseSchemaString(this.metadata.schemaString, table),
      files: new Map(this.files),
      tombstones: new Map(this.tombstones),
      txns: new Map(this.txns),
      domains: new Map(this.domains),
      lastCommitInfo: this.lastCommitInfo,
    };
  }

  static from(snapshot: DeltaSnapshot): SnapshotState {
    const state = new SnapshotState();
    state.version = snapshot.version;
    state.protocol = snapshot.protocol;
    state.metadata = snapshot.metadata;
    for (const [k, v] of snapshot.files) state.files.set(k, v);
    for (const [k, v] of snapshot.tombstones) state.tombstones.set(k, v);
    for (const [k, v] of snapshot.txns) state.txns.set(k, v);
    for (const [k, v] of snapshot.domains) state.domains.set(k, v);
    state.lastCommitInfo = snapshot.lastCommitInfo;
    return state;
  }
}

async function loadCheckpoint(
  files: DeltaFiles,
  parts: readonly string[],
  connection: DuckDBConnection,
): Promise<SnapshotState> {
  const local = await files.readable(parts.map(logKey));
  const list = local.map(sqlString).join(', ');
  // Whole rows as JSON: checkpoint schemas differ between writers (optional columns, stats_parsed…).
  const reader = await connection.runAndReadAll(
    `SELECT to_json(cp) AS row FROM read_parquet([${list}], union_by_name = true) AS cp`,
  );
  const state = new SnapshotState();
  for (const value of reader.getColumns()[0] ?? []) {
    if (typeof value !== 'string') continue;
    const row = JSON.parse(value) as Record<string, unknown>;
    for (const [name, action] of Object.entries(row)) {
      if (action !== null && name !== 'commitInfo' && name !== 'cdc') state.apply({ [name]: action });
    }
  }
  return state;
}

/**
 * A DuckDB connection, or how to open one. Only Parquet checkpoints need DuckDB, so a caller
 * without a connection at hand (start-up reconciliation of every table) passes an opener and
 * DuckDB is loaded only for a table that has a checkpoint.
 */
export type CheckpointReader = DuckDBConnection | (() => Promise<DuckDBConnection>);

function connectionOf(reader: CheckpointReader): Promise<DuckDBConnection> {
  return typeof reader === 'function' ? reader() : Promise.resolve(reader);
}

/**
 * Reads the newest snapshot, or undefined when the directory holds no Delta table. A checkpoint that
 * cannot be read is skipped in favour of an older one (or full JSON replay).
 */
export async function readSnapshot(
  files: DeltaFiles,
  reader: CheckpointReader,
): Promise<DeltaSnapshot | undefined> {
  const listing = await listLog(files);
  if (listing.commits.length === 0 && listing.checkpoints.length === 0) return undefined;
  const latest = Math.max(listing.commits.at(-1) ?? -1, listing.checkpoints[0]?.version ?? -1);
  let state: SnapshotState | undefined;
  let failure: unknown;
  if (listing.checkpoints.length > 0) {
    // Opened outside the loop: a DuckDB that cannot start is an error, not an unreadable checkpoint.
    const connection = await connectionOf(reader);
    for (const checkpoint of listing.checkpoints) {
      try {
        state = await loadCheckpoint(files, checkpoint.files, connection);
        state.version = checkpoint.version;
        break;
      } catch (cause) {
        failure = cause;
      }
    }
  }
  state ??= new SnapshotState();
  const present = new Set(listing.commits);
  for (let version = state.version + 1; version <= latest; version++) {
    if (!present.has(version)) {
      throw new EtlError(
        'DESTINATION_WRITE',
        `Delta log of ${files.label} is missing version ${version} (versions must be contiguous${failure ? '; a checkpoint could not be read' : ''})`,
        { cause: failure, retryable: false },
      );
    }
    const actions = await readCommit(files, version);
    if (actions === undefined) {
      throw new EtlError(
        'DESTINATION_WRITE',
        `Delta log of ${files.label}: version ${version} disappeared while reading`,
        { retryable: true },
      );
    }
    state.applyCommit(version, actions);
  }
  return state.freeze(files.label);
}

/** Advances a snapshot by the commits written after it (used after a commit conflict). */
export async function refreshSnapshot(
  files: DeltaFiles,
  snapshot: DeltaSnapshot,
  reader: CheckpointReader,
): Promise<DeltaSnapshot> {
  const state = SnapshotState.from(snapshot);
  for (let version = snapshot.version + 1; ; version++) {
    const actions = await readCommit(files, version);
    if (actions === undefined) break;
    state.applyCommit(version, actions);
  }
  if (state.version === snapshot.version) {
    // Nothing newer as JSON: the log may have been cleaned up behind a checkpoint, so re-read fully.
    const fresh = await readSnapshot(files, reader);
    return fresh ?? snapshot;
  }
  return state.freeze(files.label);
}
