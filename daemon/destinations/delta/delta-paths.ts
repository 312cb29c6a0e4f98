/** Table locations and data file keys (RFC 2396 URIs relative to the table root, [P] §Data Files). */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtlError } from '../../../shared/errors.js';
import { FileStore } from '../../storage/file-store.js';
import type { ObjectStore } from '../../storage/object-store.js';

/** Resolves the configured `path`: `file://` URLs, absolute paths, or relative to the lake directory. */
export function resolveTablePath(path: string, lakeDir: string): string {
  if (/^file:/i.test(path)) return fileURLToPath(path);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new EtlError(
      'CONFIG_INVALID',
      `Delta path ${path}: only local directories and file:// URLs are supported`,
    );
  }
  return isAbsolute(path) ? resolve(path) : resolve(lakeDir, path);
}

/**
 * The store of a configured table `path`: the one place where a Delta destination's location
 * becomes an ObjectStore. Only local directories for now; the storage layer's URL factory
 * (`openObjectStore`: s3://, gs://, az://, abfss://) replaces this body.
 */
export function openTableStore(path: string, lakeDir: string): ObjectStore {
  return new FileStore(resolveTablePath(path, lakeDir));
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
