/**
 * Atomic put-if-absent commits on a local filesystem and the conflict loop.
 *
 * A commit file is written in full to a temp file and then hard-linked to its final name: `link`
 * fails with EEXIST when another writer already holds that version, and readers never see a partial
 * file (object_store's LocalFileSystem does the same for delta-rs). This is safe against any other
 * writer that also uses put-if-absent (delta-rs, etld); Spark's LocalLogStore only locks inside its
 * own JVM, so a table must have one writer unless every writer uses put-if-absent.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { cancelledError, EtlError } from '../../../shared/errors.js';
import type { CommitInfo, DeltaAction } from './delta-actions.js';
import { commitFileName } from './delta-actions.js';
import { usesInCommitTimestamps } from './delta-features.js';
import { fsyncPath } from './delta-fsync.js';
import type { DeltaSnapshot } from './delta-log-reader.js';
import { SnapshotState, logDir, readCommit, readSnapshot, refreshSnapshot } from './delta-log-reader.js';

/** delta-rs retries a commit 15 times (`kernel/transaction/mod.rs`). */
const DEFAULT_MAX_COMMIT_ATTEMPTS = 15;

/**
 * Writes `content` as `_delta_log/<version>.json` unless that version exists. Returns false when
 * another writer committed the version first.
 */
export async function putIfAbsent(tablePath: string, version: number, content: string): Promise<boolean> {
  const dir = logDir(tablePath);
  // Version 0 creates the table, and its log with it: not when the load begins, because a first
  // load that fails must not leave an empty `_delta_log`, which readers (delta-rs, Spark) take for
  // a broken table instead of no table. A later version needs the log to exist: a table whose
  // directory vanished must not come back as a log that starts at that version.
  if (version === 0) await mkdir(dir, { recursive: true });
  const temp = join(dir, `.tmp-${randomUUID()}.json`);
  const final = join(dir, commitFileName(version));
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, final);
    // The new directory entry is what makes the version exist: flush it as well.
    await fsyncPath(dir);
    return true;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new EtlError('DESTINATION_WRITE', `cannot create ${final}: ${(cause as Error).message}`, { cause });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
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
  readonly tablePath: string;
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

async function previousInCommitTimestamp(snapshot: DeltaSnapshot): Promise<number | undefined> {
  const info =
    snapshot.lastCommitInfo ??
    (await readCommit(snapshot.tablePath, snapshot.version))?.find((a) => 'commitInfo' in a);
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
    const previous = await previousInCommitTimestamp(snapshot);
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
      throw cancelledError(`the commit to Delta table ${options.tablePath}`, 'nothing was committed');
    const prepared = await options.build(snapshot);
    if (prepared.kind === 'already-committed') return { kind: 'already-committed', snapshot };
    const version = snapshot === undefined ? 0 : snapshot.version + 1;
    const commitInfo = await commitInfoFor(prepared, snapshot, options);
    const all: DeltaAction[] = [{ commitInfo }, ...prepared.actions];
    const content = all.map((a) => JSON.stringify(a)).join('\n') + '\n';
    if (await putIfAbsent(options.tablePath, version, content)) {
      const state = snapshot ? SnapshotState.from(snapshot) : new SnapshotState();
      state.applyCommit(version, all);
      return { kind: 'committed', version, snapshot: state.freeze(options.tablePath), attempts: attempt };
    }
    snapshot = snapshot
      ? await refreshSnapshot(snapshot, options.connection)
      : await readSnapshot(options.tablePath, options.connection);
  }
  throw new EtlError(
    'DESTINATION_CONFLICT',
    `gave up committing to Delta table ${options.tablePath} after ${maxAttempts} lost races with other writers`,
    {
      retryable: true,
    },
  );
}
