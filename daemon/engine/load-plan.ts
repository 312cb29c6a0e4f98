/**
 * What each part of a run feeds, by load mode, and what is left to load once every part is in:
 *
 * - full (and any load without a boundary): one consumer per part, the destination itself; the
 *   part's rows are typed, transformed and written to destination files as they arrive.
 * - incremental with a boundary: rows flagged at or below the stored watermark (`prior`) may have
 *   been loaded before, and only the whole batch tells which (watermarks.ts), so they are kept
 *   aside in `raw` with the rows whose hashes form the next boundary (`next`); every row not
 *   `prior` goes straight to the destination. After the boundary drops the rows loaded before,
 *   the `prior` rows left are written as one more part.
 * - merge: the newest row per key wins across the whole batch, so the transformed rows are staged
 *   in `final` and written as one part over it. A full refresh of a merge pipeline (load mode
 *   `full`) writes only the newest row per key, which then replaces the table.
 * - a backfill of an append pipeline (load mode `append_missing`) streams like an append without
 *   a boundary; the destination leaves out the rows it holds already.
 * - with data quality checks (quality-checks.ts), full and incremental: the checks are judged
 *   once every part is in, before the commit, from the files the destination wrote for the parts
 *   (`DestinationLoad.readBack`) or, when the destination offers no read-back or a check
 *   quarantines, from check rows a checks consumer of each part filed (with, whole, the rows a
 *   check quarantines, which the load leaves out). Checks that need the whole batch (a `sql`
 *   query, a quarantining `unique`) stage every row in `final` instead, as a merge does, and are
 *   judged before `final` is written.
 */
import type { PipelineConfig } from '../../shared/config/pipeline-schema.js';
import { EtlError } from '../../shared/errors.js';
import type { DestinationLoad, LoadMode } from '../destinations/destination.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent } from '../duckdb/duck-sql.js';
import { partFailure } from './part-failure.js';
import type { BatchChecks } from './quality-checks.js';
import type { PartConsumer, PartTotals } from './extractor.js';
import type { PreparedColumns } from './run-setup.js';
import { FINAL_TABLE, finalSelect, type Stager } from './stager.js';
import type { RunMetadata } from './transforms.js';
import { FLAG_NEXT, FLAG_PRIOR, keepsBoundary, type ShardRange } from './watermarks.js';

/** Which flags a shard's range sets (both unset: no row is kept aside). */
function activeFlags(range: ShardRange | undefined): { prior: boolean; next: boolean } {
  if (range === undefined) return { prior: false, next: false };
  return {
    prior: range.watermark !== null && range.boundary.length > 0,
    next: range.windowFrom !== null,
  };
}

function flag(name: string, value: 't' | 'f'): string {
  return `${quoteIdent(name)} = '${value}'`;
}

/** A run's data quality checks, as the load plan uses them. */
export interface PlanChecks {
  readonly checks: BatchChecks;
  /**
   * Judges the checks once every row is in (`table`: the staged batch; undefined: the check rows
   * filed while streaming, or the view over the written files when read back); throws to stop the
   * run, returns the rows quarantined.
   */
  judge(table: string | undefined): Promise<number>;
}

export class LoadPlan {
  readonly #config: PipelineConfig;
  /** The destination's load mode (run-kinds.ts); staging follows the pipeline's own mode. */
  readonly #loadMode: LoadMode;
  readonly #prepared: PreparedColumns;
  readonly #stager: Stager;
  readonly #load: DestinationLoad;
  readonly #meta: RunMetadata;
  readonly #checks: PlanChecks | undefined;
  /** Parts whose `prior` rows were kept aside (the others keep none). */
  readonly #keepsPrior = new Set<string>();
  /** Which of a part's consumers writes to the destination (the checks consumer comes first). */
  readonly #loadIndex = new Map<string, number>();
  #loadedByParts = 0;
  /** Streamed checks: the rows filed as check rows (read back: the rows the written files hold). */
  #checkRows = 0;
  /** Read back: each written part's rows, as the checks read them (`BatchChecks.restaged`). */
  readonly #written: string[] = [];

