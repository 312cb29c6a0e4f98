/**
 * An ObjectStore opened on first use. Destinations are created synchronously (at start-up every
 * pipeline's destination is), while an object store loads its cloud SDK and credentials
 * asynchronously; the URL is parsed at once, so a malformed one fails the pipeline file at load,
 * and only a run, a plan or a vacuum that touches the table opens the SDK.
 *
 * The first put-if-absent on an object store checks that the store honours conditional writes
 * (conditional-probe.ts): a commit never relies on a condition nobody verified. Reads never write
 * a probe.
 */
import type { StorageConfig } from '../../shared/config/storage-schema.js';
import { checkConditionalWrites } from './conditional-probe.js';
import { FileStore } from './file-store.js';
import type { ObjectInfo, ObjectStore, PutIfAbsentOutcome, StoreKind } from './object-store.js';
import { openObjectStore, type OpenStoreOptions } from './open-store.js';
import { parseStorageUrl } from './storage-url.js';

class LazyObjectStore implements ObjectStore {
  readonly kind: StoreKind;
  readonly displayUrl: string;
  readonly localRoot = undefined;
  readonly #open: () => Promise<ObjectStore>;
  readonly #singleWriter: boolean;
  #store: Promise<ObjectStore> | undefined;

  constructor(kind: StoreKind, displayUrl: string, open: () => Promise<ObjectStore>, singleWriter: boolean) {
    this.kind = kind;
    this.displayUrl = displayUrl;
    this.#open = open;
    this.#singleWriter = singleWriter;
  }

  #opened(): Promise<ObjectStore> {
    if (this.#store === undefined) {
      const opening = this.#open();
      this.#store = opening;
      // A failed open (credentials not there yet) is tried again by the next call.
      opening.catch(() => {
        if (this.#store === opening) this.#store = undefined;
      });
    }
    return this.#store;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.#opened()).get(key);
  }

  async download(key: string, localPath: string): Promise<boolean> {
    return (await this.#opened()).download(key, localPath);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    return (await this.#opened()).head(key);
  }

  async *list(prefix: string, options?: { readonly startAfter?: string }): AsyncIterable<ObjectInfo> {
    yield* (await this.#opened()).list(prefix, options);
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await (await this.#opened()).put(key, body);
  }

  async upload(localPath: string, key: string): Promise<void> {
    await (await this.#opened()).upload(localPath, key);
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<PutIfAbsentOutcome> {
    const store = await this.#opened();
    await checkConditionalWrites(store, { singleWriter: this.#singleWriter });
    return store.putIfAbsent(key, body);
  }

  async delete(keys: readonly string[]): Promise<void> {
    await (await this.#opened()).delete(keys);
  }

  async close(): Promise<void> {
    const store = this.#store;
    this.#store = undefined;
    if (store !== undefined) await (await store.catch(() => undefined))?.close();
  }
}

/**
 * The store at `url`: a FileStore for local paths (in place, synchronous), else a store opened on
 * first use. Throws CONFIG_INVALID for a malformed URL.
 */
export function lazyObjectStore(
  url: string,
  storage: StorageConfig | undefined,
  options: OpenStoreOptions,
): ObjectStore {
  const location = parseStorageUrl(url, options.baseDir);
  if (location.kind === 'file') return new FileStore(location.root);
  return new LazyObjectStore(
    location.kind,
    location.displayUrl,
    () => openObjectStore(url, storage, options),
    storage?.single_writer ?? false,
  );
}
