/**
 * The GCS store against fake-gcs-server: the ObjectStore contract, then retries (a loopback proxy
 * answers 429) and a refused request (the proxy answers 403: fake-gcs-server checks no
 * credentials, so the refusal is canned; the SDK's error path is real).
 */
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConditionalWrites } from '../../daemon/storage/conditional-probe.js';
import type { ObjectStore } from '../../daemon/storage/object-store.js';
import { openObjectStore } from '../../daemon/storage/open-store.js';
import type { StoreTuning } from '../../daemon/storage/store-tuning.js';
import { storageSchema } from '../../shared/config/storage-schema.js';
import { startHttpFaultProxy } from '../helpers/http-fault-proxy.js';
import { startFakeGcs, type Emulator } from '../helpers/object-store-emulators.js';
import { objectStoreContract } from './object-store.case.js';

const FAST_RETRY = { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200 };

async function createBucket(endpoint: string, bucket: string): Promise<void> {
  await new Storage({ apiEndpoint: endpoint, projectId: 'etld-test' }).createBucket(bucket);
}

function openGcs(endpoint: string, url: string, tuning?: StoreTuning): Promise<ObjectStore> {
  const storage = storageSchema.parse({ endpoint, gcs_project: 'etld-test' });
  return openObjectStore(url, storage, {
    baseDir: '/nonexistent',
    secrets: { env: {} },
    ...(tuning ? { tuning } : {}),
  });
}

objectStoreContract('gcs (fake-gcs-server)', async () => {
  const gcs = await startFakeGcs();
  await createBucket(gcs.endpoint, 'etld-contract');
  return {
    multipart: true,
    open: (root, tuning) => openGcs(gcs.endpoint, `gs://etld-contract/tables/${root}`, tuning),
    stop: () => gcs.stop(),
  };
});

describe('GCS store: retries, permissions, conditional writes', () => {
  let gcs: Emulator;
  const opened: ObjectStore[] = [];
  beforeAll(async () => {
    gcs = await startFakeGcs();
    await createBucket(gcs.endpoint, 'etld-more');
  });
  afterAll(async () => {
    for (const store of opened) await store.close();
    await gcs?.stop();
  });

  const jsonError = (status: number, reason: string) => ({
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: { code: status, message: reason, errors: [{ reason, message: reason }] } }),
  });

  it('retries 429 and 503 through the SDK and succeeds; a conditional create still wins once', async () => {
    const proxy = await startHttpFaultProxy(gcs.endpoint);
    try {
      const store = await openGcs(proxy.endpoint, 'gs://etld-more/throttled', { retry: FAST_RETRY });
      opened.push(store);
      proxy.failNext(2, jsonError(429, 'rateLimitExceeded'));
      await store.put('k.json', 'after two refusals');
      expect(proxy.counts.failed).toBe(2);
      proxy.failNext(1, jsonError(503, 'backendError'));
      expect(new TextDecoder().decode(await store.get('k.json'))).toBe('after two refusals');
      proxy.failNext(2, jsonError(503, 'backendError'));
      expect(await store.putIfAbsent('_delta_log/00000000000000000000.json', 'commit')).toBe('created');
      expect(await store.putIfAbsent('_delta_log/00000000000000000000.json', 'other')).toBe('exists');
      expect(proxy.counts.failed).toBe(5);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('maps 403 to DESTINATION_PERMISSION naming the bucket and the credentials to check', async () => {
    const proxy = await startHttpFaultProxy(gcs.endpoint);
    try {
      const store = await openGcs(proxy.endpoint, 'gs://etld-more/denied', { retry: FAST_RETRY });
      opened.push(store);
      proxy.failNext(1, jsonError(403, 'forbidden'));
      const error = await store.put('k', 'x').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'DESTINATION_PERMISSION', retryable: false });
      expect((error as Error).message).toContain('gs://etld-more/denied');
      expect((error as Error).message).toContain('service account');
      expect(proxy.counts.failed).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('fake-gcs-server honours ifGenerationMatch=0: the probe accepts it', async () => {
    const store = await openGcs(gcs.endpoint, 'gs://etld-more/probed');
    opened.push(store);
    expect(await checkConditionalWrites(store, { singleWriter: false })).toBe('honoured');
  });
});
