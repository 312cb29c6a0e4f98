/**
 * The S3 store against moto's S3 server: the ObjectStore contract, then what is S3's own: the
 * throttling retry path (a loopback proxy answers 503 SlowDown), refused credentials, and the
 * conditional-write probe.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConditionalWrites } from '../../daemon/storage/conditional-probe.js';
import type { ObjectStore } from '../../daemon/storage/object-store.js';
import { openObjectStore } from '../../daemon/storage/open-store.js';
import type { StoreTuning } from '../../daemon/storage/store-tuning.js';
import { storageSchema } from '../../shared/config/storage-schema.js';
import { EtlError } from '../../shared/errors.js';
import { startHttpFaultProxy } from '../helpers/http-fault-proxy.js';
import { startMoto, type Emulator } from '../helpers/object-store-emulators.js';
import { objectStoreContract } from './object-store.case.js';
import { IgnoresConditionStore } from './ignores-condition-store.js';

const secrets = { env: { TEST_S3_KEY_ID: 'testing', TEST_S3_SECRET: 'testing-secret' } };
const FAST_RETRY = { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 200 };

async function createBucket(endpoint: string, bucket: string): Promise<void> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing-secret' },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
}

function openS3(
  endpoint: string,
  url: string,
  tuning?: StoreTuning,
  extra: Record<string, unknown> = {},
): Promise<ObjectStore> {
  const storage = storageSchema.parse({
    endpoint,
    region: 'us-east-1',
    force_path_style: true,
    access_key_id_env: 'TEST_S3_KEY_ID',
    secret_access_key_env: 'TEST_S3_SECRET',
    ...extra,
  });
  return openObjectStore(url, storage, { baseDir: '/nonexistent', secrets, ...(tuning ? { tuning } : {}) });
}

objectStoreContract('s3 (moto)', async () => {
  const moto = await startMoto();
  await createBucket(moto.endpoint, 'etld-contract');
  return {
    multipart: true,
    open: (root, tuning) => openS3(moto.endpoint, `s3://etld-contract/tables/${root}`, tuning),
    stop: () => moto.stop(),
  };
});

describe('S3 store: retries, permissions, conditional writes', () => {
  let moto: Emulator;
  const opened: ObjectStore[] = [];
  const open = async (...args: Parameters<typeof openS3>): Promise<ObjectStore> => {
    const store = await openS3(...args);
    opened.push(store);
    return store;
  };
  beforeAll(async () => {
    moto = await startMoto();
    await createBucket(moto.endpoint, 'etld-more');
  });
  afterAll(async () => {
    for (const store of opened) await store.close();
    await moto?.stop();
  });

  it('retries 503 SlowDown with backoff and succeeds; gives up as a retryable DESTINATION_WRITE', async () => {
    const proxy = await startHttpFaultProxy(moto.endpoint);
    try {
      const store = await open(proxy.endpoint, 's3://etld-more/throttled', { retry: FAST_RETRY });
      const slowDown = {
        status: 503,
        headers: { 'content-type': 'application/xml' },
        body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      };
      proxy.failNext(3, slowDown);
      await store.put('k.json', 'after three refusals');
      expect(proxy.counts.failed).toBe(3);
      expect(new TextDecoder().decode(await store.get('k.json'))).toBe('after three refusals');

      proxy.failNext(3, slowDown);
      expect(await store.putIfAbsent('_delta_log/00000000000000000000.json', 'commit')).toBe('created');

      proxy.failNext(100, slowDown);
      const error = await store.put('k.json', 'never').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EtlError);
      expect(error).toMatchObject({ code: 'DESTINATION_WRITE', retryable: true });
      expect((error as Error).message).toContain('s3://etld-more/throttled');
      expect((error as Error).message).toContain('SlowDown 503');
      expect(proxy.counts.failed).toBe(6 + FAST_RETRY.maxAttempts);
    } finally {
      await proxy.close();
    }
  });

  it('maps refused credentials to DESTINATION_PERMISSION naming the bucket, without the secret', async () => {
    const strict = await startMoto({ authenticate: true });
    try {
      const store = await open(strict.endpoint, 's3://etld-more/denied', { retry: FAST_RETRY });
      for (const attempt of [
        () => store.put('k', 'x'),
        () => store.get('k'),
        () => store.list('')[Symbol.asyncIterator]().next(),
      ]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'DESTINATION_PERMISSION', retryable: false });
        const message = (error as Error).message;
        expect(message).toContain('s3://etld-more/denied');
        expect(message).toMatch(/access key/);
        expect(message).not.toContain('testing-secret');
      }
    } finally {
      await strict.stop();
    }
  });

  it('names a missing secret variable (SECRET_UNAVAILABLE), not a value', async () => {
    const storage = storageSchema.parse({
      access_key_id_env: 'NOT_SET_KEY',
      secret_access_key_env: 'TEST_S3_SECRET',
    });
    const error = await openObjectStore('s3://etld-more/x', storage, { baseDir: '/', secrets }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE' });
    expect((error as Error).message).toContain('NOT_SET_KEY (storage.access_key_id_env)');
  });

  it('the conditional-write probe accepts moto, refuses a store that ignores If-None-Match unless single_writer', async () => {
    const honest = await open(moto.endpoint, 's3://etld-more/probed');
    expect(await checkConditionalWrites(honest, { singleWriter: false })).toBe('honoured');
    // Probed once per store instance, and the probe object is gone.
    expect(await checkConditionalWrites(honest, { singleWriter: false })).toBe('honoured');
    const left: string[] = [];
    for await (const o of honest.list('')) left.push(o.key);
    expect(left).toEqual([]);

    const careless = new IgnoresConditionStore(await open(moto.endpoint, 's3://etld-more/careless'));
    const error = await checkConditionalWrites(careless, { singleWriter: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    expect((error as Error).message).toContain(
      'store s3://etld-more/careless does not honour conditional writes (If-None-Match)',
    );
    expect((error as Error).message).toContain('storage.single_writer: true');
    expect(await checkConditionalWrites(careless, { singleWriter: true })).toBe('ignored-single-writer');
    const probes: string[] = [];
    for await (const o of careless.list('_delta_log/')) probes.push(o.key);
    expect(probes).toEqual([]);
  });
});
