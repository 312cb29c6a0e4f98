/**
 * The `s3` store: Amazon S3 and S3-compatible servers, through @aws-sdk/client-s3 (loaded when
 * the first S3 store opens, so a daemon without one never loads the SDK).
 *
 * - putIfAbsent is `PutObject` with `If-None-Match: *`: 412 means another writer has the key,
 *   409 ConditionalRequestConflict (a concurrent conditional write still in flight) is tried
 *   again after a backoff.
 * - upload sends a file of up to one part in one PutObject (read into memory, so the SDK can
 *   retry it), a larger one as a multipart upload (@aws-sdk/lib-storage) streamed from the file.
 * - Every request is retried inside the SDK with etld's policy (retry-policy.ts): throttling
 *   (SlowDown, 503), 5xx and network errors, exponential backoff with full jitter.
 */
import type * as S3 from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { Upload } from '@aws-sdk/lib-storage';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EtlError } from '../../shared/errors.js';
import type { ObjectInfo, ObjectStore, PutIfAbsentOutcome } from './object-store.js';
import { backoffDelay, type RetryPolicy } from './retry-policy.js';
import { storeError, uploadSize, type Failure } from './store-errors.js';
import {
  keyRoot,
  resolveTuning,
  sameBytes,
  UPLOAD_CONCURRENCY,
  type ResolvedTuning,
  type StoreTuning,
} from './store-tuning.js';

type S3Sdk = typeof S3;
type UploadClass = typeof Upload;

export interface S3StoreOptions {
  readonly bucket: string;
  readonly prefix: string;
  readonly displayUrl: string;
  readonly region?: string;
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  /** Explicit keys; without them the SDK's default chain (env, ~/.aws, SSO, instance role). */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  readonly tuning?: StoreTuning;
}

/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;
/** 409 ConditionalRequestConflict answers tolerated for one putIfAbsent before it fails. */
const MAX_CONDITIONAL_CONFLICTS = 8;

const PERMISSION_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'AccountProblem',
]);
const THROTTLING_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequests',
]);

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
}

function statusOf(error: unknown): number | undefined {
  return (error as SdkError).$metadata?.httpStatusCode;
}

function classify(error: unknown): Failure {
  const { name = 'Error', message = '' } = error as SdkError;
  const status = statusOf(error);
  const attempts = (error as SdkError).$metadata?.attempts;
  const detail = `${name}${status === undefined ? '' : ` ${status}`}${attempts === undefined || attempts < 2 ? '' : `, ${attempts} attempts`}`;
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message))
    return { kind: 'no-credentials', detail: `${detail}: ${message}` };
  if (/region is missing/i.test(message))
    return { kind: 'misconfigured', detail: 'no region: set storage.region or AWS_REGION' };
  if (status === 401 || status === 403 || PERMISSION_CODES.has(name)) return { kind: 'permission', detail };
  if (name === 'NoSuchBucket') return { kind: 'no-bucket', detail };
  if (status === undefined || status >= 500 || status === 429 || THROTTLING_CODES.has(name))
    return { kind: 'transient', detail: status === undefined ? `${detail}: ${message}` : detail };
  return { kind: 'refused', detail: message === '' ? detail : `${detail}: ${message}` };
}

/**
 * The SDK's RetryStrategyV2 contract, met with etld's policy: retry what the SDK classifies as
 * throttling, transient or a server error; give up after `maxAttempts` tries.
 */
function retryStrategy(policy: RetryPolicy): NonNullable<S3ClientConfig['retryStrategy']> {
  interface Token {
    getRetryCount(): number;
    getRetryDelay(): number;
  }
  const token = (count: number, delay: number): Token => ({
    getRetryCount: () => count,
    getRetryDelay: () => delay,
  });
  return {
    mode: 'standard',
    acquireInitialRetryToken: () => Promise.resolve(token(0, 0)),
    refreshRetryTokenForRetry: (previous: Token, info: { errorType: string }) => {
      const retries = previous.getRetryCount() + 1;
      if (retries >= policy.maxAttempts || info.errorType === 'CLIENT_ERROR')
        return Promise.reject(new Error('no retry'));
      return Promise.resolve(token(retries, backoffDelay(retries, policy)));
    },
    recordSuccess: () => undefined,
  };
}

function isStatus(error: unknown, status: number, name: string): boolean {
  return statusOf(error) === status || (error as SdkError).name === name;
}

export async function openS3Store(options: S3StoreOptions): Promise<ObjectStore> {
  const sdk = await import('@aws-sdk/client-s3');
  const { Upload } = await import('@aws-sdk/lib-storage');
  const tuning = resolveTuning(options.tuning);
  const client = new sdk.S3Client({
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    followRegionRedirects: true,
    // Checksums only where the API demands them: S3-compatible servers differ in what they accept.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: tuning.retry.maxAttempts,
    retryStrategy: retryStrategy(tuning.retry),
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  });
  return new S3Store(sdk, Upload, client, options, tuning);
}

class S3Store implements ObjectStore {
  readonly kind = 's3' as const;
  readonly displayUrl: string;
  readonly localRoot = undefined;
  readonly #sdk: S3Sdk;
  readonly #upload: UploadClass;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #root: string;
  readonly #tuning: ResolvedTuning;

  constructor(
    sdk: S3Sdk,
    upload: UploadClass,
    client: S3Client,
    options: S3StoreOptions,
    tuning: ResolvedTuning,
  ) {
    this.#sdk = sdk;
    this.#upload = upload;
    this.#client = client;
    this.#bucket = options.bucket;
    this.#root = keyRoot(options.prefix);
    this.displayUrl = options.displayUrl;
    this.#tuning = tuning;
  }

