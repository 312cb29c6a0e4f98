/**
 * Put-if-absent commits through the table's ObjectStore and the conflict loop.
 *
 * A commit file appears whole or not at all, and only if no other writer holds that version
 * (`ObjectStore.putIfAbsent`: a hard link on a file system, a conditional PUT on object stores,
 * which is what delta-rs's object_store does too). This is safe against any other writer that also
 * uses put-if-absent (delta-rs, etld); Spark's LocalLogStore only locks inside its own JVM, so a
 * table must have one writer unless every writer uses put-if-absent.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { cancelledError, EtlError } from '../../../shared/errors.js';
import type { CommitInfo, DeltaAction } from './delta-actions.js';
import { commitFileName } from './delta-actions.js';
import { usesInCommitTimestamps } from './delta-features.js';
import type { DeltaFiles } from './delta-files.js';
import type { DeltaSnapshot } from './delta-log-reader.js';
import { SnapshotState, logKey, readCommit, readSnapshot, refreshSnapshot } from './delta-log-reader.js';

/** delta-rs retries a commit 15 times (`kernel/transaction/mod.rs`). */
const DEFAULT_MAX_COMMIT_ATTEMPTS = 15;

/**
 * Writes `content` as `_delta_log/<version>.json` unless that version exists. Returns false when
 * another writer committed the version first.
 */
export async function putIfAbsent(files: DeltaFiles, version: number, content: string): Promise<boolean> {
  // Version 0 creates the table, and its log with it: not when the load begins, because a first
  // load that fails must not leave an empty `_delta_log`, which readers (delta-rs, Spark) take for
  // a broken table instead of no table. A later version needs the one before it: a table whose
  // log vanished must not come back as a log that starts at that version. (The newest commit is
  // never cleaned up, so the previous version is there whenever `version` is the next one.)
  if (version > 0 && (await files.store.head(logKey(commitFileName(version - 1)))) === undefined) {
    throw new EtlError(
      'DESTINATION_WRITE',
      `cannot create version ${version} of Delta table ${files.label}: version ${version - 1} is not in its log (was the table deleted?)`,
      { retryable: false },
    );
  }
  const outcome = await files.store.putIfAbsent(logKey(commitFileName(version)), content);
  return outcome === 'created';
}

export interface PreparedCommit {
  readonly kind: 'commit';
  /** Actions after commitInfo: protocol, metaData, txn, then adds and removes. */
  readonly actions: readonly DeltaAction[];
  readonly operation: string;
  readonly operationParameters: Readonly<Record<string, string>>;
  readonly operationMetrics: Readonly<Record<string, string>>;
  readonly isBlindAppend: boolean;
}

/** The batch's txn is already in the table: nothing may be committed. */
interface AlreadyCommitted {
  readonly kind: 'already-committed';
}

/**
 * Builds the commit against `current` (the newest snapshot). Called once, then again after every
 * lost race with the snapshot that includes the winners; it throws DESTINATION_CONFLICT when the
 * winners invalidate what was written (the rules: `DeltaLoad#build` in delta-load.ts).
 */
type CommitBuilder = (
  current: DeltaSnapshot | undefined,
) => Promise<PreparedCommit | AlreadyCommitted> | PreparedCommit | AlreadyCommitted;

export interface CommitLoopOptions {
  readonly files: DeltaFiles;
  readonly snapshot: DeltaSnapshot | undefined;
  readonly connection: DuckDBConnection;
  readonly build: CommitBuilder;
  readonly engineInfo: string;
  readonly now: () => number;
  readonly maxAttempts?: number;
  readonly signal?: AbortSignal;
}

export type CommitLoopResult =
  | {
      readonly kind: 'committed';
      readonly version: number;
      readonly snapshot: DeltaSnapshot;
      readonly attempts: number;
    }
  | { readonly kind: 'already-committed'; readonly snapshot: DeltaSnapshot | undefined };

async function previousInCommitTimestamp(
  files: DeltaFiles,
  snapshot: DeltaSnapshot,
): Promise<number | undefined> {
  const info =
    snapshot.lastCommitInfo ?? (await readCommit(files, snapshot.version))?.find((a) => 'commitInfo' in a);
  const record = info && 'commitInfo' in info ? (info.commitInfo as CommitInfo) : info;
  const value = record?.inCommitTimestamp;
  return typeof value === 'number' ? value : undefined;
}

async function commitInfoFor(
  prepared: PreparedCommit,
  snapshot: DeltaSnapshot | undefined,
  options: CommitLoopOptions,
): Promise<CommitInfo> {
  const now = options.now();
  const info: Record<string, unknown> = {};
  if (snapshot && usesInCommitTimestamps(snapshot.protocol, snapshot.metadata)) {
    // commitInfo must come first and its in-commit timestamp must increase strictly.
    const previous = await previousInCommitTimestamp(options.files, snapshot);
    info.inCommitTimestamp = Math.max(now, (previous ?? 0) + 1);
  }
  Object.assign(info, {
    timestamp: now,
    operation: prepared.operation,
    operationParameters: prepared.operationParameters,
    ...(snapshot ? { readVersion: snapshot.version } : {}),
    isolationLevel: 'Serializable',
    isBlindAppend: prepared.isBlindAppend,
    operationMetrics: prepared.operationMetrics,
    engineInfo: options.engineInfo,
    txnId: randomUUID(),
  });
  return info;
}

/** Commits at the next version, re-building against the winners after each lost race. */
export async function commitWithRetries(options: CommitLoopOptions): Promise<CommitLoopResult> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_COMMIT_ATTEMPTS;
  let snapshot = options.snapshot;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (options.signal?.aborted)
      throw cancelledError(`the commit to Delta table ${options.files.label}`, 'nothing was committed');
    const prepared = await options.build(snapshot);
    if (prepared.kind === 'already-committed') return { kind: 'already-committed', snapshot };
    const version = snapshot === undefined ? 0 : snapshot.version + 1;
    const commitInfo = await commitInfoFor(prepared, snapshot, options);
    const all: DeltaAction[] = [{ commitInfo }, ...prepared.actions];
    const content = all.map((a) => JSON.stringify(a)).join('\n') + '\n';
    if (await putIfAbsent(options.files, version, content)) {
      const state = snapshot ? SnapshotState.from(snapshot) : new SnapshotState();
      state.applyCommit(version, all);
      return { kind: 'committed', version, snapshot: state.freeze(options.files.label), attempts: attempt };
    }
    snapshot = snapshot
      ? await refreshSnapshot(options.files, snapshot, options.connection)
      : await readSnapshot(options.files, options.connection);
  }
  throw new EtlError(
    'DESTINATION_CONFLICT',
    `gave up committing to Delta table ${options.files.label} after ${maxAttempts} lost races with other writers`,
    {
      retryable: true,
    },
  );
}
