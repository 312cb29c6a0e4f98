import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DeltaFiles } from '../../daemon/destinations/delta/delta-files.js';
import { FileStore } from '../../daemon/storage/file-store.js';
import { REPO_ROOT } from '../helpers/repo-paths.js';

export const repoRoot = REPO_ROOT;

/** The shared, read-only Delta fixture tables (`../shared/fixtures/delta` next to the repository). */
const fixturesDir = resolve(repoRoot, '..', 'shared', 'fixtures', 'delta');

export function fixture(...parts: string[]): string {
  return join(fixturesDir, ...parts);
}

/** A temp directory removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `etld-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Copies a fixture table so tests can append to it. */
export async function copyFixture(name: string, into: string): Promise<string> {
  const target = join(into, name);
  await cp(fixture(name), target, { recursive: true });
  return target;
}

/** The files of the local table at `path`, as the Delta writer reads them. */
export function tableFiles(path: string): DeltaFiles {
  return new DeltaFiles(new FileStore(path));
}
