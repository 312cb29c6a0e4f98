/** Table locations and data file paths (RFC 2396 URIs relative to the table root, [P] §Data Files). */
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtlError } from '../../../shared/errors.js';

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

/** The local file an `add`/`remove` path refers to. */
export function dataFilePath(tablePath: string, logged: string): string {
  if (/^file:/i.test(logged)) return fileURLToPath(logged);
  if (/^[a-z][a-z0-9+.-]*:/i.test(logged)) {
    throw new EtlError(
      'DESTINATION_WRITE',
      `Delta table ${tablePath} references a non-local file ${logged}`,
      { retryable: false },
    );
  }
  return join(tablePath, decodeURIComponent(logged));
}
