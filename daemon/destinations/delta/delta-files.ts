/**
 * A Delta table's files as DuckDB sees them. Every access to the table goes through its
 * ObjectStore; DuckDB, which reads and writes only local files here, is given local paths:
 *
 * - A `file` store (`localRoot` set): the table's own files, in place, so nothing is copied. New
 *   files are written into a staging directory inside the table (same file system) and renamed
 *   into place; `flush` fsyncs them before a commit references them.
 * - Any other store: new files are written into a staging directory under the work directory and
 *   uploaded; files DuckDB must read (merge rewrites, checkpoints) are downloaded into a cache
 *   keyed by the object's key. Delta data files and checkpoints are never rewritten under the same
 *   name, so a cached copy stays valid; the cache is bounded in bytes (least recently used copies
 *   go first, never one a read in progress needs) and `dispose` removes it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { EtlError } from '../../../shared/errors.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { fsyncFilesAndDirectories } from './delta-fsync.js';

/**
 * Staging directories of loads, inside the table for a `file` store: hidden (readers and vacuum
 * skip `_` entries), so a write that fails or is killed halfway leaves nothing among the table's
 * data files; vacuum removes the ones a killed load left behind.
 */
export const STAGING_PREFIX = '_etld_staging-';

/** Default bound of the download cache: enough for a merge's rewrites of a few large files. */
const DEFAULT_CACHE_BYTES = 2 * 1024 * 1024 * 1024;
/** Downloads in flight at once. */
const DOWNLOAD_CONCURRENCY = 4;

export interface DeltaFilesOptions {
  /**
   * Where staging and cache directories go for a store without `localRoot` (a load passes its
   * work directory); default: a directory of its own under the system temp directory.
   */
  readonly workDir?: string;
  /** Bound of the download cache in bytes. */
  readonly cacheBytes?: number;
}

interface Cached {
  readonly path: string;
  readonly size: number;
}

export class DeltaFiles {
  readonly store: ObjectStore;
  /** The table as messages name it. */
  readonly label: string;
  readonly #workDir: string | undefined;
  readonly #cacheBytes: number;
  #ownDir: string | undefined;
  /** Insertion order is recency: a hit moves its entry to the end. */
  readonly #cache = new Map<string, Cached>();
  readonly #downloading = new Map<string, Promise<Cached>>();
  readonly #pinned = new Map<string, number>();
  #cachedBytes = 0;

  constructor(store: ObjectStore, options: DeltaFilesOptions = {}) {
    this.store = store;
    this.label = store.displayUrl;
    this.#workDir = options.workDir;
    this.#cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  }

  /** True when DuckDB works on the table's files in place. */
  get inPlace(): boolean {
    return this.store.localRoot !== undefined;
  }

  /** The local file of `key` in a `file` store. */
  #localPath(root: string, key: string): string {
    return join(root, ...key.split('/'));
  }

  async #scratch(): Promise<string> {
    if (this.#workDir !== undefined) {
      await mkdir(this.#workDir, { recursive: true });
      return this.#workDir;
    }
    this.#ownDir ??= await mkdtemp(join(tmpdir(), 'etld-delta-'));
    return this.#ownDir;
  }

