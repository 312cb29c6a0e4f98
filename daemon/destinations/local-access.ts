/**
 * Local file-system permissions for `etlctl test` (DuckDB files, Delta tables on a local path),
 * asked with access(2) as the daemon's user and never by creating anything: a directory a run
 * would create is judged by its nearest existing ancestor. A root daemon is told what root may do:
 * everything, but on a read-only file system or under a path that is not a directory.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EtlError } from '../../shared/errors.js';

export function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'unknown';
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
}

/** The directory itself, or its nearest existing ancestor (a run creates the rest). */
async function nearestExisting(dir: string): Promise<string> {
  let at = dir;
  while (!(await pathExists(at))) {
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  return at;
}

/**
 * Whether `dir` (or, when missing, its nearest existing ancestor) is a directory the daemon may
 * create files in; resolves with a sentence saying so, throws DESTINATION_PERMISSION naming the
 * directory otherwise. `purpose` says what a run writes there.
 */
export async function writableDirectory(dir: string, purpose: string): Promise<string> {
  const existing = await nearestExisting(dir);
  const info = await stat(existing);
  if (!info.isDirectory())
    throw new EtlError(
      'DESTINATION_PERMISSION',
      `${existing} is not a directory, so ${dir} cannot be created (${purpose})`,
      { retryable: false },
    );
  try {
    await access(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new EtlError(
      'DESTINATION_PERMISSION',
      `directory ${existing} is not writable by the daemon's user (${errnoOf(error)}): ${purpose}`,
      { retryable: false },
    );
  }
  return existing === dir
    ? `directory ${dir} is writable`
    : `${dir} does not exist; ${existing} is writable, so the first run creates it`;
}

/** Throws DESTINATION_PERMISSION when the daemon's user may not read and write `file`. */
export async function writableFile(file: string): Promise<void> {
  try {
    await access(file, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw new EtlError(
      'DESTINATION_PERMISSION',
      `${file} is not writable by the daemon's user (${errnoOf(error)})`,
      { retryable: false },
    );
  }
}
