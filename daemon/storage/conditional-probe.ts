/**
 * Does the store honour conditional writes? Delta commits are exclusive only because
 * `putIfAbsent` refuses a taken key; some S3-compatible servers accept `If-None-Match: *` and
 * overwrite anyway, and two writers would then both "win" the same version. The probe writes a
 * throw-away object with putIfAbsent twice: the second must answer 'exists'.
 *
 * A store that ignores the condition is refused (CONFIG_INVALID, not retried: an operator has to
 * decide) unless the destination says `storage.single_writer: true`. The verdict is kept per store
 * instance, so a destination that opens its store once probes once. A local directory is not
 * probed: its putIfAbsent is a hard link, which the kernel makes exclusive.
 */
import { randomUUID } from 'node:crypto';
import { EtlError } from '../../shared/errors.js';
import type { ObjectStore } from './object-store.js';

export type ConditionalWrites =
  /** The store refused the second write: commits exclude each other. */
  | 'honoured'
  /** The store overwrote, and `single_writer` accepted it. */
  | 'ignored-single-writer';

const verdicts = new WeakMap<ObjectStore, Promise<boolean>>();

async function probe(store: ObjectStore, prefix: string): Promise<boolean> {
  const id = randomUUID();
  const key = `${prefix}.etld-probe-${id}`;
  try {
    // Different bytes each time: putIfAbsent counts a taken key holding its own bytes as its own.
    const first = await store.putIfAbsent(key, `etld conditional-write probe ${id}: first\n`);
    if (first !== 'created')
      throw new EtlError(
        'DESTINATION_WRITE',
        `${store.displayUrl}: the probe object ${key} existed before it was written`,
      );
    return (await store.putIfAbsent(key, `etld conditional-write probe ${id}: second\n`)) === 'exists';
  } finally {
    await store.delete([key]);
  }
}

/**
 * Checks once per store that conditional writes are honoured. `prefix` is where the probe object
 * goes (default `_delta_log/`, where the commits it stands for go). Throws CONFIG_INVALID when the
 * store ignores them and `singleWriter` is false.
 */
export async function checkConditionalWrites(
  store: ObjectStore,
  options: { readonly singleWriter: boolean; readonly prefix?: string },
): Promise<ConditionalWrites> {
  if (store.kind === 'file') return 'honoured';
  let verdict = verdicts.get(store);
  if (verdict === undefined) {
    verdict = probe(store, options.prefix ?? '_delta_log/');
    verdicts.set(store, verdict);
    // A failed probe (throttled, no permission) says nothing about the store: try again next time.
    void verdict.catch(() => verdicts.delete(store));
  }
  if (await verdict) return 'honoured';
  if (options.singleWriter) return 'ignored-single-writer';
  throw new EtlError(
    'CONFIG_INVALID',
    `store ${store.displayUrl} does not honour conditional writes (If-None-Match): a second put-if-absent of one key overwrote it, so concurrent commits could overwrite each other; set storage.single_writer: true only if no other writer ever commits to this table`,
    { retryable: false },
  );
}
