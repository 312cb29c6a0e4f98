/**
 * `etlctl test` on a DuckDB destination, creating nothing: the file, if it exists, opens read-only
 * (attached as plan attaches it) and says whether the table is there; the directory a commit writes
 * the file and its WAL into (created with its parents when missing) must be writable, and so must
 * the file itself (local-access.ts says how permissions are asked, and what that means for root).
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EtlError } from '../../../shared/errors.js';
import { CheckRecorder, type AccessCheck, type AccessCheckRequest } from '../access-check.js';
import type { NativeColumn } from '../schema-diff.js';
import { pathExists, writableDirectory, writableFile } from '../local-access.js';

export interface DuckDbAccessTarget {
  readonly label: string;
  readonly path: string;
  /** `schema.table` as configured. */
  readonly table: string;
  /** The table's columns, with the file attached read-only (null: no such table). */
  readColumns(): Promise<NativeColumn[] | null>;
}

export async function checkDuckDbAccess(
  target: DuckDbAccessTarget,
  request: AccessCheckRequest,
): Promise<AccessCheck[]> {
  const recorder = new CheckRecorder({
    signal: request.signal,
    timeoutMs: request.timeoutMs,
    timeoutCode: 'DESTINATION_WRITE',
    failedCode: 'DESTINATION_PERMISSION',
  });
  const { path } = target;
  const opened = await recorder.run<{ present: boolean; columns: NativeColumn[] | null }>(
    'destination_connect',
    async () => {
      if (!(await pathExists(path)))
        return {
          status: 'ok',
          detail: `${path} does not exist yet: the first run creates it`,
          value: { present: false, columns: null },
        };
      const info = await stat(path);
      if (!info.isFile())
        throw new EtlError('DESTINATION_WRITE', `${path} is not a file`, { retryable: false });
      const columns = await target.readColumns();
      return { status: 'ok', detail: `${path} opens read-only`, value: { present: true, columns } };
    },
  );
  if (opened === undefined) recorder.skip('destination_table', 'not checked: the file does not open');
  else
    await recorder.run('destination_table', () =>
      Promise.resolve({
        status: 'ok',
        detail:
          opened.columns === null
            ? `table ${target.table} does not exist${opened.present ? ` in ${path}` : ''}: the first run creates it`
            : `table ${target.table} exists (${opened.columns.length} column(s))`,
      }),
    );
  await recorder.run('write_permission', async () => {
    const directory = await writableDirectory(dirname(path), `a commit writes ${path} and its WAL there`);
    if (await pathExists(path)) {
      await writableFile(path);
      return { status: 'ok', detail: `${path} and its ${directory}` };
    }
    return { status: 'ok', detail: directory };
  });
  return recorder.checks;
}
