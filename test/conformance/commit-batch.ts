/**
 * Destination tests load a whole batch held in one staging table, as etld 0.1's engine did: this
 * drives the two-phase load API (beginLoad → one part over the table → commit, abort on failure).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CommitResult, Destination, LoadRequest } from '../../daemon/destinations/destination.js';
import { EtlError } from '../../shared/errors.js';
import type { ColumnSchema } from '../../shared/types.js';

/** Rows staged in one table of a staging DuckDB, typed with `stagingDuckType()`. */
export interface StagedBatch {
  /** `SET TimeZone='UTC'` is in force. */
  readonly connection: DuckDBConnection;
  /** Quoted name of the table holding the rows. */
  readonly relation: string;
  readonly columns: readonly ColumnSchema[];
  readonly rowCount: number;
  readonly workDir: string;
}

/** A load request whose columns and work directory come from the staged batch. */
export interface CommitRequest extends Omit<LoadRequest, 'columns' | 'workDir' | 'duckdb'> {
  readonly batch: StagedBatch;
}

export async function commitBatch(destination: Destination, request: CommitRequest): Promise<CommitResult> {
  const { batch, ...rest } = request;
  const load = await destination.beginLoad({ ...rest, columns: batch.columns, workDir: batch.workDir });
  try {
    await load.writePart({
      connection: batch.connection,
      select: `SELECT * FROM ${batch.relation}`,
      table: batch.relation,
      id: 'batch',
    });
    return await load.commit();
  } catch (error) {
    await load.abort();
    throw error;
  }
}

/**
 * A request for `batch` as pipeline `orders`, incremental, sequence 1, run id `run-<sequence>`,
 * under `add_columns`, unless `overrides` says otherwise.
 */
export function commitRequest(
  batch: StagedBatch,
  overrides: Partial<Omit<CommitRequest, 'batch'>> = {},
): CommitRequest {
  const sequence = overrides.sequence ?? 1;
  return {
    pipeline: 'orders',
    runId: `run-${sequence}`,
    sequence,
    mode: 'incremental',
    key: undefined,
    cursor: undefined,
    schemaEvolution: 'add_columns',
    signal: new AbortController().signal,
    ...overrides,
    batch,
  };
}

/** The EtlError `promise` rejects with; fails the test when it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<EtlError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EtlError) return error;
    throw error;
  }
  throw new Error('expected the operation to fail with an EtlError');
}
