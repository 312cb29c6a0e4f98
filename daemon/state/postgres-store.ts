/**
 * The PostgreSQL state store: the StateStore contract (store.ts) on a database several etld hosts
 * share, with the SQLite store's semantics (same ids, order, errors and transactions). Statements go
 * through the synchronous client (pg-sync-client.ts), so the contract stays synchronous.
 *
 * Decisions:
 * - What SQLite does in one transaction is one PostgreSQL transaction (`client.transaction`).
 * - Where hosts could race (a pipeline's row, a run's id, parts, watermarks, ledger entries, run
 *   tables) a write is `INSERT … ON CONFLICT`, never a read then a write.
 * - Text filters run in JS over keyset-ordered batches (postgres-listings.ts): PostgreSQL cannot
 *   call the shared matcher.
 * - NULLs sort as SQLite sorts them (first ascending, last descending), spelled out where a
 *   nullable column orders a listing.
 */
import { EtlError } from '../../shared/errors.js';
import type { RunKind, RunStatus } from '../../shared/types.js';
import { describeStateUrl, openSyncPgClient, type SyncPgClient } from './pg-sync-client.js';
import * as listings from './postgres-listings.js';
import { migratePostgres } from './postgres-migrations.js';
import {
  NEW_RUN_COLUMNS,
  RUN_COLUMNS,
  RUN_TABLE_COLUMNS,
  groupAttempts,
  storedNewRun,
  storedRunTableValue,
  storedRunValue,
  storedWatermark,
  toAlert,
  toPart,
  toRun,
  toRunTable,
  toRuntime,
  toSourceFile,
  toStateChange,
  toWatermark,
} from './row-mappers.js';
import { batches } from './source-file-ledger.js';
import type {
  AlertFilter,
  AlertRow,
  NewRun,
  NewSourceFile,
  NewStateChange,
  PipelineRuntime,
  RunFilter,
  RunPartRow,
  RunPatch,
  RunRow,
  RunScan,
  RunTablePatch,
  RunTableRow,
  SourceFileFilter,
  SourceFileRecord,
  SourceFileTotals,
  StateChangeRow,
  StateStore,
  Watermark,
} from './store.js';

export interface PostgresStateStoreOptions {
  readonly url: string;
  /** `application_name` of the connection, so pg_stat_activity shows which host holds it. */
  readonly applicationName?: string;
  readonly now?: () => Date;
}

/** Runs one scanRuns call examines at most, as the SQLite store's window. */
const RUN_SCAN_WINDOW = 2000;

/**
 * Opens the PostgreSQL state store, migrating its database (several daemons may do so at once). A
 * database written by a newer etld is refused with STATE_STORE_NEWER; an unreachable server is a
 * STATE_STORE error naming it (never its password).
 */
export function openPostgresStateStore(options: PostgresStateStoreOptions): StateStore {
  const where = describeStateUrl(options.url);
  const client = openSyncPgClient({
    url: options.url,
    ...(options.applicationName === undefined ? {} : { applicationName: options.applicationName }),
  });
  try {
    migratePostgres(client, where);
  } catch (error) {
    client.close();
    throw error;
  }
  return new PostgresStateStore(client, where, options.now ?? (() => new Date()));
}

type Watermarks = readonly Omit<Watermark, 'updatedAt' | 'sequence'>[];

class PostgresStateStore implements StateStore {
  readonly path: string;
  readonly #client: SyncPgClient;
  readonly #now: () => Date;

  constructor(client: SyncPgClient, path: string, now: () => Date) {
    this.#client = client;
    this.path = path;
    this.#now = now;
  }

