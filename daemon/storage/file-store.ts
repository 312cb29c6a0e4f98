/**
 * The `file` store: a local directory. Objects are files under the root; `putIfAbsent` writes a
 * temp file, fsyncs it and hard-links it to its final name (`link` fails with EEXIST when the name
 * is taken), which is what object_store's LocalFileSystem does for delta-rs, so the two writers
 * exclude each other. File systems without hard links (SMB, some FUSE) fail the commit rather than
 * risk an overwrite.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { EtlError } from '../../shared/errors.js';
import type { ObjectInfo, ObjectStore, PutIfAbsentOutcome } from './object-store.js';

function isMissing(cause: unknown): boolean {
  const code = (cause as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function writeError(path: string, cause: unknown): EtlError {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new EtlError('DESTINATION_QUOTA', `cannot write ${path}: no space left`, { cause });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new EtlError('DESTINATION_PERMISSION', `cannot write ${path}: ${(cause as Error).message}`, {
      cause,
    });
  return new EtlError('DESTINATION_WRITE', `cannot write ${path}: ${(cause as Error).message}`, { cause });
}

/** fsync of a file or directory (directories are opened read-only, which Linux allows). */
async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class FileStore implements ObjectStore {
  readonly kind = 'file' as const;
  readonly displayUrl: string;
  readonly localRoot: string;

  constructor(root: string) {
    this.localRoot = root;
    this.displayUrl = root;
  }

  #path(key: string): string {
    return join(this.localRoot, ...key.split('/'));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.#path(key));
    } catch (cause) {
      if (isMissing(cause)) return undefined;
      throw cause;
    }
  }

  async download(key: string, localPath: string): Promise<boolean> {
    try {
      await copyFile(this.#path(key), localPath);
      return true;
    } catch (cause) {
      if (isMissing(cause)) return false;
      throw cause;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.#path(key));
      if (!info.isFile()) return undefined;
      return { key, size: info.size, lastModified: info.mtime, version: `${info.mtimeMs}-${info.size}` };
    } catch (cause) {
      if (isMissing(cause)) return undefined;
      throw cause;
    }
  }

  async *list(prefix: string, options: { readonly startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    // Walk only the directory the prefix names (`_delta_log/` lists one directory, not the table).
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash + 1);
    for await (const key of this.#walk(base)) {
      if (!key.startsWith(prefix)) continue;
      if (options.startAfter !== undefined && key <= options.startAfter) continue;
      const info = await this.head(key);
      if (info !== undefined) yield info;
    }
  }

  /** Keys under `base` in lexicographic order (directories are visited where their name sorts). */
  async *#walk(base: string): AsyncGenerator<string> {
    let entries;
    try {
      entries = await readdir(base === '' ? this.localRoot : this.#path(base.slice(0, -1)), {
        withFileTypes: true,
      });
    } catch (cause) {
      if (isMissing(cause)) return;
      throw cause;
    }
    // Sort by the key each entry contributes: a directory `a` sorts as `a/`.
    const named = entries
      .filter((entry) => entry.isFile() || entry.isDirectory())
      .map((entry) => ({ entry, sortKey: entry.isDirectory() ? `${entry.name}/` : entry.name }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const { entry } of named) {
      if (entry.isDirectory()) yield* this.#walk(`${base}${entry.name}/`);
      else yield `${base}${entry.name}`;
    }
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const final = this.#path(key);
    const temp = join(dirname(final), `.tmp-${randomUUID()}`);
    try {
      await mkdir(dirname(final), { recursive: true });
      await this.#writeSynced(temp, body);
      // rename replaces atomically: a reader sees the old object or the new one, never a part.
      await rename(temp, final);
    } catch (cause) {
      await unlink(temp).catch(() => undefined);
      throw writeError(final, cause);
    }
  }

  async upload(localPath: string, key: string): Promise<void> {
    const final = this.#path(key);
    const temp = join(dirname(final), `.tmp-${randomUUID()}`);
    try {
      await mkdir(dirname(final), { recursive: true });
      await pipeline(createReadStream(localPath), createWriteStream(temp, { flags: 'wx' }));
      await fsyncPath(temp);
      await rename(temp, final);
      await fsyncPath(dirname(final));
    } catch (cause) {
      await unlink(temp).catch(() => undefined);
      throw writeError(final, cause);
    }
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<PutIfAbsentOutcome> {
    const final = this.#path(key);
    const dir = dirname(final);
    const temp = join(dir, `.tmp-${randomUUID()}`);
    try {
      await mkdir(dir, { recursive: true });
      await this.#writeSynced(temp, body);
    } catch (cause) {
      await unlink(temp).catch(() => undefined);
      throw writeError(final, cause);
    }
    try {
      await link(temp, final);
      // The new directory entry is what makes the object exist: flush it as well.
      await fsyncPath(dir);
      return 'created';
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw writeError(final, cause);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async #writeSynced(path: string, body: Uint8Array | string): Promise<void> {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) await rm(this.#path(key), { force: true });
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}
