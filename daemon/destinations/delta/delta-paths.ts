/** Table locations and data file keys (RFC 2396 URIs relative to the table root, [P] §Data Files). */
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtlError } from '../../../shared/errors.js';
import type { StorageConfig } from '../../../shared/config/storage-schema.js';
import type { SecretEnvironment } from '../../config/secrets.js';
import { lazyObjectStore } from '../../storage/lazy-store.js';
import type { ObjectStore } from '../../storage/object-store.js';

/**
 * The store of a Delta destination: the one place where a configured location becomes an
 * ObjectStore. A local path or file:// URL is a directory used in place; s3://, gs://, az://,
 * abfss:// (storage-url.ts) open their store, with the `storage:` block's endpoint and
 * credentials, on first use.
 */
export function openTableStore(
  config: { readonly path: string; readonly storage?: StorageConfig | undefined },
  context: { readonly lakeDir: string; readonly secrets?: SecretEnvironment | undefined },
): ObjectStore {
  return lazyObjectStore(config.path, config.storage, {
    baseDir: context.lakeDir,
    // Without the daemon's secret environment, only each cloud's own credential chain applies.
    secrets: context.secrets ?? { env: {} },
  });
}

function outside(table: string, logged: string): EtlError {
  return new EtlError(
    'DESTINATION_WRITE',
    `Delta table ${table} references a file outside the table: ${logged}`,
    {
      retryable: false,
    },
  );
}

/**
 * The store key an `add`/`remove` path refers to. Relative paths are percent-decoded; an absolute
 * `file:` URL is accepted when it lies inside a `file` store's directory. Anything that would leave
 * the table (`..`, other schemes) is refused.
 */
export function dataFileKey(store: ObjectStore, logged: string): string {
  if (/^file:/i.test(logged)) {
    const root = store.localRoot;
    if (root === undefined) throw outside(store.displayUrl, logged);
    const rel = relative(root, fileURLToPath(logged));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw outside(store.displayUrl, logged);
    return rel.split(sep).join('/');
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(logged)) throw outside(store.displayUrl, logged);
  const key = decodeURIComponent(logged);
  const segments = key.split('/');
  if (key.startsWith('/') || segments.some((s) => s === '..' || s === '.' || s === ''))
    throw outside(store.displayUrl, logged);
  return key;
}
