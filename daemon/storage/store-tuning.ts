/**
 * Knobs of the cloud stores that operators rarely touch (`storage.upload_part_size`) or that
 * tests turn (a small list page, so a listing of a few dozen objects spans pages; a fast retry
 * policy; a look at how an upload went).
 */
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';

export interface StoreTuning {
  /** Objects per list request (default 1000, the services' maximum). */
  readonly listPageSize?: number;
  /** Part (block, chunk) size of uploads; files larger than one part go multipart. */
  readonly partSize?: number;
  readonly retry?: RetryPolicy;
  /** Told how each `upload` went: in one request (1 part) or in `parts` parts. */
  readonly onUpload?: (key: string, parts: number) => void;
}

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** Parts uploaded at once: memory is about (this + 1) × part size per upload. */
export const UPLOAD_CONCURRENCY = 3;
/** Per-object deletes (GCS, Azure) in flight at once. */
export const DELETE_CONCURRENCY = 8;

export interface ResolvedTuning {
  readonly listPageSize: number;
  readonly partSize: number;
  readonly retry: RetryPolicy;
  readonly onUpload: (key: string, parts: number) => void;
}

export function resolveTuning(tuning: StoreTuning = {}): ResolvedTuning {
  return {
    listPageSize: tuning.listPageSize ?? 1000,
    partSize: tuning.partSize ?? DEFAULT_PART_SIZE,
    retry: tuning.retry ?? DEFAULT_RETRY_POLICY,
    onUpload: tuning.onUpload ?? (() => undefined),
  };
}

/** Keys under a store prefix: `prefix/key`, or `key` at the bucket's root. */
export function keyRoot(prefix: string): string {
  return prefix === '' ? '' : `${prefix}/`;
}

/** Runs `work` over `items` with at most `limit` in flight; the first failure stops the rest and is thrown. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Byte equality, for telling our own object apart from another writer's. */
export function sameBytes(a: Uint8Array, b: Uint8Array | string): boolean {
  const other = typeof b === 'string' ? new TextEncoder().encode(b) : b;
  return (
    a.length === other.length &&
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.length),
      Buffer.from(other.buffer, other.byteOffset, other.length),
    ) === 0
  );
}
