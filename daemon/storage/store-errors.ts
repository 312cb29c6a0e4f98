/**
 * What a failed object-store request becomes: one EtlError whose code says what to do about it.
 * Each backend classifies its SDK's errors; the messages here name the store (bucket or container
 * and prefix) and the object, and carry the service's error code, never a credential: SDK texts
 * pass through `redact` (a SAS signature or an account key can sit in a URL or a connection string).
 */
import { stat } from 'node:fs/promises';
import { EtlError } from '../../shared/errors.js';

export type FailureKind =
  /** 401/403, AccessDenied, a signature or key the service refuses. */
  | 'permission'
  /** No credentials could be found at all (the chain came up empty). */
  | 'no-credentials'
  /** The bucket or container does not exist. */
  | 'no-bucket'
  /** Throttled, 5xx, network: retried by the store and still failing. */
  | 'transient'
  /** Anything else the service refused (a 400): another attempt would fail the same way. */
  | 'refused'
  /** The client cannot be set up as configured (no S3 region): an operator's fix. */
  | 'misconfigured';

export interface Failure {
  readonly kind: FailureKind;
  /** The service's code and status (`SlowDown 503`, `AccessDenied 403`), for the message. */
  readonly detail: string;
}

/** Removes query strings, SAS signatures and account keys from text that may quote a request. */
export function redact(text: string): string {
  return text
    .replace(/(https?:\/\/[^\s?"']*)\?[^\s"']*/g, '$1?…')
    .replace(
      /\b(sig|AccountKey|SharedAccessSignature|X-Amz-Signature|X-Amz-Credential)=[^;&\s"']*/gi,
      '$1=…',
    );
}

const CREDENTIAL_HINT: Record<string, string> = {
  s3: 'check the access key (storage.access_key_id_env / _file, or AWS_ACCESS_KEY_ID, ~/.aws, the instance role) and that it may read and write this prefix',
  gcs: 'check the service account (storage.gcs_credentials_file, or GOOGLE_APPLICATION_CREDENTIALS, the workload identity) and its roles on this bucket',
  azure:
    'check the account key, SAS token or connection string (storage.azure_*_env / _file, or AZURE_STORAGE_CONNECTION_STRING, the managed identity) and its rights on this container',
};

/** The EtlError for `failure` while doing `action` (`writing _delta_log/…json`) on `store`. */
export function storeError(
  kind: 's3' | 'gcs' | 'azure',
  store: string,
  action: string,
  failure: Failure,
  cause: unknown,
): EtlError {
  const detail = redact(failure.detail);
  const where = `${store}: ${action}`;
  switch (failure.kind) {
    case 'permission':
      return new EtlError(
        'DESTINATION_PERMISSION',
        `${where} was refused (${detail}); ${CREDENTIAL_HINT[kind]}`,
        {
          cause,
          retryable: false,
        },
      );
    case 'no-credentials':
      return new EtlError(
        'DESTINATION_PERMISSION',
        `${where}: no credentials were found (${detail}); ${CREDENTIAL_HINT[kind]}`,
        { cause, retryable: false },
      );
    case 'no-bucket':
      return new EtlError(
        'DESTINATION_WRITE',
        `${where}: the ${kind === 'azure' ? 'container' : 'bucket'} does not exist (${detail})`,
        {
          cause,
          retryable: false,
        },
      );
    case 'transient':
      return new EtlError('DESTINATION_WRITE', `${where} failed after retries (${detail})`, {
        cause,
        retryable: true,
      });
    case 'refused':
      return new EtlError('DESTINATION_WRITE', `${where} was refused (${detail})`, {
        cause,
        retryable: false,
      });
    case 'misconfigured':
      return new EtlError('CONFIG_INVALID', `${where}: ${detail}`, { cause });
  }
}

/** The size of a local file about to be uploaded; a file that cannot be read is a STAGING error. */
export async function uploadSize(displayUrl: string, localPath: string): Promise<number> {
  try {
    return (await stat(localPath)).size;
  } catch (cause) {
    throw new EtlError(
      'STAGING',
      `${displayUrl}: cannot read ${localPath} to upload it: ${(cause as Error).message}`,
      { cause },
    );
  }
}
