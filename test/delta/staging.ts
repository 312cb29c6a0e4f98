/**
 * The Delta tests' staging: the conformance stager (a staging DuckDB like the run engine's) with
 * rows given as a list of SQL tuples, and requests addressed by sequence and mode.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LoadMode } from '../../daemon/destinations/destination.js';
import { commitRequest, type CommitRequest, type StagedBatch } from '../conformance/commit-batch.js';
import { createStager, type Stager } from '../conformance/staged-batch.js';
import type { ColumnSchema } from '../../shared/types.js';

export class Staging {
  readonly #stager: Stager;

  private constructor(stager: Stager) {
    this.#stager = stager;
  }

  static async open(): Promise<Staging> {
    return new Staging(await createStager());
  }

  get connection(): DuckDBConnection {
    return this.#stager.connection;
  }

  /** `rows` are SQL literal tuples in column order, e.g. `(1, 'a', NULL)`. */
  batch(columns: readonly ColumnSchema[], rows: readonly string[]): Promise<StagedBatch> {
    return this.#stager.stage(columns, rows.join(', '));
  }

  close(): void {
    this.#stager.close();
  }
}

export function request(
  batch: StagedBatch,
  sequence: number,
  mode: LoadMode = 'incremental',
  extra: Partial<
    Pick<CommitRequest, 'key' | 'cursor' | 'schemaEvolution' | 'pipeline' | 'signal' | 'compare'>
  > = {},
): CommitRequest {
  return commitRequest(batch, { sequence, mode, ...extra });
}
