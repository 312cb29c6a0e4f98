/**
 * Delta tables on object storage, end to end, through the destination as a pipeline file
 * configures it (`path: s3://…` / `az://…` / `gs://…` with a `storage:` block and secrets from the
 * daemon's environment): appends, a retried sequence, a merge, an overwrite and a vacuum against
 * moto's S3 server, Azurite and fake-gcs-server; then concurrent writers racing for the same
 * versions on each store, where put-if-absent must keep every commit exactly once.
 *
 * The tables are read back by delta-rs: from a copy of every object (the same bytes a reader
 * fetches), and on S3 also directly from the emulator with delta-rs's own object store.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { Storage } from '@google-cloud/storage';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import type { Destination } from '../../daemon/destinations/destination.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import { openObjectStore } from '../../daemon/storage/open-store.js';
import { storageSchema, type StorageConfig } from '../../shared/config/storage-schema.js';
import { commitBatch, commitRequest } from '../conformance/commit-batch.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import { col, createStager, type Stager } from '../conformance/staged-batch.js';
import {
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  startAzurite,
  startFakeGcs,
  startMoto,
  type Emulator,
} from '../helpers/object-store-emulators.js';
import { tempDir } from './fixtures.js';

const COLUMNS = [col('id', 'int64'), col('note', 'text')];
const SECRETS = {
  env: { TEST_S3_KEY_ID: 'testing', TEST_S3_SECRET: 'testing-secret', TEST_AZ_KEY: AZURITE_KEY },
};

interface StoreUnderTest {
  readonly name: string;
  /** The table's URL under `root`. */
  url(root: string): string;
  readonly storage: StorageConfig;
  /** delta-rs storage options to read the URL directly, where delta-rs can reach the emulator. */
  readonly deltaRsOptions?: Record<string, string>;
  stop(): Promise<void>;
}

async function s3(): Promise<StoreUnderTest> {
  const moto = await startMoto();
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing-secret' },
  });
  await client.send(new CreateBucketCommand({ Bucket: 'lake' }));
  client.destroy();
  return {
    name: 'S3 (moto)',
    url: (root) => `s3://lake/${root}`,
    storage: storageSchema.parse({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      force_path_style: true,
      access_key_id_env: 'TEST_S3_KEY_ID',
      secret_access_key_env: 'TEST_S3_SECRET',
    }),
    deltaRsOptions: {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing-secret',
      AWS_REGION: 'us-east-1',
      AWS_ALLOW_HTTP: 'true',
    },
    stop: () => moto.stop(),
  };
}

async function azure(): Promise<StoreUnderTest> {
  const azurite: Emulator = await startAzurite();
  const service = new BlobServiceClient(
    azurite.endpoint,
    new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
  );
  await service.getContainerClient('lake').create();
  return {
    name: 'Azure Blob (Azurite)',
    url: (root) => `az://lake/${root}`,
    storage: storageSchema.parse({
      endpoint: azurite.endpoint,
      account: AZURITE_ACCOUNT,
      azure_account_key_env: 'TEST_AZ_KEY',
    }),
    stop: () => azurite.stop(),
  };
}

async function gcs(): Promise<StoreUnderTest> {
  const fake = await startFakeGcs();
  await new Storage({ apiEndpoint: fake.endpoint, projectId: 'etld-test' }).createBucket('lake');
  return {
    name: 'GCS (fake-gcs-server)',
    url: (root) => `gs://lake/${root}`,
    storage: storageSchema.parse({ endpoint: fake.endpoint, gcs_project: 'etld-test' }),
    stop: () => fake.stop(),
  };
}

function destination(store: StoreUnderTest, url: string): Destination {
  return deltaDestination.create(
    { type: 'delta', path: url, storage: store.storage },
    {
      lakeDir: '/nonexistent-lake',
      logger: silentLogger,
      resolveConnection: () => {
        throw new Error('no connection here');
      },
      secrets: SECRETS,
    },
  );
}

/** Every object of the table, downloaded into `dir` with its key as the relative path. */
async function mirror(store: StoreUnderTest, url: string, dir: string): Promise<string> {
  const objects = await openObjectStore(url, store.storage, { baseDir: '/nonexistent', secrets: SECRETS });
  try {
    for await (const info of objects.list('')) {
      const target = join(dir, ...info.key.split('/'));
      await mkdir(dirname(target), { recursive: true });
      expect(await objects.download(info.key, target)).toBe(true);
    }
  } finally {
    await objects.close();
  }
  return dir;
}

function rowsOf(table: { rows?: Record<string, unknown>[]; error?: string } | undefined): string[] {
  expect(table?.error).toBeUndefined();
  return (table?.rows ?? []).map((r) => `${String(r.id)}:${String(r.note)}`).sort();
}

