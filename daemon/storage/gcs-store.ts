/**
 * The `gcs` store: Google Cloud Storage through @google-cloud/storage (loaded when the first GCS
 * store opens).
 *
 * - putIfAbsent uploads with `ifGenerationMatch=0` (only if no live generation exists): 412
 *   means another writer has the key.
 * - upload sends a file of up to one part in one request, a larger one as a resumable upload in
 *   chunks of the part size, streamed from the file.
 * - Requests are retried inside the SDK (429, 5xx, network errors) with exponential backoff and
 *   the SDK's jitter, every request counted as idempotent: a conditional upload is safe to send
 *   again (its precondition makes a second landing impossible), and a plain put or delete of the
 *   same object is too. Downloads are the exception: the SDK's own retry of a download stream
 *   leaves an unhandled rejection behind (teeny-request pipes into the stream it destroyed), which
 *   would take the daemon down; they go through a client without retries, inside `withRetries`.
 */
import type { Bucket, File, Storage } from '@google-cloud/storage';
import { createReadStream } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { EtlError } from '../../shared/errors.js';
import type { ObjectInfo, ObjectStore, PutIfAbsentOutcome } from './object-store.js';
import { withRetries } from './retry-policy.js';
import { storeError, uploadSize, type Failure } from './store-errors.js';
import {
  DELETE_CONCURRENCY,
  forEachLimited,
  keyRoot,
  resolveTuning,
  sameBytes,
  type ResolvedTuning,
  type StoreTuning,
} from './store-tuning.js';

export interface GcsStoreOptions {
  readonly bucket: string;
  readonly prefix: string;
  readonly displayUrl: string;
  /** JSON API root of an emulator or a private endpoint. */
  readonly endpoint?: string;
  readonly projectId?: string;
  /** A service account key (parsed JSON); without it Application Default Credentials. */
  readonly credentials?: Record<string, unknown>;
  readonly tuning?: StoreTuning;
}

interface ApiError {
  readonly code?: number | string;
  readonly message?: string;
  readonly errors?: readonly { readonly reason?: string }[];
}

function statusOf(error: unknown): number | undefined {
  const code = (error as ApiError).code;
  return typeof code === 'number' ? code : undefined;
}

function isRetryable(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined) return true; // a network error: no answer at all
  return status === 408 || status === 429 || status >= 500;
}

function classify(error: unknown): Failure {
  const { message = '', errors } = error as ApiError;
  const status = statusOf(error);
  const reason = errors?.[0]?.reason;
  const detail = [reason ?? (error as Error).name, status].filter((part) => part !== undefined).join(' ');
  if (/could not load the default credentials|unable to detect a project id/i.test(message))
    return { kind: 'no-credentials', detail: message };
  if (status === 401 || status === 403) return { kind: 'permission', detail };
  if (status === undefined || isRetryable(error))
    return { kind: 'transient', detail: `${detail}: ${message}` };
  return { kind: 'refused', detail: `${detail}: ${message}` };
}

