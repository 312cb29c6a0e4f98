/**
 * The `azure` store: Azure Blob Storage (and ADLS Gen2 accounts, through their Blob endpoint)
 * with @azure/storage-blob, loaded when the first Azure store opens.
 *
 * - putIfAbsent uploads with `If-None-Match: *`: 409 BlobAlreadyExists (or 412) means another
 *   writer has the key.
 * - upload sends a file of up to one part in one Put Blob, a larger one as blocks (Put Block of
 *   one part each, a few at once, then Put Block List) read from the file part by part, so memory
 *   stays at a few parts whatever the file's size.
 * - The storage SDK's own retry policy backs off without jitter, so it is set to one try and
 *   every request goes through `withRetries` instead (retry-policy.ts): 500, 503 (ServerBusy),
 *   429 and network errors, exponential backoff with full jitter.
 */
import type { BlobServiceClient, BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { randomUUID } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
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
  UPLOAD_CONCURRENCY,
  type ResolvedTuning,
  type StoreTuning,
} from './store-tuning.js';

/** How the client authenticates; secrets already resolved. */
export type AzureCredential =
  | { readonly type: 'connection-string'; readonly connectionString: string }
  | { readonly type: 'account-key'; readonly account: string; readonly key: string }
  | { readonly type: 'sas'; readonly token: string }
  /** DefaultAzureCredential (@azure/identity): environment, workload identity, managed identity, Azure CLI. */
  | { readonly type: 'default' };

export interface AzureStoreOptions {
  readonly container: string;
  readonly prefix: string;
  readonly displayUrl: string;
  /** The blob service URL (`https://account.blob.core.windows.net`, an emulator's `http://host:port/account`). */
  readonly serviceUrl: string;
  readonly credential: AzureCredential;
  readonly tuning?: StoreTuning;
}

interface RestError {
  readonly name?: string;
  readonly code?: string;
  readonly statusCode?: number;
  readonly message?: string;
}

function isRetryable(error: unknown): boolean {
  const { statusCode, name } = error as RestError;
  if (name === 'CredentialUnavailableError' || name === 'AuthenticationError') return false;
  if (statusCode === undefined) return (error as RestError).name === 'RestError';
  return statusCode === 429 || statusCode === 500 || statusCode === 503;
}

function classify(error: unknown): Failure {
  const { name = 'Error', code, statusCode, message = '' } = error as RestError;
  const detail = [code ?? name, statusCode].filter((part) => part !== undefined).join(' ');
  if (name === 'CredentialUnavailableError' || name === 'AggregateAuthenticationError')
    return { kind: 'no-credentials', detail: `${name}: ${message.split('\n')[0]}` };
  if (name === 'AuthenticationError' || statusCode === 401 || statusCode === 403)
    return { kind: 'permission', detail };
  if (code === 'ContainerNotFound') return { kind: 'no-bucket', detail };
  if (isRetryable(error)) return { kind: 'transient', detail: `${detail}: ${message.split('\n')[0]}` };
  return { kind: 'refused', detail: `${detail}: ${message.split('\n')[0]}` };
}

function isMissing(error: unknown): boolean {
  const { statusCode, code } = error as RestError;
  return statusCode === 404 && code !== 'ContainerNotFound';
}

async function serviceClient(options: AzureStoreOptions): Promise<BlobServiceClient> {
  const sdk = await import('@azure/storage-blob');
  // One try per request inside the SDK: withRetries does the retrying, with jitter.
  const pipelineOptions = { retryOptions: { maxTries: 1 } };
  const { credential } = options;
  switch (credential.type) {
    case 'connection-string':
      return sdk.BlobServiceClient.fromConnectionString(credential.connectionString, pipelineOptions);
    case 'account-key':
      return new sdk.BlobServiceClient(
        options.serviceUrl,
        new sdk.StorageSharedKeyCredential(credential.account, credential.key),
        pipelineOptions,
      );
    case 'sas': {
      const token = credential.token.replace(/^\?/, '');
      return new sdk.BlobServiceClient(`${options.serviceUrl}?${token}`, undefined, pipelineOptions);
    }
    case 'default': {
      const { DefaultAzureCredential } = await import('@azure/identity');
      return new sdk.BlobServiceClient(options.serviceUrl, new DefaultAzureCredential(), pipelineOptions);
    }
  }
}

