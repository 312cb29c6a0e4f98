import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openObjectStore } from '../../daemon/storage/open-store.js';
import { objectStoreContract } from './object-store.case.js';

objectStoreContract('file (local directory)', async () => {
  const base = await mkdtemp(join(tmpdir(), 'etld-file-store-'));
  return {
    multipart: false,
    // A relative plain path resolves under the base directory (the lake directory).
    open: (root) => openObjectStore(`tables/${root}`, undefined, { baseDir: base, secrets: { env: {} } }),
    stop: () => rm(base, { recursive: true, force: true }),
  };
});