  #iso(): string {
    return this.#now().toISOString();
  }

  #query(sql: string, params: readonly unknown[] = []): Record<string, unknown>[] {
    return this.#client.query(sql, params);
  }

  close(): void {
    this.#client.close();
  }

  /**
   * Sets columns of a pipeline's row, creating it with the defaults first when there is none: one
   * statement, so two hosts touching a new pipeline at once both succeed.
   */
  #setPipeline(name: string, values: Readonly<Record<string, unknown>>): void {
    const columns = Object.keys(values);
    const placeholders = columns.map((_, i) => `$${i + 2}`);
    this.#query(
      `INSERT INTO pipelines (name, ${columns.join(', ')}) VALUES ($1, ${placeholders.join(', ')})
       ON CONFLICT (name) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}`,
      [name, ...Object.values(values)],
    );
  }

  getRuntime(pipeline: string): PipelineRuntime {
    return toRuntime(this.#query('SELECT * FROM pipelines WHERE name = $1', [pipeline])[0]);
  }

  setPaused(pipeline: string, paused: boolean): void {
    this.#setPipeline(pipeline, { paused: paused ? 1 : 0, paused_at: paused ? this.#iso() : null });
  }

  markFire(pipeline: string, fireAt: string): void {
    this.#setPipeline(pipeline, { last_fire_at: fireAt });
  }

  markSkip(pipeline: string, reason: string, at: string): void {
    this.#setPipeline(pipeline, { last_skip_reason: reason, last_skip_at: at });
  }

  setCommittedSequence(pipeline: string, sequence: number): void {
    this.#raiseCommittedSequence(pipeline, sequence);
  }

  /**
   * What a run's commit does to the committed sequence, whatever it commits (watermarks, files):
   * raises it, never lowers it. Only an operator's correction sets it lower (replaceWatermarks).
   */
  #raiseCommittedSequence(pipeline: string, sequence: number): void {
    this.#query(
      `INSERT INTO pipelines (name, committed_sequence) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE
         SET committed_sequence = greatest(pipelines.committed_sequence, excluded.committed_sequence)`,
      [pipeline, sequence],
    );
  }

  pipelineFiles(): Map<string, string> {
    const rows = this.#query('SELECT name, file FROM pipelines WHERE file IS NOT NULL');
    return new Map(rows.map((r) => [r.name as string, r.file as string]));
  }

  setPipelineFiles(pipelines: readonly { readonly name: string; readonly file: string }[]): void {
    this.#client.transaction(() => {
      for (const { name, file } of pipelines) {
        this.#query(
          `INSERT INTO pipelines (name, file) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE
             SET file = excluded.file WHERE pipelines.file IS DISTINCT FROM excluded.file`,
          [name, file],
        );
      }
    });
  }

  nextSequence(pipeline: string): number {
    const row = this.#query(
      `SELECT greatest(coalesce((SELECT max(sequence) FROM runs WHERE pipeline = $1), 0),
                       coalesce((SELECT committed_sequence FROM pipelines WHERE name = $1), 0)) + 1 AS s`,
      [pipeline],
    )[0];
    return row?.s as number;
  }

  insertRun(run: NewRun): RunRow {
    const { id, values } = storedNewRun(run, this.#iso());
    // One statement: the pipeline's row if it is new, and the run, which another host may have
    // inserted first (both asked nextSequence at once): then this one is refused, not overwritten.
    const inserted = this.#query(
      `WITH pipeline AS (INSERT INTO pipelines (name) VALUES ($2) ON CONFLICT (name) DO NOTHING)
       INSERT INTO runs (${NEW_RUN_COLUMNS}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT DO NOTHING RETURNING *`,
      values,
    )[0];
    if (inserted === undefined)
      throw new EtlError('STATE_STORE', `run ${id} already exists (another etld host started it)`);
    return toRun(inserted);
  }

  updateRun(id: string, patch: RunPatch): RunRow {
    const keys = (Object.keys(patch) as (keyof RunPatch)[]).filter((k) => patch[k] !== undefined);
    const rows =
      keys.length === 0
        ? this.#query('SELECT * FROM runs WHERE id = $1', [id])
        : this.#query(
            `UPDATE runs SET ${keys.map((k, i) => `${RUN_COLUMNS[k]} = $${i + 2}`).join(', ')} WHERE id = $1 RETURNING *`,
            [id, ...keys.map((k) => storedRunValue(k, patch))],
          );
    const row = rows[0];
    if (row === undefined) throw new EtlError('NOT_FOUND', `run ${id} not found`);
    return toRun(row);
  }

  getRun(id: string): RunRow | undefined {
    const row = this.#query('SELECT * FROM runs WHERE id = $1', [id])[0];
    return row === undefined ? undefined : toRun(row);
  }

  listRuns(pipeline: string, limit: number): RunRow[] {
    return this.#query(
      'SELECT * FROM runs WHERE pipeline = $1 ORDER BY created_at DESC, sequence DESC, attempt DESC LIMIT $2',
      [pipeline, limit],
    ).map(toRun);
  }

  listRunAttempts(pipeline: string, limit: number): RunRow[][] {
    const rows = this.#query(
      `SELECT * FROM runs WHERE pipeline = $1 AND sequence IN (
           SELECT sequence FROM runs WHERE pipeline = $1 GROUP BY sequence ORDER BY sequence DESC LIMIT $2)
         ORDER BY sequence DESC, attempt ASC`,
      [pipeline, limit],
    ).map(toRun);
    return groupAttempts(rows);
  }

  scanRuns(filter: RunFilter, window = RUN_SCAN_WINDOW): RunScan {
    return listings.scanRuns(this.#client, filter, window);
  }

  /** Every match up to the limit: the scan goes on in batches however many runs it passes. */
  findRuns(filter: RunFilter): RunRow[][] {
    return listings.scanRuns(this.#client, filter, Number.MAX_SAFE_INTEGER).runs;
  }

  attemptsOf(pipeline: string, sequence: number): RunRow[] {
    return this.#query('SELECT * FROM runs WHERE pipeline = $1 AND sequence = $2 ORDER BY attempt', [
      pipeline,
      sequence,
    ]).map(toRun);
  }

  runsWithStatus(statuses: readonly RunStatus[]): RunRow[] {
    if (statuses.length === 0) return [];
    return this.#query(
      'SELECT * FROM runs WHERE status = ANY($1::text[]) ORDER BY created_at, pipeline, sequence, attempt',
      [statuses],
    ).map(toRun);
  }

  lastSuccess(pipeline: string, kinds: readonly RunKind[] = ['normal', 'full_refresh']): RunRow | undefined {
    if (kinds.length === 0) return undefined;
    const row = this.#query(
      `SELECT * FROM runs WHERE pipeline = $1 AND status = 'succeeded' AND kind = ANY($2::text[])
        ORDER BY finished_at DESC NULLS LAST, created_at DESC LIMIT 1`,
      [pipeline, kinds],
    )[0];
    return row === undefined ? undefined : toRun(row);
  }

  runsSince(pipeline: string, sinceIso: string): RunRow[] {
    return this.#query(
      'SELECT * FROM runs WHERE pipeline = $1 AND created_at >= $2 ORDER BY created_at DESC',
      [pipeline, sinceIso],
    ).map(toRun);
  }

  upsertPart(part: RunPartRow): void {
    this.#query(
      `INSERT INTO run_parts (run_id, part_id, shard, chunk, status, rows, bytes, estimated_rows, error_code, error_message, started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (run_id, part_id) DO UPDATE SET
           shard = excluded.shard, chunk = excluded.chunk, status = excluded.status, rows = excluded.rows,
           bytes = excluded.bytes, estimated_rows = excluded.estimated_rows, error_code = excluded.error_code,
           error_message = excluded.error_message, started_at = excluded.started_at, finished_at = excluded.finished_at`,
      [
        part.runId,
        part.partId,
        part.shard,
        part.chunk,
        part.status,
        part.rows,
        part.bytes,
        part.estimatedRows,
        part.errorCode,
        part.errorMessage,
        part.startedAt,
        part.finishedAt,
      ],
    );
  }

  listParts(runId: string): RunPartRow[] {
    return this.#query(
      'SELECT * FROM run_parts WHERE run_id = $1 ORDER BY shard NULLS FIRST, chunk NULLS FIRST, part_id',
      [runId],
    ).map(toPart);
  }

  getWatermarks(pipeline: string): Watermark[] {
    return this.#query('SELECT * FROM watermarks WHERE pipeline = $1 ORDER BY shard', [pipeline]).map(
      toWatermark,
    );
  }

  /** Writes each watermark (replacing the shard's) with `sequence`; the caller holds the transaction. */
  #writeWatermarks(pipeline: string, sequence: number, watermarks: Watermarks, at: string): void {
    for (const w of watermarks) {
      const stored = storedWatermark(w);
      this.#query(
        `INSERT INTO watermarks (pipeline, shard, value, boundary_json, identity_json, sequence, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (pipeline, shard) DO UPDATE SET value = excluded.value, boundary_json = excluded.boundary_json,
           identity_json = excluded.identity_json, sequence = excluded.sequence, updated_at = excluded.updated_at`,
        [pipeline, w.shard, w.value, stored.boundary, stored.identity, sequence, at],
      );
    }
  }

  commitWatermarks(
    pipeline: string,
    sequence: number,
    watermarks: Watermarks,
    options: { readonly replaceAll?: boolean } = {},
  ): void {
    const at = this.#iso();
    this.#client.transaction(() => {
      // The pipeline's row is locked first: two hosts' commits of one pipeline take turns here.
      this.#query('INSERT INTO pipelines (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [pipeline]);
      const [row] = this.#query('SELECT committed_sequence FROM pipelines WHERE name = $1 FOR UPDATE', [
        pipeline,
      ]);
      // A host that lost its lease while alive may finish an older sequence after a later one was
      // committed: its batch is in the destination already, and its watermarks must not go back.
      if (Number(row?.committed_sequence ?? 0) > sequence) return;
      if (options.replaceAll === true) this.#query('DELETE FROM watermarks WHERE pipeline = $1', [pipeline]);
      this.#writeWatermarks(pipeline, sequence, watermarks, at);
      this.#raiseCommittedSequence(pipeline, sequence);
    });
  }

  replaceWatermarks(
    pipeline: string,
    committedSequence: number,
    watermarks: Watermarks,
    change: NewStateChange,
  ): void {
    const at = this.#iso();
    this.#client.transaction(() => {
      this.#query('DELETE FROM watermarks WHERE pipeline = $1', [pipeline]);
      this.#writeWatermarks(pipeline, committedSequence, watermarks, at);
      this.#setPipeline(pipeline, { committed_sequence: committedSequence });
      this.#query(
        'INSERT INTO state_changes (pipeline, at, action, detail, actor, shards_json) VALUES ($1, $2, $3, $4, $5, $6)',
        [pipeline, at, change.action, change.detail, change.actor, JSON.stringify(change.shards)],
      );
    });
  }

  listStateChanges(pipeline: string, limit: number, since?: string): StateChangeRow[] {
    return this.#query(
      `SELECT at, action, detail, actor, shards_json FROM state_changes
        WHERE pipeline = $1 AND at >= $2 ORDER BY id DESC LIMIT $3`,
      [pipeline, since ?? '', limit],
    ).map(toStateChange);
  }

  upsertRunTable(
    pipeline: string,
    sequence: number,
    table: string,
    member: string,
    patch: RunTablePatch,
  ): RunTableRow {
    // One statement creates the row (pending unless the patch says otherwise) or patches it: the
    // fields a patch leaves out keep their values.
    const inserted: Record<string, unknown> = {
      pipeline,
      sequence,
      table_name: table,
      member,
      status: 'pending',
      updated_at: this.#iso(),
    };
    const patched = ['updated_at'];
    for (const field of Object.keys(patch) as (keyof RunTablePatch)[]) {
      if (patch[field] === undefined) continue;
      const column = RUN_TABLE_COLUMNS[field];
      inserted[column] = storedRunTableValue(patch[field]);
      patched.push(column);
    }
    const columns = Object.keys(inserted);
    const row = this.#query(
      `INSERT INTO run_tables (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT (pipeline, sequence, table_name) DO UPDATE
         SET ${patched.map((c) => `${c} = excluded.${c}`).join(', ')}
       RETURNING *`,
      Object.values(inserted),
    )[0];
    if (row === undefined)
      throw new EtlError('STATE_STORE', `run table ${table} of ${pipeline}-${sequence} not written`);
    return toRunTable(row);
  }

  listRunTables(pipeline: string, sequence: number): RunTableRow[] {
    return this.#query('SELECT * FROM run_tables WHERE pipeline = $1 AND sequence = $2 ORDER BY table_name', [
      pipeline,
      sequence,
    ]).map(toRunTable);
  }

  latestRunTables(pipeline: string): RunTableRow[] {
    return this.#query(
      `SELECT DISTINCT ON (table_name) * FROM run_tables WHERE pipeline = $1
        ORDER BY table_name, sequence DESC`,
      [pipeline],
    ).map(toRunTable);
  }

  commitSourceFiles(
    pipeline: string,
    sequence: number,
    runId: string,
    files: readonly NewSourceFile[],
    { replaceLoaded = false }: { readonly replaceLoaded?: boolean } = {},
  ): void {
    const at = this.#iso();
    this.#client.transaction(() => {
      if (replaceLoaded)
        this.#query("DELETE FROM source_files WHERE pipeline = $1 AND status = 'loaded'", [pipeline]);
      // A batch of entries per statement, as arrays: one round trip per 500 files, not per file.
      for (let i = 0; i < files.length; i += 500) {
        const batch = files.slice(i, i + 500);
        this.#query(
          `INSERT INTO source_files (pipeline, key, size, version, modified_at, status, sequence, run_id, reason, recorded_at)
           SELECT $1, f.key, f.size, f.version, f.modified_at, f.status, $2, $3, f.reason, $4
             FROM unnest($5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[])
                  AS f (key, size, version, modified_at, status, reason)
           ON CONFLICT (pipeline, key) DO UPDATE SET size = excluded.size, version = excluded.version,
             modified_at = excluded.modified_at, status = excluded.status, sequence = excluded.sequence,
             run_id = excluded.run_id, reason = excluded.reason, recorded_at = excluded.recorded_at`,
          [
            pipeline,
            sequence,
            runId,
            at,
            batch.map((f) => f.key),
            batch.map((f) => f.size),
            batch.map((f) => f.version),
            batch.map((f) => f.modifiedAt),
            batch.map((f) => f.status),
            batch.map((f) => f.reason),
          ],
        );
      }
      this.#raiseCommittedSequence(pipeline, sequence);
    });
  }

  listSourceFiles(pipeline: string, options: SourceFileFilter): SourceFileRecord[] {
    return listings.listSourceFiles(this.#client, pipeline, options);
  }

  lookupSourceFiles(pipeline: string, keys: readonly string[]): Map<string, SourceFileRecord> {
    const files = batches(keys).flatMap((batch) =>
      this.#query('SELECT * FROM source_files WHERE pipeline = $1 AND key = ANY($2::text[])', [
        pipeline,
        batch,
      ]).map(toSourceFile),
    );
    return new Map(files.map((file) => [file.key, file]));
  }

  sourceFileTotals(pipeline: string): SourceFileTotals {
    const row = this.#query(
      `SELECT count(*) FILTER (WHERE status = 'loaded') AS loaded,
              count(*) FILTER (WHERE status = 'quarantined') AS quarantined,
              coalesce(sum(size) FILTER (WHERE status = 'loaded'), 0)::bigint AS loaded_bytes,
              max(recorded_at) AS last_recorded_at
         FROM source_files WHERE pipeline = $1`,
      [pipeline],
    )[0];
    return {
      loaded: row?.loaded as number,
      quarantined: row?.quarantined as number,
      loadedBytes: row?.loaded_bytes as number,
      lastRecordedAt: (row?.last_recorded_at as string | null) ?? null,
    };
  }

  forgetSourceFiles(pipeline: string, keys?: readonly string[]): number {
    const removed = (sql: string, params: readonly unknown[]): number =>
      this.#query(`WITH gone AS (${sql} RETURNING 1) SELECT count(*) AS n FROM gone`, params)[0]?.n as number;
    if (keys === undefined) return removed('DELETE FROM source_files WHERE pipeline = $1', [pipeline]);
    return this.#client.transaction(() => {
      let total = 0;
      for (const batch of batches(keys)) {
        total += removed('DELETE FROM source_files WHERE pipeline = $1 AND key = ANY($2::text[])', [
          pipeline,
          batch,
        ]);
      }
      return total;
    });
  }

  recordAlert(alert: Omit<AlertRow, 'id' | 'createdAt'> & { createdAt?: string }): AlertRow {
    const row = this.#query(
      `INSERT INTO alerts (pipeline, kind, run_id, created_at, status, recipients, subject, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        alert.pipeline,
        alert.kind,
        alert.runId,
        alert.createdAt ?? this.#iso(),
        alert.status,
        alert.recipients,
        alert.subject,
        alert.detail,
      ],
    )[0];
    if (row === undefined)
      throw new EtlError('STATE_STORE', `the alert for ${alert.pipeline} was not recorded`);
    return toAlert(row);
  }

  updateAlert(id: number, status: AlertRow['status'], detail?: string | null): void {
    if (detail === undefined) this.#query('UPDATE alerts SET status = $1 WHERE id = $2', [status, id]);
    else this.#query('UPDATE alerts SET status = $1, detail = $2 WHERE id = $3', [status, detail, id]);
  }

  listAlerts(pipeline: string, sinceIso: string): AlertRow[] {
    return this.#query(
      'SELECT * FROM alerts WHERE pipeline = $1 AND created_at >= $2 ORDER BY created_at DESC, id DESC',
      [pipeline, sinceIso],
    ).map(toAlert);
  }

  findAlerts(filter: AlertFilter): AlertRow[] {
    return listings.findAlerts(this.#client, filter);
  }

  recordSchema(pipeline: string, columnsJson: string): void {
    // Only a change is recorded: the comparison with the latest row is part of the insert.
    this.#query(
      `INSERT INTO schema_history (pipeline, columns_json, recorded_at)
       SELECT $1::text, $2::text, $3::text
        WHERE (SELECT columns_json FROM schema_history WHERE pipeline = $1 ORDER BY id DESC LIMIT 1)
              IS DISTINCT FROM $2::text`,
      [pipeline, columnsJson, this.#iso()],
    );
  }

  latestSchema(pipeline: string): string | null {
    const row = this.#query(
      'SELECT columns_json FROM schema_history WHERE pipeline = $1 ORDER BY id DESC LIMIT 1',
      [pipeline],
    )[0];
    return (row?.columns_json as string | undefined) ?? null;
  }

  ping(): void {
    this.#query('SELECT 1');
  }
}
