/**
 * Where a store is rooted, parsed from what an operator wrote as a table's `path`: a cloud URL
 * (`s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`,
 * `abfss://container@account.dfs.core.windows.net/prefix`, `wasbs://…`), a `file://` URL or a
 * plain path (relative ones resolve under the caller's base directory, the lake directory).
 *
 * Credentials never ride in the URL: `user:secret@` on S3/GCS and a `?` query (a SAS token) are
 * refused, and messages quote the URL without them.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtlError } from '../../shared/errors.js';

export type StorageLocation =
  | { readonly kind: 'file'; readonly root: string; readonly displayUrl: string }
  | {
      readonly kind: 's3' | 'gcs';
      readonly bucket: string;
      /** `''` or `a/b` (no leading or trailing slash): keys are `prefix/key`. */
      readonly prefix: string;
      readonly displayUrl: string;
    }
  | {
      readonly kind: 'azure';
      readonly container: string;
      /** From the host of an `abfss://`/`wasbs://` URL; undefined for `az://` (storage.account says it). */
      readonly account: string | undefined;
      /** The blob service host's suffix after the account (`core.windows.net`), from the URL's host. */
      readonly endpointSuffix: string | undefined;
      readonly prefix: string;
      readonly displayUrl: string;
    };

const SCHEMES = 's3://, gs://, az://, abfss://, wasbs://, file:// or a path';

function invalid(shown: string, why: string): EtlError {
  return new EtlError('CONFIG_INVALID', `storage URL ${shown}: ${why}`);
}

/** S3: 3–63 characters of lower-case letters, digits, dots and hyphens (the bucket naming rules). */
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** GCS also allows underscores, and up to 222 characters when the name has dots. */
const GCS_BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
/** Azure: 3–63 lower-case letters, digits and single hyphens. */
const AZURE_CONTAINER = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
const AZURE_ACCOUNT = /^[a-z0-9]{3,24}$/;

/**
 * The path as written (the URL parser folds `a/../b` into `b`, which would hide a mistake):
 * everything after the authority, before a query or fragment.
 */
function writtenPath(text: string): string {
  const rest = text.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '');
  const slash = rest.indexOf('/');
  return slash < 0 ? '' : rest.slice(slash).replace(/[?#].*$/, '');
}

/**
 * The path part as a key prefix: percent escapes decoded, no empty, `.` or `..` segment (they
 * would name another place in a file system and nothing sensible in a bucket).
 */
function keyPrefix(pathname: string, shown: string): string {
  const trimmed = pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(trimmed);
  } catch {
    throw invalid(shown, 'the path has a malformed percent escape');
  }
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.' || segment === '..')
      throw invalid(shown, `the path has an empty, "." or ".." segment`);
  }
  return decoded;
}

/** The URL as it may be shown: scheme, host and path, never a user, password or query. */
function shownUrl(url: URL): string {
  return `${url.protocol}//${url.hostname}${url.port === '' ? '' : `:${url.port}`}${url.pathname}`;
}

function refuseCredentials(url: URL, shown: string, what: string): void {
  if (url.username !== '' || url.password !== '')
    throw invalid(shown, `credentials are not accepted in the URL; ${what}`);
  if (url.search !== '')
    throw invalid(shown, `a query string (a SAS token?) is not accepted in the URL; ${what}`);
  if (url.hash !== '') throw invalid(shown, 'a #fragment is not accepted in the URL');
}

function bucketLocation(kind: 's3' | 'gcs', url: URL, shown: string, path: string): StorageLocation {
  refuseCredentials(url, shown, "give them in the destination's storage block (*_env or *_file)");
  const bucket = url.hostname;
  const rule = kind === 's3' ? S3_BUCKET : GCS_BUCKET;
  if (url.port !== '')
    throw invalid(shown, 'a bucket name has no port (an endpoint goes in storage.endpoint)');
  if (!rule.test(bucket))
    throw invalid(
      shown,
      bucket === ''
        ? 'the bucket name is missing'
        : `"${bucket}" is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)`,
    );
  const prefix = keyPrefix(path, shown);
  return { kind, bucket, prefix, displayUrl: `${kind === 's3' ? 's3' : 'gs'}://${bucket}/${prefix}` };
}

