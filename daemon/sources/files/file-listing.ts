/**
 * The new-file plan of one run of a `files` source: list the objects under the pattern's literal
 * prefix, keep those the pattern matches, ask the state store's file ledger which of them were
 * loaded, and plan the rest (at most `maxFiles`, in key order).
 *
 * Decisions:
 * - Memory is bounded whatever the listing holds: objects are looked up in pages of at most
 *   LOOKUP_PAGE keys, and only the planned files (≤ maxFiles) and counters outlive a page.
 * - Once the plan is full and one more eligible file is seen, listing stops (`truncated`): the rest
 *   wait for the next run, which lists again from the start. The counters then cover the listing up
 *   to that point, not the whole prefix.
 * - A file is unchanged when both its version (ETag, generation, mtime) and its size match what was
 *   recorded; either differing means it was rewritten.
 * - A key ending in `/` is a directory placeholder (S3 consoles, Azure hierarchical namespaces),
 *   never a file: it counts as listed, not as matched.
 * - `minAgeMs` applies in both selections: a file a writer may still be writing is not read, not
 *   even by a full refresh. A modification time in the future (clock skew) keeps a file waiting until
 *   our clock has passed it by `minAgeMs`.
 * - Cancellation is checked between lookup pages and every LOOKUP_PAGE listed objects, so a prefix
 *   full of keys the pattern skips is cancellable too.
 */
import { EtlError } from '../../../shared/errors.js';
import type { ObjectInfo, ObjectStore } from '../../storage/object-store.js';
import { throwIfAborted } from '../abort.js';
import type { FileGlob } from './file-glob.js';

export interface RecordedFile {
  readonly key: string;
  readonly size: number;
  readonly version: string;
  readonly status: 'loaded' | 'quarantined';
}

export type ChangedFilePolicy = 'ignore' | 'reload' | 'fail';

export interface FilePlanOptions {
  readonly store: ObjectStore;
  readonly glob: FileGlob;
  /** What the state store recorded for these keys (called with pages of at most 500 keys). */
  readonly lookup: (keys: readonly string[]) => ReadonlyMap<string, RecordedFile>;
  readonly onChangedFile: ChangedFilePolicy;
  /** At most this many files go into the plan; the rest wait for the next run (truncated: true). */
  readonly maxFiles: number;
  /** Files modified less than this long before `now` are left for a later run (a writer may still be writing them). */
  readonly minAgeMs: number;
  readonly now: Date;
  readonly signal?: AbortSignal;
  /** 'new': incremental/merge (only files not loaded yet, plus changed ones per policy); 'all': full mode (every matching file, no ledger lookup). */
  readonly select: 'new' | 'all';
}

export interface PlannedFile {
  readonly key: string;
  readonly size: number;
  readonly version: string;
  readonly lastModified: Date;
  readonly reason: 'new' | 'changed' | 'retry-quarantined';
}

export interface FilePlan {
  /** In key order. */
  readonly files: readonly PlannedFile[];
  /** The sum of the files' sizes. */
  readonly bytes: number;
  /** Objects listed under the pattern's listPrefix. */
  readonly listed: number;
  /** Of which matched the pattern. */
  readonly matched: number;
  readonly alreadyLoaded: number;
  /** Recorded as quarantined and unchanged since: skipped. */
  readonly quarantined: number;
  /** Changed after loading, policy `ignore`. */
  readonly changedIgnored: number;
  /** Younger than minAgeMs. */
  readonly tooNew: number;
  /** More eligible files than maxFiles. */
  readonly truncated: boolean;
}

export const LOOKUP_PAGE = 500;

type Counter = 'listed' | 'matched' | 'alreadyLoaded' | 'quarantined' | 'changedIgnored' | 'tooNew';

function changedFileError(info: ObjectInfo, recorded: RecordedFile): EtlError {
  const change =
    recorded.size === info.size
      ? `its size is still ${info.size} bytes but its version went from ${recorded.version} to ${info.version}`
      : `its size went from ${recorded.size} to ${info.size} bytes`;
  return new EtlError(
    'SOURCE_DATA',
    `${info.key} changed after it was loaded (${change}); source.on_changed_file is 'fail' ` +
      `(set it to 'ignore' to keep the loaded rows and skip the file, or 'reload' to load it again)`,
    { retryable: false },
  );
}

