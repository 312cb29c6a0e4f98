/**
 * What the file-listing tests share: temp directories of real files behind a FileStore, a ledger
 * standing in for the state store's file records (a Map, recording what a plan loaded), and a
 * listing-only store whose objects are generated lazily (100,000 objects without 100,000 files).
 */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PlannedFile, RecordedFile } from '../../../daemon/sources/files/file-listing.js';
import { FileStore } from '../../../daemon/storage/file-store.js';
import type { ObjectInfo, ObjectStore, PutIfAbsentOutcome } from '../../../daemon/storage/object-store.js';

/** The clock of every test: files are written with modification times relative to it. */
export const NOW = new Date('2026-12-01T12:00:00Z');
export const HOUR = 3_600_000;

export interface FileTree {
  readonly root: string;
  readonly store: FileStore;
  /** Writes (or rewrites) a file, modified `ageMs` before NOW. */
  write(key: string, content: string, ageMs?: number): Promise<void>;
  remove(): Promise<void>;
}

export async function fileTree(): Promise<FileTree> {
  const root = await mkdtemp(join(tmpdir(), 'etld-files-listing-'));
  return {
    root,
    store: new FileStore(root),
    async write(key, content, ageMs = HOUR) {
      const path = join(root, ...key.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
      const modified = new Date(NOW.getTime() - ageMs);
      await utimes(path, modified, modified);
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** The file ledger as the state store will keep it, in memory; remembers the size of each lookup. */
export class Ledger {
  readonly #records = new Map<string, RecordedFile>();
  readonly pages: number[] = [];

  record(files: readonly PlannedFile[], status: RecordedFile['status'] = 'loaded'): void {
    for (const { key, size, version } of files) this.#records.set(key, { key, size, version, status });
  }

  readonly lookup = (keys: readonly string[]): ReadonlyMap<string, RecordedFile> => {
    this.pages.push(keys.length);
    const found = new Map<string, RecordedFile>();
    for (const key of keys) {
      const record = this.#records.get(key);
      if (record !== undefined) found.set(key, record);
    }
    return found;
  };
}

/** A lookup for `select: 'all'`, which must not consult the ledger. */
export function noLookup(): never {
  throw new Error('the ledger was consulted');
}

/**
 * A store that can only list: its objects come from `generate`, one at a time, in key order, so a
 * listing of any length holds one object at a time. Writing methods refuse.
 */
export class GeneratedListingStore implements ObjectStore {
  readonly kind = 'file' as const;
  readonly displayUrl = 'generated://listing';
  readonly localRoot = undefined;
  listings = 0;

  readonly #generate: () => Iterable<ObjectInfo>;

  constructor(generate: () => Iterable<ObjectInfo>) {
    this.#generate = generate;
  }

  async *list(prefix: string, options: { readonly startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    this.listings++;
    for (const info of this.#generate()) {
      if (!info.key.startsWith(prefix)) continue;
      if (options.startAfter !== undefined && info.key <= options.startAfter) continue;
      // A real listing awaits a page from the network now and then.
      await Promise.resolve();
      yield info;
    }
  }

  get(): Promise<Uint8Array | undefined> {
    return Promise.reject(new Error('a listing store has no contents'));
  }
  download(): Promise<boolean> {
    return Promise.reject(new Error('a listing store has no contents'));
  }
  head(): Promise<ObjectInfo | undefined> {
    return Promise.reject(new Error('a listing store only lists'));
  }
  put(): Promise<void> {
    return Promise.reject(new Error('a listing store is read-only'));
  }
  upload(): Promise<void> {
    return Promise.reject(new Error('a listing store is read-only'));
  }
  putIfAbsent(): Promise<PutIfAbsentOutcome> {
    return Promise.reject(new Error('a listing store is read-only'));
  }
  delete(): Promise<void> {
    return Promise.reject(new Error('a listing store is read-only'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Objects `landing/day=DDD/part-NNNNNN.csv`, i = 0…count-1, in key order; sizes 1000 + i % 7. */
export function* numberedObjects(
  count: number,
  lastModified = new Date(NOW.getTime() - HOUR),
): Iterable<ObjectInfo> {
  for (let index = 0; index < count; index++) yield numberedObject(index, lastModified);
}

export function numberedObject(index: number, lastModified = new Date(NOW.getTime() - HOUR)): ObjectInfo {
  const day = String(Math.floor(index / 1000)).padStart(3, '0');
  return {
    key: `landing/day=${day}/part-${String(index).padStart(6, '0')}.csv`,
    size: 1000 + (index % 7),
    lastModified,
    version: `"etag-${index}"`,
  };
}

/** The index a numbered object's key carries. */
export function indexOf(key: string): number {
  return Number(/part-(\d+)\.csv$/.exec(key)?.[1]);
}