function checkContainer(container: string, shown: string): void {
  if (!AZURE_CONTAINER.test(container))
    throw invalid(
      shown,
      container === ''
        ? 'the container name is missing'
        : `"${container}" is not a valid container name (3-63 lower-case letters, digits and single hyphens)`,
    );
}

/** `az://container/prefix` (also `azure://`): the account comes from the storage block. */
function azLocation(url: URL, shown: string, path: string): StorageLocation {
  refuseCredentials(url, shown, 'give the account key, SAS token or connection string in the storage block');
  if (url.port !== '')
    throw invalid(shown, 'a container name has no port (an endpoint goes in storage.endpoint)');
  checkContainer(url.hostname, shown);
  const prefix = keyPrefix(path, shown);
  return {
    kind: 'azure',
    container: url.hostname,
    account: undefined,
    endpointSuffix: undefined,
    prefix,
    displayUrl: `az://${url.hostname}/${prefix}`,
  };
}

/**
 * `abfss://container@account.dfs.core.windows.net/prefix` (ADLS Gen2, also `abfs://`) and
 * `wasbs://container@account.blob.core.windows.net/prefix` (also `wasb://`): the container is the
 * user part, the account the first label of the host. Both are reached through the Blob API,
 * which serves hierarchical-namespace accounts too.
 */
function accountHostLocation(
  url: URL,
  shown: string,
  path: string,
  service: 'dfs' | 'blob',
): StorageLocation {
  if (url.password !== '' || url.search !== '' || url.hash !== '')
    throw invalid(shown, 'credentials and query strings are not accepted in the URL; use the storage block');
  const container = decodeURIComponent(url.username);
  if (container === '')
    throw invalid(shown, `expected ${url.protocol}//container@account.${service}.core.windows.net/path`);
  checkContainer(container, shown);
  const [account, label, ...rest] = url.hostname.split('.');
  if (account === undefined || !AZURE_ACCOUNT.test(account))
    throw invalid(
      shown,
      `"${account ?? ''}" is not a valid storage account name (3-24 lower-case letters and digits)`,
    );
  if (label !== service || rest.length < 2)
    throw invalid(shown, `expected a host of the form account.${service}.core.windows.net`);
  const prefix = keyPrefix(path, shown);
  return {
    kind: 'azure',
    container,
    account,
    endpointSuffix: rest.join('.'),
    prefix,
    displayUrl: `${url.protocol}//${container}@${url.hostname}/${prefix}`,
  };
}

function fileLocation(url: URL, text: string): StorageLocation {
  if (url.hostname !== '' && url.hostname !== 'localhost')
    throw invalid(text, `a file:// URL names a local directory; "${url.hostname}" is another host`);
  const root = fileURLToPath(url);
  return { kind: 'file', root, displayUrl: root };
}

/**
 * Parses a store root. `baseDir` is where relative plain paths resolve (the lake directory).
 * Throws CONFIG_INVALID naming the URL (without credentials) when it is malformed.
 */
export function parseStorageUrl(text: string, baseDir: string): StorageLocation {
  const trimmed = text.trim();
  if (trimmed === '') throw invalid('""', 'empty');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    const root = isAbsolute(trimmed) ? resolve(trimmed) : resolve(baseDir, trimmed);
    return { kind: 'file', root, displayUrl: root };
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    // Not parsed, so nothing can be told apart from a secret: show the scheme alone.
    throw invalid(`${scheme}://…`, 'not a valid URL');
  }
  const shown = shownUrl(url);
  const path = writtenPath(trimmed);
  switch (scheme) {
    case 's3':
    case 's3a':
      return bucketLocation('s3', url, shown, path);
    case 'gs':
    case 'gcs':
      return bucketLocation('gcs', url, shown, path);
    case 'az':
    case 'azure':
      return azLocation(url, shown, path);
    case 'abfs':
    case 'abfss':
      return accountHostLocation(url, shown, path, 'dfs');
    case 'wasb':
    case 'wasbs':
      return accountHostLocation(url, shown, path, 'blob');
    case 'file':
      return fileLocation(url, shown);
    default:
      throw invalid(shown, `unknown scheme ${scheme}://; expected ${SCHEMES}`);
  }
}
