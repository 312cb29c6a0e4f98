/**
 * Destination tests load a whole batch held in one staging table, as etld 0.1's engine did: this
 * drives the two-phase load API (beginLoad → one part over the table → commit, abort on failure).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CommitResult, Destination, LoadRequest } from '../../daemon/destinations/destination.js';
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
