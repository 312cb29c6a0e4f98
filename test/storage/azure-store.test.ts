/**
 * The Azure store against Azurite: the ObjectStore contract, then retries (a loopback proxy
 * answers 503 ServerBusy), a wrong account key (Azurite checks the signature) and the
 * connection-string path.
 */
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConditionalWrites } from '../../daemon/storage/conditional-probe.js';
import type { ObjectStore } from '../../daemon/storage/object-store.js';
import { openObjectStore } from '../../daemon/storage/open-store.js';
import type { StoreTuning } from '../../daemon/storage/store-tuning.js';
import { storageSchema } from '../../shared/config/storage-schema.js';
import { startHttpFaultProxy } from '../helpers/http-fault-proxy.js';
import {
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  startAzurite,
  type Emulator,
} from '../helpers/object-store-emulators.js';
import { objectStoreContract } from './object-store.case.js';

const FAST_RETRY = { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200 };
const secrets = {
  env: { TEST_AZURE_KEY: AZURITE_KEY, WRONG_AZURE_KEY: Buffer.from('not the key').toString('base64') },
};

async function createContainer(endpoint: string, container: string): Promise<void> {
  const service = new BlobServiceClient(
    endpoint,
    new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
  );
  await service.getContainerClient(container).create();
}

function openAzure(
  endpoint: string,
  url: string,
  tuning?: StoreTuning,
  keyEnv = 'TEST_AZURE_KEY',
): Promise<ObjectStore> {
  const storage = storageSchema.parse({ endpoint, account: AZURITE_ACCOUNT, azure_account_key_env: keyEnv });
  return openObjectStore(url, storage, { baseDir: '/nonexistent', secrets, ...(tuning ? { tuning } : {}) });
}

objectStoreContract('azure (Azurite)', async () => {
  const azurite = await startAzurite();
  await createContainer(azurite.endpoint, 'etld-contract');
  return {
    multipart: true,
    open: (root, tuning) => openAzure(azurite.endpoint, `az://etld-contract/tables/${root}`, tuning),
    stop: () => azurite.stop(),
  };
});

describe('Azure store: retries, permissions, credentials', () => {
  let azurite: Emulator;
  const opened: ObjectStore[] = [];
  beforeAll(async () => {
    azurite = await startAzurite();
    await createContainer(azurite.endpoint, 'etld-more');
  });
  afterAll(async () => {
    for (const store of opened) await store.close();
    await azurite?.stop();
  });

  const serverBusy = {
    status: 503,
    headers: { 'content-type': 'application/xml', 'x-ms-error-code': 'ServerBusy' },
    body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>',
  };

  it('retries 503 ServerBusy with jittered backoff; gives up as a retryable DESTINATION_WRITE', async () => {
    const accountPath = new URL(azurite.endpoint).pathname;
    const proxy = await startHttpFaultProxy(azurite.endpoint);
    try {
      const store = await openAzure(`${proxy.endpoint}${accountPath}`, 'az://etld-more/throttled', {
        retry: FAST_RETRY,
      });
      opened.push(store);
      proxy.failNext(3, serverBusy);
      await store.put('k.json', 'after three refusals');
      expect(new TextDecoder().decode(await store.get('k.json'))).toBe('after three refusals');
      proxy.failNext(2, serverBusy);
      expect(await store.putIfAbsent('_delta_log/00000000000000000000.json', 'commit')).toBe('created');
      proxy.failNext(100, serverBusy);
      const error = await store.head('k.json').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'DESTINATION_WRITE', retryable: true });
      expect((error as Error).message).toContain('az://etld-more/throttled');
      expect(proxy.counts.failed).toBe(5 + FAST_RETRY.maxAttempts);
    } finally {
      await proxy.close();
    }
  });

  it('maps a wrong account key to DESTINATION_PERMISSION naming the container, without the key', async () => {
    const store = await openAzure(
      azurite.endpoint,
      'az://etld-more/denied',
      { retry: FAST_RETRY },
      'WRONG_AZURE_KEY',
    );
    opened.push(store);
    const error = await store.put('k', 'x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DESTINATION_PERMISSION', retryable: false });
    const message = (error as Error).message;
    expect(message).toContain('az://etld-more/denied');
    expect(message).toContain('account key');
    expect(message).not.toContain(secrets.env.WRONG_AZURE_KEY);
  });

  it('opens with a connection string from the environment (AZURE_STORAGE_CONNECTION_STRING) and is probed', async () => {
    const connectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${azurite.endpoint};`;
    const store = await openObjectStore('az://etld-more/by-connection-string', undefined, {
      baseDir: '/',
      secrets: { env: { AZURE_STORAGE_CONNECTION_STRING: connectionString } },
    });
    opened.push(store);
    await store.put('x', 'y');
    expect(new TextDecoder().decode(await store.get('x'))).toBe('y');
    expect(await checkConditionalWrites(store, { singleWriter: false })).toBe('honoured');
  });

  it('refuses an az:// URL with no account anywhere (CONFIG_INVALID)', async () => {
    const error = await openObjectStore('az://etld-more/x', undefined, {
      baseDir: '/',
      secrets: { env: {} },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toContain('storage.account');
  });
});
