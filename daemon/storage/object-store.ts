/**
 * The storage layer: one interface over a local directory, S3, Google Cloud Storage and Azure
 * Blob, used by the Delta destination (table files and `_delta_log`) and by file sources.
 *
 * A store is rooted at a URL (`s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`,
 * `abfss://container@account.dfs.core.windows.net/prefix`, `file:///dir` or a plain path). Keys
 * are relative to that root, `/`-separated, never starting with `/` (`_delta_log/00…01.json`,
 * `part-00000-….parquet`, `day=2026-12-01/part-….parquet`).
 *
 * Failures are `EtlError`s: `DESTINATION_PERMISSION` (403, missing credentials), `DESTINATION_WRITE`
 * (retryable when the store throttled or failed with 5xx after the store's own retries),
 * `DESTINATION_QUOTA` (out of space). A missing object is never an error: `get`/`head` return
 * undefined, `delete` ignores it.
 */

export type StoreKind = 'file' | 's3' | 'gcs' | 'azure';

export interface ObjectInfo {
  /** Relative to the store's root. */
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
  /** ETag (S3, Azure), generation (GCS) or `mtimeMs-size` (file): changes when the object does. */
  readonly version: string;
}

/** What `putIfAbsent` found: the object was created by this call, or it existed already. */
export type PutIfAbsentOutcome = 'created' | 'exists';

export interface ObjectStore {
  readonly kind: StoreKind;
  /** The root as an operator wrote it, without credentials: for messages and logs. */
  readonly displayUrl: string;
  /**
   * The local directory behind a `file` store, so DuckDB reads and writes its files in place;
   * undefined for object stores, whose files go through `download`/`upload`.
   */
  readonly localRoot: string | undefined;

  /** The whole object, or undefined when it does not exist. For small objects (log, JSON). */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Streams the object to a local file (created or truncated); false when it does not exist. */
  download(key: string, localPath: string): Promise<boolean>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /**
   * Objects whose key starts with `prefix`, in lexicographic key order, paginated underneath so
   * memory stays bounded however many there are. `startAfter` skips keys up to and including it.
   */
  list(prefix: string, options?: { readonly startAfter?: string }): AsyncIterable<ObjectInfo>;
  /** Writes (or replaces) a small object. */
  put(key: string, body: Uint8Array | string): Promise<void>;
  /** Streams a local file to the store (multipart / block upload when large); replaces. */
  upload(localPath: string, key: string): Promise<void>;
  /**
   * Creates the object only if no object has that key, atomically against every other writer that
   * uses this call (S3 `If-None-Match: *`, GCS `ifGenerationMatch=0`, Azure `If-None-Match: *`,
   * hard link on a file system). Readers never see a partial object.
   */
  putIfAbsent(key: string, body: Uint8Array | string): Promise<PutIfAbsentOutcome>;
  /** Deletes the objects; missing ones are ignored. Batched underneath where the store can. */
  delete(keys: readonly string[]): Promise<void>;
  /** Releases clients and sockets. */
  close(): Promise<void>;
}