describe.each([
  ['S3', s3],
  ['Azure', azure],
  ['GCS', gcs],
] as const)('Delta on %s', (_kind, start) => {
  let store: StoreUnderTest;
  let stager: Stager;
  let local: { dir: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    store = await start();
    stager = await createStager();
    local = await tempDir('delta-object-store');
  }, 120_000);
  afterAll(async () => {
    stager?.close();
    await local?.cleanup();
    await store?.stop();
  });

  it('appends, skips a retried sequence, merges, overwrites and vacuums; delta-rs reads every version', async () => {
    const url = store.url('orders');
    const table = destination(store, url);
    const load = async (sequence: number, rows: string, extra: Parameters<typeof commitRequest>[1] = {}) =>
      commitBatch(
        table,
        commitRequest(await stager.stage(COLUMNS, rows), { pipeline: 'orders', sequence, ...extra }),
      );
    try {
      expect(await load(1, `(1, 'a'), (2, 'b')`)).toMatchObject({ rowsLoaded: 2, alreadyCommitted: false });
      expect(await load(1, `(1, 'a'), (2, 'b')`, { runId: 'again' })).toMatchObject({
        alreadyCommitted: true,
      });
      expect(await load(2, `(3, 'c')`)).toMatchObject({ rowsLoaded: 1 });
      expect(await load(3, `(2, 'B'), (4, 'd')`, { mode: 'merge', key: ['id'] })).toMatchObject({
        rowsLoaded: 2,
      });
      expect((await table.committedSequence('orders'))?.sequence).toBe(3);
      const merged = await mirror(store, url, join(local.dir, `${store.name}-v2`));
      expect(rowsOf((await readWithOracle('deltalake', [merged]))[merged])).toEqual([
        '1:a',
        '2:B',
        '3:c',
        '4:d',
      ]);
      if (store.deltaRsOptions !== undefined) {
        const direct = await readWithOracle('deltalake', [url], { storageOptions: store.deltaRsOptions });
        expect(rowsOf(direct[url])).toEqual(['1:a', '2:B', '3:c', '4:d']);
      }

      expect(await load(4, `(9, 'z')`, { mode: 'full' })).toMatchObject({ rowsLoaded: 1 });
      const replaced = await mirror(store, url, join(local.dir, `${store.name}-v4`));
      expect(rowsOf((await readWithOracle('deltalake', [replaced]))[replaced])).toEqual(['9:z']);
      // Time travel still reads version 2 (the merge; version 0 appended, 1 appended) from the same objects.
      expect(rowsOf((await readWithOracle('deltalake', [`${replaced}@v2`]))[`${replaced}@v2`])).toEqual([
        '1:a',
        '2:B',
        '3:c',
        '4:d',
      ]);
      // A week and a day later, a vacuum lists the files the overwrite and the merge replaced.
      const vacuum = await table.vacuum?.({ dryRun: true, now: Date.now() + 8 * 86_400_000 });
      expect(vacuum?.files.length).toBeGreaterThan(0);
      expect(vacuum?.files.every((f) => f.endsWith('.parquet'))).toBe(true);
    } finally {
      await table.close();
    }
  }, 180_000);

  it('concurrent writers on one table: every commit lands exactly once, in its own version', async () => {
    const url = store.url('race');
    const writers = 4;
    const rounds = 3;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const table = destination(store, url);
        try {
          for (let round = 1; round <= rounds; round++) {
            // A lost race is a retryable conflict (or re-planned inside the commit loop): retry it.
            for (let attempt = 1; ; attempt++) {
              try {
                await commitBatch(
                  table,
                  commitRequest(await stager.stage(COLUMNS, `(${w * 100 + round}, 'w${w}')`), {
                    pipeline: `writer-${w}`,
                    sequence: round,
                    runId: `writer-${w}-${round}-${attempt}`,
                  }),
                );
                break;
              } catch (error) {
                if (attempt >= 20) throw error;
              }
            }
          }
        } finally {
          await table.close();
        }
      }),
    );
    const copy = await mirror(store, url, join(local.dir, `${store.name}-race`));
    const read = (await readWithOracle('deltalake', [copy]))[copy];
    const expected = Array.from({ length: writers }, (_, w) =>
      Array.from({ length: rounds }, (_, r) => `${w * 100 + r + 1}:w${w}`),
    )
      .flat()
      .sort();
    expect(rowsOf(read)).toEqual(expected);
    // One version per commit: the log holds versions 0 … writers × rounds − 1, none lost or doubled.
    expect(read?.version).toBe(writers * rounds - 1);
  }, 240_000);
});