  #key(key: string): string {
    return this.#root + key;
  }

  #fail(action: string, error: unknown): EtlError {
    if (error instanceof EtlError) return error;
    const failure = classify(error);
    return storeError('s3', this.displayUrl, action, failure, error);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.#client.send(
        new this.#sdk.GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }),
      );
      return out.Body === undefined ? new Uint8Array() : await out.Body.transformToByteArray();
    } catch (error) {
      if (isStatus(error, 404, 'NoSuchKey')) return undefined;
      throw this.#fail(`reading ${key}`, error);
    }
  }

  async download(key: string, localPath: string): Promise<boolean> {
    let body: Readable;
    try {
      const out = await this.#client.send(
        new this.#sdk.GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }),
      );
      body = out.Body as Readable;
    } catch (error) {
      if (isStatus(error, 404, 'NoSuchKey')) return false;
      throw this.#fail(`reading ${key}`, error);
    }
    try {
      await pipeline(body, createWriteStream(localPath));
      return true;
    } catch (error) {
      await unlink(localPath).catch(() => undefined);
      throw this.#fail(`downloading ${key} to ${localPath}`, error);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.#client.send(
        new this.#sdk.HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }),
      );
      return {
        key,
        size: out.ContentLength ?? 0,
        lastModified: out.LastModified ?? new Date(0),
        version: out.ETag ?? '',
      };
    } catch (error) {
      if (isStatus(error, 404, 'NotFound')) return undefined;
      throw this.#fail(`reading the metadata of ${key}`, error);
    }
  }

  async *list(prefix: string, options: { readonly startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    let continuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.#client.send(
          new this.#sdk.ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#key(prefix),
            MaxKeys: this.#tuning.listPageSize,
            ...(continuationToken !== undefined
              ? { ContinuationToken: continuationToken }
              : options.startAfter !== undefined
                ? { StartAfter: this.#key(options.startAfter) }
                : {}),
          }),
        );
      } catch (error) {
        throw this.#fail(`listing ${prefix === '' ? 'the objects' : `${prefix}*`}`, error);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key.slice(this.#root.length),
          size: object.Size ?? 0,
          lastModified: object.LastModified ?? new Date(0),
          version: object.ETag ?? '',
        };
      }
      continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    try {
      await this.#client.send(
        new this.#sdk.PutObjectCommand({ Bucket: this.#bucket, Key: this.#key(key), Body: body }),
      );
    } catch (error) {
      throw this.#fail(`writing ${key}`, error);
    }
  }

  async upload(localPath: string, key: string): Promise<void> {
    const action = `uploading ${localPath} to ${key}`;
    const size = await uploadSize(this.displayUrl, localPath);
    if (size <= this.#tuning.partSize) {
      // One part at most: a buffer (bounded by the part size) the SDK can send again on a retry.
      await this.put(key, await readFile(localPath));
      this.#tuning.onUpload(key, 1);
      return;
    }
    let parts = 0;
    try {
      const upload = new this.#upload({
        client: this.#client,
        params: { Bucket: this.#bucket, Key: this.#key(key), Body: createReadStream(localPath) },
        partSize: this.#tuning.partSize,
        queueSize: UPLOAD_CONCURRENCY,
        leavePartsOnError: false,
      });
      upload.on('httpUploadProgress', (progress) => {
        parts = Math.max(parts, progress.part ?? 0);
      });
      await upload.done();
    } catch (error) {
      throw this.#fail(action, error);
    }
    this.#tuning.onUpload(key, parts);
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<PutIfAbsentOutcome> {
    for (let conflicts = 0; ; conflicts++) {
      try {
        await this.#client.send(
          new this.#sdk.PutObjectCommand({
            Bucket: this.#bucket,
            Key: this.#key(key),
            Body: body,
            IfNoneMatch: '*',
          }),
        );
        return 'created';
      } catch (error) {
        if (isStatus(error, 412, 'PreconditionFailed')) return this.#existing(key, body);
        const conflict = isStatus(error, 409, 'ConditionalRequestConflict');
        if (!conflict || conflicts >= MAX_CONDITIONAL_CONFLICTS) throw this.#fail(`creating ${key}`, error);
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(conflicts + 1, this.#tuning.retry)));
      }
    }
  }

  /**
   * The key is taken: by another writer, or by this call's own earlier attempt whose answer was
   * lost and that the SDK sent again. The bytes tell them apart.
   */
  async #existing(key: string, body: Uint8Array | string): Promise<PutIfAbsentOutcome> {
    const current = await this.get(key);
    return current !== undefined && sameBytes(current, body) ? 'created' : 'exists';
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      let out;
      try {
        out = await this.#client.send(
          new this.#sdk.DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.#key(key) })), Quiet: true },
          }),
        );
      } catch (error) {
        throw this.#fail(`deleting ${batch.length} objects (${batch[0]}…)`, error);
      }
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0];
        const key = first?.Key?.slice(this.#root.length) ?? '?';
        const code = first?.Code ?? 'Error';
        const kind = PERMISSION_CODES.has(code)
          ? 'permission'
          : code === 'SlowDown' || code === 'InternalError'
            ? 'transient'
            : 'refused';
        throw storeError(
          's3',
          this.displayUrl,
          `deleting ${key} (and ${failed.length - 1} more)`,
          { kind, detail: code },
          out.Errors,
        );
      }
    }
  }

  close(): Promise<void> {
    this.#client.destroy();
    return Promise.resolve();
  }
}
