/**
 * An ObjectStore that behaves like a remote one for the Delta writer: a real FileStore underneath,
 * with `localRoot` hidden, so every read DuckDB needs goes through `download` and every file it
 * writes through `upload` (the path S3, GCS and Azure tables take). It counts those calls, and
 * `refuse` makes writes to matching keys fail as a read-only target would (DESTINATION_PERMISSION).
 */
import { FileStore } from '../../daemon/storage/file-store.js';
import type { ObjectInfo, ObjectStore, PutIfAbsentOutcome } from '../../daemon/storage/object-store.js';
import { EtlError } from '../../shared/errors.js';

export class RemoteLikeStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly displayUrl: string;
  readonly localRoot = undefined;
  readonly inner: FileStore;
  readonly calls = { download: 0, upload: 0, putIfAbsent: 0, delete: 0 };
  /** Writes (put, upload, putIfAbsent) to keys it matches fail with DESTINATION_PERMISSION. */
  refuse: ((key: string) => boolean) | undefined;

  constructor(root: string) {
    this.inner = new FileStore(root);
    this.displayUrl = `s3-like:${root}`;
  }

  #check(key: string): void {
    if (this.refuse?.(key) === true)
      throw new EtlError('DESTINATION_PERMISSION', `cannot write ${this.displayUrl}/${key}: read-only`);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  download(key: string, localPath: string): Promise<boolean> {
    this.calls.download++;
    return this.inner.download(key, localPath);
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }

  list(prefix: string, options?: { readonly startAfter?: string }): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix, options);
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    this.#check(key);
    await this.inner.put(key, body);
  }

  async upload(localPath: string, key: string): Promise<void> {
    this.#check(key);
    this.calls.upload++;
    await this.inner.upload(localPath, key);
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<PutIfAbsentOutcome> {
    this.#check(key);
    this.calls.putIfAbsent++;
    return this.inner.putIfAbsent(key, body);
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.calls.delete++;
    await this.inner.delete(keys);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