  /**
   * Local paths DuckDB can read for `keys`, in order: the files themselves in a `file` store,
   * cached downloads otherwise. A key whose object does not exist fails (DESTINATION_WRITE from the
   * store, or here).
   */
  async readable(keys: readonly string[]): Promise<string[]> {
    const root = this.store.localRoot;
    if (root !== undefined) return keys.map((key) => this.#localPath(root, key));
    for (const key of keys) this.#pinned.set(key, (this.#pinned.get(key) ?? 0) + 1);
    try {
      const paths = new Array<string>(keys.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let i = next++; i < keys.length; i = next++) paths[i] = (await this.#cached(keys[i] ?? '')).path;
      };
      await Promise.all(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, keys.length) }, worker));
      await this.#evict();
      return paths;
    } finally {
      for (const key of keys) {
        const count = (this.#pinned.get(key) ?? 1) - 1;
        if (count === 0) this.#pinned.delete(key);
        else this.#pinned.set(key, count);
      }
    }
  }

  async #cached(key: string): Promise<Cached> {
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit;
    }
    let pending = this.#downloading.get(key);
    if (pending === undefined) {
      pending = this.#download(key).finally(() => this.#downloading.delete(key));
      this.#downloading.set(key, pending);
    }
    return pending;
  }

  async #download(key: string): Promise<Cached> {
    const dir = join(await this.#scratch(), 'cache');
    await mkdir(dir, { recursive: true });
    // Named by a hash: keys may be longer than a file name or hold characters a path cannot.
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 40);
    const path = join(dir, `${hash}${extname(key).slice(0, 16)}`);
    if (!(await this.store.download(key, path))) {
      throw new EtlError('DESTINATION_WRITE', `Delta table ${this.label}: ${key} does not exist`, {
        retryable: false,
      });
    }
    const entry = { path, size: (await stat(path)).size };
    this.#cache.set(key, entry);
    this.#cachedBytes += entry.size;
    return entry;
  }

  /** Drops least recently used copies until the cache fits its bound (pinned ones stay). */
  async #evict(): Promise<void> {
    const evicted: string[] = [];
    for (const [key, entry] of this.#cache) {
      if (this.#cachedBytes <= this.#cacheBytes) break;
      if (this.#pinned.has(key)) continue;
      this.#cache.delete(key);
      this.#cachedBytes -= entry.size;
      evicted.push(entry.path);
    }
    // A failure only leaves a file in the work directory, which `dispose` removes.
    await Promise.all(evicted.map((path) => rm(path, { force: true }).catch(() => undefined)));
  }

  /** A new, empty local directory where DuckDB writes files to `place` afterwards. */
  async stagingDir(): Promise<string> {
    const root = this.store.localRoot;
    const dir =
      root !== undefined
        ? join(root, `${STAGING_PREFIX}${randomUUID()}`)
        : join(await this.#scratch(), `staging-${randomUUID()}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /**
   * Moves a finished local file (written under `stagingDir`) to `key`: a rename in a `file` store,
   * an upload (and the local copy removed) otherwise.
   */
  async place(localFile: string, key: string): Promise<void> {
    const root = this.store.localRoot;
    if (root !== undefined) {
      const target = this.#localPath(root, key);
      await mkdir(dirname(target), { recursive: true });
      await rename(localFile, target);
      return;
    }
    await this.store.upload(localFile, key);
    await rm(localFile, { force: true });
  }

  /**
   * Makes placed files durable before a commit references them: fsync of the files and their
   * directories in a `file` store; an upload is durable once it returned.
   */
  async flush(keys: readonly string[]): Promise<void> {
    const root = this.store.localRoot;
    if (root === undefined) return;
    await fsyncFilesAndDirectories(
      root,
      keys.map((key) => this.#localPath(root, key)),
    );
  }

  /**
   * Removes the empty staging directories that killed loads left in a `file` store: those older
   * than `cutoff` (epoch ms), and those named in `emptied` (vacuum just deleted their old files,
   * which made the directory look new). Object stores have no directories.
   */
  async pruneStaging(cutoff: number, emptied: ReadonlySet<string>): Promise<void> {
    const root = this.store.localRoot;
    if (root === undefined) return;
    const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory() || !entry.name.startsWith(STAGING_PREFIX)) continue;
      const dir = join(root, entry.name);
      const info = await stat(dir).catch(() => undefined);
      // rmdir removes only an empty directory: one a load is writing into right now stays.
      if (info !== undefined && (info.mtimeMs <= cutoff || emptied.has(entry.name)))
        await rmdir(dir).catch(() => undefined);
    }
  }

  /** Removes the local staging and cache directories this object created. */
  async dispose(): Promise<void> {
    this.#cache.clear();
    this.#cachedBytes = 0;
    const dirs = [this.#ownDir];
    if (this.#workDir !== undefined && this.store.localRoot === undefined) dirs.push(this.#workDir);
    this.#ownDir = undefined;
    await Promise.all(
      dirs.filter((d) => d !== undefined).map((d) => rm(d, { recursive: true, force: true })),
    );
  }
}
