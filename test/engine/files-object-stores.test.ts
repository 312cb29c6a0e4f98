/**
 * The files source on object stores, through the real engine and the pipeline config (url +
 * storage block + secrets from the daemon's environment): S3 (moto) and Azure Blob (Azurite).
 * Files arrive between runs (gzip, zstd, Parquet written by DuckDB), each loads once into DuckDB;
 * a file replaced in the bucket after its load (new ETag) fails the run by name; the ledger names
 * every file with the store's version. Plus the scale case: 10,000 small objects in one bucket
 * prefix, loaded in one run and not again (figures printed for the closing note).
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openObjectStore } from '../../daemon/storage/open-store.js';
import type { ObjectStore } from '../../daemon/storage/object-store.js';
import { EtlError } from '../../shared/errors.js';
import {
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  startAzurite,
  startMoto,
  type Emulator,
} from '../helpers/object-store-emulators.js';
import { createHarness, type Harness } from './engine-harness.js';

const SECRETS = {
  env: { TEST_S3_KEY_ID: 'testing', TEST_S3_SECRET: 'testing-secret', TEST_AZ_KEY: AZURITE_KEY },
};

interface Bucket {
  readonly name: string;
  readonly url: string;
  readonly storage: Record<string, unknown>;
  stop(): Promise<void>;
}

async function s3Bucket(): Promise<Bucket> {
  const moto: Emulator = await startMoto();
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing-secret' },
  });
  await client.send(new CreateBucketCommand({ Bucket: 'landing' }));
  client.destroy();
  return {
    name: 'S3 (moto)',
    url: 's3://landing/orders',
    storage: {
      endpoint: moto.endpoint,
      region: 'us-east-1',
      force_path_style: true,
      access_key_id_env: 'TEST_S3_KEY_ID',
      secret_access_key_env: 'TEST_S3_SECRET',
    },
    stop: () => moto.stop(),
  };
}

async function azureBucket(): Promise<Bucket> {
  const azurite = await startAzurite();
  const service = new BlobServiceClient(
    azurite.endpoint,
    new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
  );
  await service.getContainerClient('landing').create();
  return {
    name: 'Azure Blob (Azurite)',
    url: 'az://landing/orders',
    storage: { endpoint: azurite.endpoint, account: AZURITE_ACCOUNT, azure_account_key_env: 'TEST_AZ_KEY' },
    stop: () => azurite.stop(),
  };
}

function csv(ids: readonly number[]): string {
  return ['id,name,amount', ...ids.map((id) => `${id},n${id},${(id * 1.25).toFixed(2)}`)].join('\n') + '\n';
}

async function parquetOf(ids: readonly number[]): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'etld-parquet-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const path = join(dir, 'x.parquet');
    await connection.run(
      `COPY (SELECT id::BIGINT AS id, 'n' || id AS name, CAST(id * 1.25 AS DOUBLE) AS amount FROM unnest([${ids.join(',')}]) t(id)) TO '${path}' (FORMAT parquet)`,
    );
    const { readFile } = await import('node:fs/promises');
    return await readFile(path);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

describe.each([
  ['S3', s3Bucket],
  ['Azure', azureBucket],
] as const)('files source on %s', (_kind, start) => {
  let bucket: Bucket;
  let objects: ObjectStore;
  let h: Harness;

  beforeAll(async () => {
    bucket = await start();
    objects = await openObjectStore(bucket.url, bucket.storage as never, { baseDir: '/', secrets: SECRETS });
  }, 120_000);
  afterAll(async () => {
    await objects?.close();
    await bucket?.stop();
  });
  beforeEach(() => {
    h = createHarness({ secrets: SECRETS });
  });
  afterEach(() => h.destroy());

  function pipeline(name: string, prefix: string, extra: Record<string, unknown> = {}) {
    return h.pipeline({
      name,
      source: {
        type: 'files',
        url: `${bucket.url}/${prefix}`,
        storage: bucket.storage,
        min_age: '0s',
        ...extra,
      },
      load: { mode: 'incremental' },
      destination: { type: 'duckdb', path: 'dest.duckdb', table: name },
    });
  }

  it('loads arriving gzip, zstd and Parquet objects once each; a replaced object fails the run by name', async () => {
    await objects.put('mixed/2026-12-01/a.csv.gz', gzipSync(csv([1, 2])));
    await objects.put('mixed/2026-12-01/b.csv.zst', zstdCompressSync(Buffer.from(csv([3]))));
    const p = pipeline('mixed', 'mixed', { pattern: '**/*.{csv.gz,csv.zst,parquet}' });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 3, verdict: 'match' });
    await objects.put('mixed/2026-12-02/c.parquet', await parquetOf([4, 5]));
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2 });
    expect(await h.run(p)).toMatchObject({ verdict: 'skipped' });
    expect(await h.duck('dest.duckdb', 'SELECT id, name, amount, _etl_file FROM mixed ORDER BY id')).toEqual([
      [1n, 'n1', 1.25, '2026-12-01/a.csv.gz'],
      [2n, 'n2', 2.5, '2026-12-01/a.csv.gz'],
      [3n, 'n3', 3.75, '2026-12-01/b.csv.zst'],
      [4n, 'n4', 5, '2026-12-02/c.parquet'],
      [5n, 'n5', 6.25, '2026-12-02/c.parquet'],
    ]);
    const ledger = h.store.listSourceFiles('mixed', { limit: 10 });
    expect(ledger.map((f) => f.key)).toEqual([
      '2026-12-01/a.csv.gz',
      '2026-12-01/b.csv.zst',
      '2026-12-02/c.parquet',
    ]);
    for (const f of ledger) expect(f.version).not.toBe('');
    await objects.put('mixed/2026-12-01/a.csv.gz', gzipSync(csv([1, 2, 99])));
    const error = await h.run(p).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EtlError);
    expect((error as EtlError).message).toMatch(/2026-12-01\/a\.csv\.gz/);
  });

  // On S3 only: the per-file path is the same on every store, and 10,000 files take minutes here.
  it.runIf(_kind === 'S3')(
    '10,000 small objects under one prefix load in one run, exactly once',
    { timeout: 1_200_000 },
    async () => {
      const count = 10_000;
      const started = Date.now();
      for (let i = 0; i < count; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, count - i) }, (_, j) =>
            objects.put(`many/part-${String(i + j).padStart(5, '0')}.csv`, csv([i + j])),
          ),
        );
      }
      const uploadS = (Date.now() - started) / 1000;
      const p = pipeline('many', 'many', { parallelism: 8 });
      const runStarted = Date.now();
      const outcome = await h.run(p);
      const runS = (Date.now() - runStarted) / 1000;
      expect(outcome).toMatchObject({ rowsLoaded: count, verdict: 'match' });
      expect(
        await h.duck(
          'dest.duckdb',
          'SELECT count(*), count(DISTINCT id), count(DISTINCT _etl_file) FROM many',
        ),
      ).toEqual([[BigInt(count), BigInt(count), BigInt(count)]]);
      const again = Date.now();
      expect(await h.run(p)).toMatchObject({ verdict: 'skipped' });
      const relistS = (Date.now() - again) / 1000;
      process.stdout.write(
        `files on ${bucket.name}: ${count} objects uploaded in ${uploadS.toFixed(1)} s, loaded in one run in ${runS.toFixed(1)} s; the next run listed them and loaded nothing in ${relistS.toFixed(1)} s\n`,
      );
    },
  );
});