export async function openAzureStore(options: AzureStoreOptions): Promise<ObjectStore> {
  const service = await serviceClient(options);
  return new AzureStore(
    service.getContainerClient(options.container),
    options,
    resolveTuning(options.tuning),
  );
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  if (stream === undefined) return new Uint8Array();
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

class AzureStore implements ObjectStore {
  readonly kind = 'azure' as const;
  readonly displayUrl: string;
  readonly localRoot = undefined;
  readonly #container: ContainerClient;
  readonly #root: string;
  readonly #tuning: ResolvedTuning;

  constructor(container: ContainerClient, options: AzureStoreOptions, tuning: ResolvedTuning) {
    this.#container = container;
    this.#root = keyRoot(options.prefix);
    this.displayUrl = options.displayUrl;
    this.#tuning = tuning;
  }

  #blob(key: string): BlockBlobClient {
    return this.#container.getBlockBlobClient(this.#root + key);
  }

  #retry<T>(attempt: () => Promise<T>): Promise<T> {
    return withRetries(attempt, this.#tuning.retry, isRetryable);
  }

  #fail(action: string, error: unknown): EtlError {
    if (error instanceof EtlError) return error;
    return storeError('azure', this.displayUrl, action, classify(error), error);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await this.#retry(async () => readAll((await this.#blob(key).download()).readableStreamBody));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.#fail(`reading ${key}`, error);
    }
  }

  async download(key: string, localPath: string): Promise<boolean> {
    try {
      await this.#retry(() => this.#blob(key).downloadToFile(localPath));
      return true;
    } catch (error) {
      await unlink(localPath).catch(() => undefined);
      if (isMissing(error)) return false;
      throw this.#fail(`downloading ${key} to ${localPath}`, error);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const properties = await this.#retry(() => this.#blob(key).getProperties());
      return {
        key,
        size: properties.contentLength ?? 0,
        lastModified: properties.lastModified ?? new Date(0),
        version: properties.etag ?? '',
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.#fail(`reading the metadata of ${key}`, error);
    }
  }

  async *list(prefix: string, options: { readonly startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    // The Blob API lists from the start of the prefix: keys up to startAfter are read and skipped.
    const startAfter = options.startAfter === undefined ? undefined : this.#root + options.startAfter;
    let marker: string | undefined;
    do {
      let page;
      try {
        // A fresh page iterator per page, so a retry asks for the same page again.
        page = await this.#retry(async () => {
          const result = await this.#container
            .listBlobsFlat({ prefix: this.#root + prefix })
            .byPage({
              maxPageSize: this.#tuning.listPageSize,
              ...(marker !== undefined ? { continuationToken: marker } : {}),
            })
            .next();
          return result.done === true ? undefined : result.value;
        });
      } catch (error) {
        throw this.#fail(`listing ${prefix === '' ? 'the objects' : `${prefix}*`}`, error);
      }
      if (page === undefined) return;
      for (const blob of page.segment.blobItems) {
        if (startAfter !== undefined && blob.name <= startAfter) continue;
        yield {
          key: blob.name.slice(this.#root.length),
          size: blob.properties.contentLength ?? 0,
          lastModified: blob.properties.lastModified,
          version: blob.properties.etag ?? '',
        };
      }
      marker = page.continuationToken === '' ? undefined : page.continuationToken;
    } while (marker !== undefined);
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    try {
      await this.#retry(() => this.#blob(key).upload(bytes, bytes.length));
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
    const partSize = this.#tuning.partSize;
    const parts = Math.ceil(size / partSize);
    // Block ids of one blob must all have the same length; a fresh tag per upload keeps a
    // concurrent upload's uncommitted blocks apart from these.
    const tag = randomUUID().slice(0, 8);
    const ids = Array.from({ length: parts }, (_, i) =>
      Buffer.from(`etld-${tag}-${String(i).padStart(6, '0')}`).toString('base64'),
    );
    const blob = this.#blob(key);
    const file = await open(localPath, 'r');
    try {
      await forEachLimited(
        ids.map((id, index) => ({ id, index })),
        UPLOAD_CONCURRENCY,
        async ({ id, index }) => {
          const length = Math.min(partSize, size - index * partSize);
          const chunk = Buffer.alloc(length);
          const { bytesRead } = await file.read(chunk, 0, length, index * partSize);
          if (bytesRead !== length)
            throw new EtlError('STAGING', `${localPath} changed while it was uploaded to ${key}`);
          await this.#retry(() => blob.stageBlock(id, chunk, length));
        },
      );
      await this.#retry(() => blob.commitBlockList(ids));
    } catch (error) {
      throw this.#fail(`uploading ${localPath} to ${key}`, error);
    } finally {
      await file.close();
    }
    this.#tuning.onUpload(key, parts);
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<PutIfAbsentOutcome> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    try {
      await this.#retry(() =>
        this.#blob(key).upload(bytes, bytes.length, { conditions: { ifNoneMatch: '*' } }),
      );
      return 'created';
    } catch (error) {
      const { statusCode, code } = error as RestError;
      if (statusCode !== 412 && code !== 'BlobAlreadyExists') throw this.#fail(`creating ${key}`, error);
    }
    // Taken: by another writer, or by an earlier try of this call whose answer was lost. The
    // bytes tell them apart.
    const current = await this.get(key);
    return current !== undefined && sameBytes(current, bytes) ? 'created' : 'exists';
  }

  async delete(keys: readonly string[]): Promise<void> {
    await forEachLimited(keys, DELETE_CONCURRENCY, async (key) => {
      try {
        await this.#retry(() => this.#blob(key).deleteIfExists());
      } catch (error) {
        throw this.#fail(`deleting ${key}`, error);
      }
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