export async function openGcsStore(options: GcsStoreOptions): Promise<ObjectStore> {
  const { Storage, IdempotencyStrategy } = await import('@google-cloud/storage');
  const tuning = resolveTuning(options.tuning);
  const settings = {
    ...(options.endpoint !== undefined
      ? // An emulator takes no credentials; a private endpoint with a key file gets them.
        { apiEndpoint: options.endpoint, useAuthWithCustomEndpoint: options.credentials !== undefined }
      : {}),
    ...(options.projectId !== undefined ? { projectId: options.projectId } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
  const storage = new Storage({
    ...settings,
    retryOptions: {
      autoRetry: true,
      maxRetries: tuning.retry.maxAttempts - 1,
      retryDelayMultiplier: 2,
      // Seconds; the SDK's first delay is about one second, so its ceiling cannot be lower.
      maxRetryDelay: Math.max(2, tuning.retry.maxDelayMs / 1000),
      totalTimeout: 600,
      idempotencyStrategy: IdempotencyStrategy.RetryAlways,
      retryableErrorFn: isRetryable,
    },
  });
  const downloads = new Storage({ ...settings, retryOptions: { autoRetry: false } });
  return new GcsStore(storage, downloads, options, tuning);
}

class GcsStore implements ObjectStore {
  readonly kind = 'gcs' as const;
  readonly displayUrl: string;
  readonly localRoot = undefined;
  readonly #bucket: Bucket;
  readonly #downloads: Bucket;
  readonly #root: string;
  readonly #tuning: ResolvedTuning;

  constructor(storage: Storage, downloads: Storage, options: GcsStoreOptions, tuning: ResolvedTuning) {
    this.#bucket = storage.bucket(options.bucket);
    this.#downloads = downloads.bucket(options.bucket);
    this.#root = keyRoot(options.prefix);
    this.displayUrl = options.displayUrl;
    this.#tuning = tuning;
  }

  #file(key: string): File {
    return this.#bucket.file(this.#root + key);
  }

  #fail(action: string, error: unknown): EtlError {
    if (error instanceof EtlError) return error;
    const failure = classify(error);
    // On an object request, 404 is the object's; anywhere else it is the bucket's.
    const noBucket =
      statusOf(error) === 404 ? { kind: 'no-bucket' as const, detail: failure.detail } : failure;
    return storeError('gcs', this.displayUrl, action, noBucket, error);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const [body] = await withRetries(
        () => this.#downloads.file(this.#root + key).download(),
        this.#tuning.retry,
        isRetryable,
      );
      return body;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.#fail(`reading ${key}`, error);
    }
  }

  async download(key: string, localPath: string): Promise<boolean> {
    try {
      await withRetries(
        () => this.#downloads.file(this.#root + key).download({ destination: localPath }),
        this.#tuning.retry,
        isRetryable,
      );
      return true;
    } catch (error) {
      await unlink(localPath).catch(() => undefined);
      if (statusOf(error) === 404) return false;
      throw this.#fail(`downloading ${key} to ${localPath}`, error);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const [metadata] = await this.#file(key).getMetadata();
      return this.#info(key, metadata);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.#fail(`reading the metadata of ${key}`, error);
    }
  }

  #info(
    key: string,
    metadata: { size?: string | number; updated?: string; generation?: string | number },
  ): ObjectInfo {
    return {
      key,
      size: Number(metadata.size ?? 0),
      lastModified: new Date(metadata.updated ?? 0),
      version: String(metadata.generation ?? ''),
    };
  }

  async *list(prefix: string, options: { readonly startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    const startAfter = options.startAfter === undefined ? undefined : this.#root + options.startAfter;
    let pageToken: string | undefined;
    do {
      let files: File[];
      let next: { pageToken?: string } | null | undefined;
      try {
        [files, next] = await this.#bucket.getFiles({
          prefix: this.#root + prefix,
          maxResults: this.#tuning.listPageSize,
          autoPaginate: false,
          // startOffset is inclusive: the key equal to startAfter is skipped below.
          ...(startAfter !== undefined ? { startOffset: startAfter } : {}),
          ...(pageToken !== undefined ? { pageToken } : {}),
        });
      } catch (error) {
        throw this.#fail(`listing ${prefix === '' ? 'the objects' : `${prefix}*`}`, error);
      }
      for (const file of files) {
        if (file.name === startAfter) continue;
        yield this.#info(file.name.slice(this.#root.length), file.metadata);
      }
      pageToken = next?.pageToken;
    } while (pageToken !== undefined);
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    try {
      await this.#file(key).save(typeof body === 'string' ? body : Buffer.from(body), { resumable: false });
    } catch (error) {
      throw this.#fail(`writing ${key}`, error);
    }
  }

  async upload(localPath: string, key: string): Promise<void> {
    const size = await uploadSize(this.displayUrl, localPath);
    if (size <= this.#tuning.partSize) {
      await this.put(key, await readFile(localPath));
      this.#tuning.onUpload(key, 1);
      return;
    }
    try {
      // A resumable upload sends one chunk per request, each buffered (at most the part size).
      await pipeline(
        createReadStream(localPath),
        this.#file(key).createWriteStream({ resumable: true, chunkSize: this.#tuning.partSize }),
      );
    } catch (error) {
      throw this.#fail(`uploading ${localPath} to ${key}`, error);
    }
    this.#tuning.onUpload(key, Math.ceil(size / this.#tuning.partSize));
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<PutIfAbsentOutcome> {
    try {
      await this.#file(key).save(typeof body === 'string' ? body : Buffer.from(body), {
        resumable: false,
        preconditionOpts: { ifGenerationMatch: 0 },
      });
      return 'created';
    } catch (error) {
      if (statusOf(error) !== 412) throw this.#fail(`creating ${key}`, error);
    }
    // Taken: by another writer, or by an earlier attempt of this call whose answer was lost and
    // that the SDK sent again. The bytes tell them apart.
    const current = await this.get(key);
    return current !== undefined && sameBytes(current, body) ? 'created' : 'exists';
  }

  async delete(keys: readonly string[]): Promise<void> {
    await forEachLimited(keys, DELETE_CONCURRENCY, async (key) => {
      try {
        await this.#file(key).delete({ ignoreNotFound: true });
      } catch (error) {
        throw this.#fail(`deleting ${key}`, error);
      }
    });
  }

  close(): Promise<void> {
    // The SDK keeps no connection that outlives a request's keep-alive.
    return Promise.resolve();
  }
}
