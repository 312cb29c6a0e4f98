/**
 * `etlctl test` on a Delta destination, writing nothing: the table's snapshot is read the way a
 * load reads it (the destination hands its own reader in, whatever storage it reads from), its
 * table features are checked against what etld writes (and `delta.appendOnly` against the load
 * mode), and, for a table on a local path only, the table directory (or the nearest existing
 * parent a run would create it under) must be writable. An object-store location is not probed:
 * proving a write permission there takes a write.
 */
import { join } from 'node:path';
import { EtlError } from '../../../shared/errors.js';
import { CheckRecorder, type AccessCheck, type AccessCheckRequest } from '../access-check.js';
import { pathExists, writableDirectory } from '../local-access.js';
import { checkTableFeatures, isAppendOnly } from './delta-features.js';
import type { DeltaSnapshot } from './delta-log-reader.js';

export interface DeltaAccessTarget {
  /** The configured table location: a local path, or an object-store URL. */
  readonly tablePath: string;
  /** The snapshot as the destination reads it; undefined when there is no table yet. */
  readSnapshot(): Promise<DeltaSnapshot | undefined>;
}

/** `s3://…`, `gs://…`, `az://…`: not a path this process can ask access(2) about. */
function isObjectStoreUrl(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !/^file:/i.test(location);
}

export async function checkDeltaAccess(
  target: DeltaAccessTarget,
  request: AccessCheckRequest,
): Promise<AccessCheck[]> {
  const recorder = new CheckRecorder({
    signal: request.signal,
    timeoutMs: request.timeoutMs,
    timeoutCode: 'DESTINATION_WRITE',
    failedCode: 'DESTINATION_PERMISSION',
  });
  const table = target.tablePath;
  const read = await recorder.run<{ snapshot: DeltaSnapshot | undefined }>(
    'destination_connect',
    async () => {
      const snapshot = await target.readSnapshot();
      return {
        status: 'ok',
        detail:
          snapshot === undefined ? `${table} holds no Delta log yet` : `the Delta log of ${table} reads`,
        value: { snapshot },
      };
    },
  );
  if (read === undefined) {
    recorder.skip('destination_table', 'not checked: the Delta log does not read');
    recorder.skip('table_features', 'not checked: the Delta log does not read');
  } else {
    const { snapshot } = read;
    await recorder.run('destination_table', () =>
      Promise.resolve({
        status: 'ok',
        detail:
          snapshot === undefined
            ? `no Delta table at ${table}: the first run creates it`
            : `Delta table at version ${snapshot.version} (${snapshot.files.size} file(s), ${snapshot.schema.fields.length} column(s))`,
      }),
    );
    if (snapshot === undefined)
      recorder.skip('table_features', 'no table yet: the first run writes one etld supports');
    else
      await recorder.run('table_features', () => {
        checkTableFeatures(
          snapshot.protocol,
          snapshot.metadata,
          snapshot.schema,
          snapshot.files.values(),
          table,
        );
        const appendOnly = isAppendOnly(snapshot.metadata);
        if (appendOnly && (request.mode === 'full' || request.mode === 'merge'))
          throw new EtlError(
            'UNSUPPORTED_TABLE_FEATURE',
            `UnsupportedTableFeature: appendOnly (delta.appendOnly=true) forbids the ${request.mode} load of Delta table ${table}`,
          );
        return Promise.resolve(
          appendOnly
            ? {
                status: 'warning',
                code: 'UNSUPPORTED_TABLE_FEATURE',
                detail: `reader ${snapshot.protocol.minReaderVersion} / writer ${snapshot.protocol.minWriterVersion}: supported; delta.appendOnly=true refuses a full refresh (start --full-refresh)`,
              }
            : {
                status: 'ok',
                detail: `reader ${snapshot.protocol.minReaderVersion} / writer ${snapshot.protocol.minWriterVersion}: supported`,
              },
        );
      });
  }
  if (isObjectStoreUrl(table)) {
    recorder.skip(
      'write_permission',
      `${table} is in object storage: a write permission there is only proven by writing`,
    );
    return recorder.checks;
  }
  await recorder.run('write_permission', async () => {
    const log = join(table, '_delta_log');
    const purpose = `a run writes data files into ${table} and commits into ${log}`;
    const detail = await writableDirectory(table, purpose);
    if (await pathExists(log)) await writableDirectory(log, purpose);
    return { status: 'ok', detail };
  });
  return recorder.checks;
}