  constructor(
    config: PipelineConfig,
    loadMode: LoadMode,
    prepared: PreparedColumns,
    stager: Stager,
    load: DestinationLoad,
    meta: RunMetadata,
    checks?: PlanChecks,
  ) {
    this.#config = config;
    this.#loadMode = loadMode;
    this.#prepared = prepared;
    this.#stager = stager;
    this.#load = load;
    this.#meta = meta;
    this.#checks = checks === undefined || checks.checks.isEmpty ? undefined : checks;
  }

  /** Whether every row is staged in `final` before the load (merge, or checks needing the whole batch). */
  get #stagesWholeBatch(): boolean {
    return this.#mode === 'merge' || (this.#checks !== undefined && !this.#checks.checks.streamable);
  }

  /** Whether the checks' rows are filed while parts stream to the destination. */
  get #streamsChecks(): boolean {
    return this.#checks !== undefined && !this.#stagesWholeBatch;
  }

  /**
   * Whether streamed check rows are read back from what the destination wrote (no consumer of
   * their own): a quarantined row must be judged before the write, which leaves it out.
   */
  get #readsBack(): boolean {
    return (
      this.#streamsChecks &&
      this.#load.readBack !== undefined &&
      this.#checks?.checks.passingFilter() === undefined
    );
  }

  get #mode(): PipelineConfig['load']['mode'] {
    return this.#config.load.mode;
  }

  /** Creates what the parts feed; with checks, tries them first (CHECK_INVALID before any row is read). */
  async prepare(): Promise<void> {
    // With checks, `final` exists even when it stays empty: the checks are tried on its columns.
    if (this.#stagesWholeBatch || this.#checks !== undefined)
      await this.#stager.createFinal(this.#prepared.transforms.columns);
    await this.#checks?.checks.prepare(this.#stager.connection, FINAL_TABLE, this.#streamsChecks);
  }

  /** The consumers of one part (see the file comment). */
  consumers(shard: string, part: string, range: ShardRange | undefined): PartConsumer[] {
    if (this.#mode === 'merge') {
      return [
        {
          name: 'final',
          run: (path) =>
            this.#withConnection(async (connection) => {
              const typed = await this.#stager.typedSelect(connection, shard, part, [path]);
              const select = finalSelect(this.#prepared.transforms, this.#meta, `(${typed}) AS part_rows`);
              return this.#stager.insertFinal(connection, part, select);
            }),
        },
      ];
    }
    const flags = keepsBoundary(this.#config) ? activeFlags(range) : { prior: false, next: false };
    const load: PartConsumer = {
      name: 'load',
      run: (path) =>
        this.#withConnection(async (connection) => {
          const select = await this.#loadedRows(connection, shard, part, path, flags.prior);
          if (this.#stagesWholeBatch) return this.#stager.insertFinal(connection, part, select);
          return this.#writePassing(connection, part, select);
        }),
    };
    const consumers = [load];
    if (this.#streamsChecks && !this.#readsBack) {
      // First, so reconciliation counts every row of the part (the load leaves quarantined ones out).
      consumers.unshift({
        name: 'checks',
        run: (path) =>
          this.#withConnection(async (connection) =>
            this.#fileCheckRows(
              connection,
              part,
              // Unnumbered: the load reports a value that does not convert, with its row number.
              await this.#loadedRows(connection, shard, part, path, flags.prior, false),
            ),
          ),
      });
    }
    this.#loadIndex.set(part, consumers.indexOf(load));
    if (!flags.prior && !flags.next) return consumers;
    if (flags.prior) this.#keepsPrior.add(part);
    const keep: PartConsumer = {
      name: 'boundary',
      run: (path) =>
        this.#withConnection(async (connection) => {
          const typed = await this.#stager.typedSelect(connection, shard, part, [path]);
          return this.#stager.insertRaw(
            connection,
            part,
            `SELECT * FROM (${typed}) AS part_rows WHERE ${flag(FLAG_PRIOR, 't')} OR ${flag(FLAG_NEXT, 't')}`,
          );
        }),
    };
    return [...consumers, keep];
  }

  /** The final rows of a part that its load takes: all, or those not kept aside as `prior`. */
  async #loadedRows(
    connection: DuckDBConnection,
    shard: string,
    part: string,
    path: string,
    keepsPrior: boolean,
    numbered = true,
  ): Promise<string> {
    const typed = await this.#stager.typedSelect(connection, shard, part, [path], numbered);
    const rows = keepsPrior
      ? `(${typed}) AS part_rows WHERE ${flag(FLAG_PRIOR, 'f')}`
      : `(${typed}) AS part_rows`;
    return finalSelect(this.#prepared.transforms, this.#meta, rows);
  }

  /**
   * Writes the rows of `select` no check quarantines (read back: keeps what the checks will read
   * of them); resolves with the rows written.
   */
  async #writePassing(connection: DuckDBConnection, part: string, select: string): Promise<number> {
    const filter = this.#streamsChecks ? this.#checks?.checks.passingFilter() : undefined;
    const passing = filter === undefined ? select : `SELECT * FROM (${select}) AS b WHERE ${filter}`;
    let written: number;
    try {
      written = await this.#load.writePart({ connection, select: passing, id: part });
    } catch (error) {
      throw partFailure(part, error, this.#stager.memoryLimit);
    }
    const relation = this.#readsBack ? (this.#load.readBack?.(part) ?? null) : null;
    if (relation !== null && this.#checks !== undefined)
      this.#written.push(this.#checks.checks.restaged(relation));
    return written;
  }

  async #fileCheckRows(connection: DuckDBConnection, part: string, select: string): Promise<number> {
    try {
      const filed = (await this.#checks?.checks.fileRows(connection, select)) ?? 0;
      this.#checkRows += filed;
      return filed;
    } catch (error) {
      throw partFailure(part, error, this.#stager.memoryLimit);
    }
  }

  /**
   * Checks that the part's rows all went somewhere: rows extracted = rows its first consumer took
   * (+ the rows kept aside as `prior`). Returns the rows kept aside.
   */
  async reconcile(part: string, totals: PartTotals | undefined): Promise<number> {
    const extracted = totals?.rows ?? 0;
    const taken = totals?.consumed[0] ?? 0;
    const kept = this.#keepsPrior.has(part) ? await this.#stager.priorRows(part) : 0;
    if (taken + kept !== extracted) {
      throw new EtlError(
        'RECONCILIATION_FAILED',
        `part ${part}: ${extracted} rows extracted but ${taken + kept} rows taken (${kept} kept for the watermark boundary); nothing was committed`,
      );
    }
    if (this.#mode !== 'merge') this.#loadedByParts += totals?.consumed[this.#loadIndex.get(part) ?? 0] ?? 0;
    return kept;
  }

  /**
   * Writes what is left once every part is in (the `prior` rows the boundary kept, `keptAfter`
   * of them; the merge batch) and returns the rows the destination should report loaded.
   */
  async finish(keptAfter: number): Promise<number> {
    if (this.#mode === 'merge') {
      // Checks first: a not_null check that quarantines NULL keys keeps them out of the merge.
      await this.#checks?.judge(FINAL_TABLE);
      await this.#refuseNullKeys();
      const expected = await this.#stager.distinctKeys(this.#prepared.rowKey);
      if (this.#loadMode === 'full') {
        const newest = await this.#stager.newestPerKey(this.#prepared.rowKey, this.#prepared.loadedCursor);
        const written = await this.#write({
          select: `SELECT * FROM ${newest}`,
          table: newest,
          id: 'refresh',
        });
        if (written !== expected) {
          throw new EtlError(
            'RECONCILIATION_FAILED',
            `${expected} keys staged for the full refresh but ${written} rows written; nothing was committed`,
          );
        }
        return expected;
      }
      await this.#write({ select: `SELECT * FROM ${FINAL_TABLE}`, table: FINAL_TABLE, id: 'merge' });
      return expected;
    }
    if (this.#streamsChecks) return this.#finishStreamed(keptAfter);
    if (this.#checks !== undefined) {
      if (keptAfter > 0) {
        const select = finalSelect(this.#prepared.transforms, this.#meta, this.#stager.priorRelation());
        const staged = await this.#stager.insertFinal(this.#stager.connection, 'boundary', select);
        this.#checkBoundaryRows(keptAfter, staged);
      }
      const moved = await this.#checks.judge(FINAL_TABLE);
      const expected = this.#loadedByParts + keptAfter - moved;
      const written = await this.#write({
        select: `SELECT * FROM ${FINAL_TABLE}`,
        table: FINAL_TABLE,
        id: 'checked',
      });
      if (written !== expected) {
        throw new EtlError(
          'RECONCILIATION_FAILED',
          `${expected} rows staged for the load after the checks but ${written} written; nothing was committed`,
        );
      }
      return expected;
    }
    if (keptAfter > 0) {
      const select = finalSelect(this.#prepared.transforms, this.#meta, this.#stager.priorRelation());
      this.#checkBoundaryRows(keptAfter, await this.#write({ select, id: 'boundary' }));
    }
    return this.#loadedByParts + keptAfter;
  }

  /**
   * Streamed checks: the boundary's `prior` rows left are filed and written like a part, then the
   * checks are judged; every row is either written or quarantined.
   */
  async #finishStreamed(keptAfter: number): Promise<number> {
    let written = 0;
    if (keptAfter > 0) {
      const select = finalSelect(this.#prepared.transforms, this.#meta, this.#stager.priorRelation());
      // Read back, every row is written (nothing quarantines) and judged from the written files.
      if (!this.#readsBack) {
        const filed = await this.#fileCheckRows(this.#stager.connection, 'boundary', select);
        this.#checkBoundaryRows(keptAfter, filed);
      }
      written = await this.#writePassing(this.#stager.connection, 'boundary', select);
      if (this.#readsBack) this.#checkBoundaryRows(keptAfter, written);
    }
    if (this.#readsBack && this.#checks !== undefined)
      this.#checkRows = await this.#checks.checks.readWritten(this.#stager.connection, this.#written);
    const quarantined = (await this.#checks?.judge(undefined)) ?? 0;
    const expected = this.#loadedByParts + written;
    if (expected + quarantined !== this.#checkRows) {
      throw new EtlError(
        'RECONCILIATION_FAILED',
        `${this.#checkRows} rows judged but ${expected} written and ${quarantined} quarantined; nothing was committed`,
      );
    }
    return expected;
  }

  #checkBoundaryRows(keptAfter: number, written: number): void {
    if (written === keptAfter) return;
    throw new EtlError(
      'RECONCILIATION_FAILED',
      `${keptAfter} rows kept at the watermark boundary but ${written} written; nothing was committed`,
    );
  }

  async #write(part: { select: string; table?: string; id: string }): Promise<number> {
    try {
      return await this.#load.writePart({ connection: this.#stager.connection, ...part });
    } catch (error) {
      throw partFailure(part.id, error, this.#stager.memoryLimit);
    }
  }

  /** Merge places rows by key: a NULL key matches nothing (or everything) depending on the engine, so it is refused. */
  async #refuseNullKeys(): Promise<void> {
    const nulls = await this.#stager.nullKeys(this.#prepared.loadedKey);
    if (nulls.length === 0) return;
    throw new EtlError(
      'SOURCE_DATA',
      `merge key ${nulls.map((n) => `column "${n.column}" is NULL in ${n.rows} row(s)`).join(', ')}; a merge cannot place rows without a key ` +
        '(fix the source rows, choose a key without NULLs, or use append mode)',
    );
  }

  async #withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.#stager.connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  }
}
