/**
 * `etlctl test` for a files source: the store opens with its credentials (`connect`), its prefix
 * can be listed and some file matches the pattern (`list`), and the first matching file can be
 * fetched and described (`read`, the columns a run would load). Nothing is written and no row
 * leaves the machine: the described file is downloaded to a temp directory that is removed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { fileSourceOptions } from '../../shared/config/files-source-schema.js';
import type { PipelineConfig } from '../../shared/config/pipeline-schema.js';
import { toEtlError } from '../../shared/errors.js';
import type { ColumnSchema } from '../../shared/types.js';
import { CheckRecorder } from '../destinations/access-check.js';
import type { SecretEnvironment } from '../config/secrets.js';
import { compileGlob } from '../sources/files/file-glob.js';
import { describeFile } from '../sources/files/file-schema.js';
import { openObjectStore } from '../storage/open-store.js';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.js';
import { explicitFileColumns, FILE_METADATA_COLUMNS, readSpecOf } from './file-batch.js';

const CHECK_TIMEOUT_MS = 30_000;
/** Objects looked at for a first match: enough for a test, bounded for a bucket of millions. */
const LIST_LIMIT = 10_000;

export interface FileSourceTest {
  readonly recorder: CheckRecorder;
  /** The source columns of the first matching file (with the metadata columns); undefined when unknown. */
  readonly columns: readonly ColumnSchema[] | undefined;
}

export async function testFileSource(
  config: PipelineConfig,
  secrets: SecretEnvironment | undefined,
  signal: AbortSignal,
): Promise<FileSourceTest> {
  const recorder = new CheckRecorder({
    signal,
    timeoutMs: CHECK_TIMEOUT_MS,
    timeoutCode: 'SOURCE_TIMEOUT',
    failedCode: 'SOURCE_PERMISSION',
  });
  const options = fileSourceOptions(config.source);
  const store = await recorder.run<ObjectStore>('connect', async () => {
    const opened = await openObjectStore(options.url, config.source.storage, {
      baseDir: '/',
      secrets: secrets ?? { env: {}, credentialsDirectory: undefined },
    });
    return { status: 'ok', detail: `opened ${opened.displayUrl}`, value: opened };
  });
  if (store === undefined) {
    recorder.skip('list', 'not checked: the store could not be opened');
    recorder.skip('read', 'not checked: the store could not be opened');
    return { recorder, columns: undefined };
  }
  try {
    const first = await recorder.run<ObjectInfo>('list', async (s) => {
      const glob = compileGlob(options.pattern);
      let listed = 0;
      for await (const object of store.list(glob.listPrefix)) {
        if (s.aborted) break;
        listed++;
        if (!object.key.endsWith('/') && glob.matches(object.key))
          return { status: 'ok', detail: `${object.key} matches ${options.pattern}`, value: object };
        if (listed >= LIST_LIMIT) break;
      }
      return {
        status: 'warning',
        code: 'SOURCE_DATA',
        detail: `no file matches ${options.pattern} among the first ${listed} listed under ${store.displayUrl}${glob.listPrefix === '' ? '' : `/${glob.listPrefix}`}`,
      };
    });
    if (first === undefined) {
      recorder.skip('read', 'not checked: no matching file');
      return { recorder, columns: undefined };
    }
    const columns = await recorder.run<ColumnSchema[]>('read', async (s) => {
      const explicit = explicitFileColumns(config);
      const described = explicit ?? (await describeOne(store, first, config, s));
      return {
        status: 'ok',
        detail: `${first.key}: ${described.length} column(s)${explicit === undefined ? ' inferred' : ' from source.columns'}`,
        value: [...described, ...FILE_METADATA_COLUMNS],
      };
    });
    return { recorder, columns };
  } catch (error) {
    recorder.checks.push({
      check: 'list',
      status: 'failed',
      detail: toEtlError(error).message,
      code: toEtlError(error).code,
      durationMs: 0,
    });
    return { recorder, columns: undefined };
  } finally {
    await store.close();
  }
}

async function describeOne(
  store: ObjectStore,
  file: ObjectInfo,
  config: PipelineConfig,
  signal: AbortSignal,
): Promise<ColumnSchema[]> {
  const options = fileSourceOptions(config.source);
  const dir = await mkdtemp(join(tmpdir(), 'etld-file-test-'));
  const duck = await DuckDBInstance.create(':memory:', { threads: '1' });
  try {
    const local = store.localRoot !== undefined ? join(store.localRoot, file.key) : join(dir, 'file');
    if (store.localRoot === undefined) await store.download(file.key, local);
    const connection = await duck.connect();
    try {
      return await describeFile(connection, local, readSpecOf(options, file.key), file.key, signal);
    } finally {
      connection.closeSync();
    }
  } finally {
    duck.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
