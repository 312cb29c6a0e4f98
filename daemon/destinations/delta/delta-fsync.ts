/**
 * Durability before a Delta commit: the Parquet files a commit references, and the directories
 * holding them, are flushed to disk before the commit file is linked, and the log directory after
 * it. Without this a power cut could leave a committed version that points at a truncated or
 * missing data file (the commit file itself was always synced).
 */
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsync of a file or directory (directories are opened read-only, which Linux allows). */
async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Flushes `files`, each directory that holds one, and the directories between those and `root`
 * (a partition directory created by this commit is an entry of its parent).
 */
export async function fsyncFilesAndDirectories(root: string, files: readonly string[]): Promise<void> {
  await Promise.all(files.map(fsyncPath));
  const directories = new Set<string>([root]);
  for (const file of files) {
    for (let dir = dirname(file); dir.startsWith(root) && dir !== root; dir = dirname(dir))
      directories.add(dir);
  }
  await Promise.all([...directories].map(fsyncPath));
}
