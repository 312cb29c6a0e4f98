/**
 * Test-only: a store that behaves like an S3-compatible server that accepts `If-None-Match: *`
 * and overwrites anyway. Every call goes to a real store; only putIfAbsent is a plain put that
 * always answers 'created'.
 */
import type { ObjectInfo, ObjectStore, PutIfAbsentOutcome } from '../../daemon/storage/object-store.js';

export class IgnoresConditionStore implements ObjectStore {
  readonly #inner: ObjectStore;

  constructor(inner: ObjectStore) {
    this.#inner = inner;
  }

  get kind() {
    return this.#inner.kind;
  }
  get displayUrl(): string {
    return this.#inner.displayUrl;
  }
  get localRoot(): string | undefined {
    return this.#inner.localRoot;
  }
  get(key: string): Promise<Uint8Array | undefined> {
    return this.#inner.get(key);
  }
  download(key: string, localPath: string): Promise<boolean> {
    return this.#inner.download(key, localPath);
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    return this.#inner.head(key);
  }
  list(prefix: string, options?: { readonly startAfter?: string }): AsyncIterable<ObjectInfo> {
    return this.#inner.list(prefix, options);
  }
  put(key: string, body: Uint8Array | string): Promise<void> {
    return this.#inner.put(key, body);
  }
  upload(localPath: string, key: string): Promise<void> {
    return this.#inner.upload(localPath, key);
  }
  async putIfAbsent(key: string, body: Uint8Array | string): Promise<PutIfAbsentOutcome> {
    await this.#inner.put(key, body);
    return 'created';
  }
  delete(keys: readonly string[]): Promise<void> {
    return this.#inner.delete(keys);
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}
