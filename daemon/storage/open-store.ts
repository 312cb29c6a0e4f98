/**
 * Opens the store a destination's `path` names, with the destination's `storage:` block. Secrets
 * are read here, once, through the daemon's secret resolution (`*_env` / `*_file`, relative files
 * under $CREDENTIALS_DIRECTORY); a missing one is SECRET_UNAVAILABLE naming the key, never a
 * value. Without explicit credentials each cloud's standard chain applies (docs/storage.md).
 * The cloud SDKs are imported by the store modules only when a store of that kind opens.
 */
import type { StorageConfig } from '../../shared/config/storage-schema.js';
import { EtlError } from '../../shared/errors.js';
import { secretOf, type SecretEnvironment } from '../config/secrets.js';
import { FileStore } from './file-store.js';
import type { ObjectStore } from './object-store.js';
import { parseStorageUrl, type StorageLocation } from './storage-url.js';
import type { StoreTuning } from './store-tuning.js';

export interface OpenStoreOptions {
  /** Where relative plain paths resolve (the lake directory). */
  readonly baseDir: string;
  readonly secrets: SecretEnvironment;
  /** Test knobs (list page size, retry policy); `storage.upload_part_size` sets the part size. */
  readonly tuning?: StoreTuning;
}

type SecretKey =
  | 'access_key_id'
  | 'secret_access_key'
  | 'session_token'
  | 'azure_account_key'
  | 'azure_sas_token'
  | 'azure_connection_string';

function secret(
  storage: StorageConfig | undefined,
  name: SecretKey,
  secrets: SecretEnvironment,
  what: string,
) {
  if (storage === undefined) return undefined;
  return secretOf(
    { env: `storage.${name}_env`, file: `storage.${name}_file` },
    storage[`${name}_env`],
    storage[`${name}_file`],
    secrets,
    what,
  );
}

function tuningOf(storage: StorageConfig | undefined, tuning: StoreTuning | undefined): StoreTuning {
  const partSize = tuning?.partSize ?? storage?.upload_part_size;
  return { ...tuning, ...(partSize !== undefined ? { partSize } : {}) };
}

async function openS3(
  location: Extract<StorageLocation, { kind: 's3' | 'gcs' }>,
  storage: StorageConfig | undefined,
  options: OpenStoreOptions,
): Promise<ObjectStore> {
  const what = location.displayUrl;
  const accessKeyId = secret(storage, 'access_key_id', options.secrets, what);
  const secretAccessKey = secret(storage, 'secret_access_key', options.secrets, what);
  const sessionToken = secret(storage, 'session_token', options.secrets, what);
  const { openS3Store } = await import('./s3-store.js');
  return openS3Store({
    bucket: location.bucket,
    prefix: location.prefix,
    displayUrl: location.displayUrl,
    ...(storage?.region !== undefined ? { region: storage.region } : {}),
    ...(storage?.endpoint !== undefined ? { endpoint: storage.endpoint } : {}),
    ...(storage?.force_path_style !== undefined ? { forcePathStyle: storage.force_path_style } : {}),
    ...(accessKeyId !== undefined && secretAccessKey !== undefined
      ? {
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(sessionToken !== undefined ? { sessionToken } : {}),
          },
        }
      : {}),
    tuning: tuningOf(storage, options.tuning),
  });
}

async function openGcs(
  location: Extract<StorageLocation, { kind: 's3' | 'gcs' }>,
  storage: StorageConfig | undefined,
  options: OpenStoreOptions,
): Promise<ObjectStore> {
  const what = location.displayUrl;
  const keyText =
    storage?.gcs_credentials_file === undefined
      ? undefined
      : secretOf(
          { env: 'storage.gcs_credentials_file', file: 'storage.gcs_credentials_file' },
          undefined,
          storage.gcs_credentials_file,
          options.secrets,
          what,
        );
  let credentials: Record<string, unknown> | undefined;
  if (keyText !== undefined) {
    try {
      credentials = JSON.parse(keyText) as Record<string, unknown>;
    } catch {
      throw new EtlError(
        'SECRET_UNAVAILABLE',
        `${what}: storage.gcs_credentials_file ${storage?.gcs_credentials_file} is not a JSON service account key`,
      );
    }
  }
  const { openGcsStore } = await import('./gcs-store.js');
  return openGcsStore({
    bucket: location.bucket,
    prefix: location.prefix,
    displayUrl: location.displayUrl,
    ...(storage?.endpoint !== undefined ? { endpoint: storage.endpoint } : {}),
    ...(storage?.gcs_project !== undefined ? { projectId: storage.gcs_project } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    tuning: tuningOf(storage, options.tuning),
  });
}

async function openAzure(
  location: Extract<StorageLocation, { kind: 'azure' }>,
  storage: StorageConfig | undefined,
  options: OpenStoreOptions,
): Promise<ObjectStore> {
  const what = location.displayUrl;
  const connectionString =
    secret(storage, 'azure_connection_string', options.secrets, what) ??
    // Only when the block names no other credential: the Azure tools' own variable.
    (secret(storage, 'azure_account_key', options.secrets, what) === undefined &&
    secret(storage, 'azure_sas_token', options.secrets, what) === undefined
      ? options.secrets.env.AZURE_STORAGE_CONNECTION_STRING
      : undefined);
  const { openAzureStore } = await import('./azure-store.js');
  const common = {
    container: location.container,
    prefix: location.prefix,
    displayUrl: location.displayUrl,
    tuning: tuningOf(storage, options.tuning),
  };
  if (connectionString !== undefined)
    return openAzureStore({
      ...common,
      serviceUrl: '',
      credential: { type: 'connection-string', connectionString },
    });
  const account = location.account ?? storage?.account ?? options.secrets.env.AZURE_STORAGE_ACCOUNT;
  if (account === undefined)
    throw new EtlError(
      'CONFIG_INVALID',
      `${what}: no storage account: set storage.account, use an abfss://container@account.dfs.core.windows.net URL, or give a connection string`,
    );
  const serviceUrl =
    storage?.endpoint ?? `https://${account}.blob.${location.endpointSuffix ?? 'core.windows.net'}`;
  const key = secret(storage, 'azure_account_key', options.secrets, what);
  if (key !== undefined)
    return openAzureStore({ ...common, serviceUrl, credential: { type: 'account-key', account, key } });
  const token = secret(storage, 'azure_sas_token', options.secrets, what);
  if (token !== undefined)
    return openAzureStore({ ...common, serviceUrl, credential: { type: 'sas', token } });
  return openAzureStore({ ...common, serviceUrl, credential: { type: 'default' } });
}

/**
 * The store rooted at `url` (a cloud URL, `file://` or a path). Throws CONFIG_INVALID for a
 * malformed URL and SECRET_UNAVAILABLE for a secret that cannot be read.
 */
export async function openObjectStore(
  url: string,
  storage: StorageConfig | undefined,
  options: OpenStoreOptions,
): Promise<ObjectStore> {
  const location = parseStorageUrl(url, options.baseDir);
  switch (location.kind) {
    case 'file':
      return new FileStore(location.root);
    case 's3':
      return openS3(location, storage, options);
    case 'gcs':
      return openGcs(location, storage, options);
    case 'azure':
      return openAzure(location, storage, options);
  }
}