/** Builds the plan while the listing streams by; `add` says false once listing may stop. */
class PlanBuilder {
  readonly files: PlannedFile[] = [];
  readonly counts: Record<Counter, number> = {
    listed: 0,
    matched: 0,
    alreadyLoaded: 0,
    quarantined: 0,
    changedIgnored: 0,
    tooNew: 0,
  };
  bytes = 0;
  truncated = false;

  readonly #maxFiles: number;
  readonly #onChangedFile: ChangedFilePolicy;

  constructor(maxFiles: number, onChangedFile: ChangedFilePolicy) {
    this.#maxFiles = maxFiles;
    this.#onChangedFile = onChangedFile;
  }

  /** Plans one eligible file; false when the plan was already full (the listing can stop). */
  add(info: ObjectInfo, reason: PlannedFile['reason']): boolean {
    if (this.files.length >= this.#maxFiles) {
      this.truncated = true;
      return false;
    }
    const { key, size, version, lastModified } = info;
    this.files.push({ key, size, version, lastModified, reason });
    this.bytes += size;
    return true;
  }

  /** Decides one matched, old-enough file against its ledger record; false once listing may stop. */
  classify(info: ObjectInfo, recorded: RecordedFile | undefined): boolean {
    if (recorded === undefined) return this.add(info, 'new');
    const unchanged = recorded.version === info.version && recorded.size === info.size;
    if (recorded.status === 'quarantined') {
      if (!unchanged) return this.add(info, 'retry-quarantined');
      this.counts.quarantined++;
      return true;
    }
    if (unchanged) {
      this.counts.alreadyLoaded++;
      return true;
    }
    switch (this.#onChangedFile) {
      case 'fail':
        throw changedFileError(info, recorded);
      case 'ignore':
        this.counts.changedIgnored++;
        return true;
      case 'reload':
        return this.add(info, 'changed');
    }
  }

  plan(): FilePlan {
    return { files: this.files, bytes: this.bytes, truncated: this.truncated, ...this.counts };
  }
}

function checkLimits(options: FilePlanOptions): void {
  if (!Number.isSafeInteger(options.maxFiles) || options.maxFiles < 1) {
    throw new EtlError(
      'CONFIG_INVALID',
      `the most files per run (maxFiles) must be a positive integer, not ${options.maxFiles}`,
    );
  }
  if (!Number.isFinite(options.minAgeMs) || options.minAgeMs < 0) {
    throw new EtlError(
      'CONFIG_INVALID',
      `the minimum file age (minAgeMs) must be zero or more milliseconds, not ${options.minAgeMs}`,
    );
  }
}

export async function planFiles(options: FilePlanOptions): Promise<FilePlan> {
  checkLimits(options);
  const { store, glob, signal } = options;
  const what = `listing ${store.displayUrl} for files matching "${glob.pattern}"`;
  const builder = new PlanBuilder(options.maxFiles, options.onChangedFile);
  const counts = builder.counts;
  // A file modified after this instant is younger than minAgeMs.
  const newestAllowed = options.now.getTime() - options.minAgeMs;
  let page: ObjectInfo[] = [];

  /** Classifies the pending page; false once listing may stop. */
  const flush = (): boolean => {
    throwIfAborted(signal, what);
    const pending = page;
    page = [];
    if (pending.length === 0) return true;
    const recorded = options.lookup(pending.map((info) => info.key));
    for (const info of pending) {
      if (!builder.classify(info, recorded.get(info.key))) return false;
    }
    return true;
  };

  throwIfAborted(signal, what);
  for await (const info of store.list(glob.listPrefix)) {
    counts.listed++;
    if (counts.listed % LOOKUP_PAGE === 0) throwIfAborted(signal, what);
    if (info.key.endsWith('/') || !glob.matches(info.key)) continue;
    counts.matched++;
    if (options.minAgeMs > 0 && info.lastModified.getTime() > newestAllowed) {
      counts.tooNew++;
      continue;
    }
    if (options.select === 'all') {
      if (!builder.add(info, 'new')) break;
      continue;
    }
    page.push(info);
    if (page.length === LOOKUP_PAGE && !flush()) break;
  }
  if (!builder.truncated) flush();
  return builder.plan();
}
