import { EtlError } from '../../shared/errors.js';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { alertTextFields, containsText, runTextFields } from '../../shared/record-text.js';
import type { RunKind, RunStatus } from '../../shared/types.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import * as ledger from './source-file-ledger.js';
import * as runTables from './run-table-ledger.js';
import {
  NEW_RUN_COLUMNS,
  RUN_COLUMNS,
  groupAttempts,
  storedNewRun,
  storedRunValue,
  storedWatermark,
  toAlert,
  toPart,
  toRun,
  toRuntime,
  toStateChange,
  toWatermark,
  type Row,
} from './row-mappers.js';
import type {
  AlertFilter,
  AlertRow,
  NewRun,
  NewSourceFile,
  RunTablePatch,
  RunTableRow,
  PipelineRuntime,
  RunPartRow,
  RunFilter,
  RunPatch,
  RunScan,
  RunRow,
  SourceFileFilter,
  SourceFileRecord,
  SourceFileTotals,
  StateChangeRow,
  StateStore,
  NewStateChange,
  Watermark,
} from './store.js';

/**
 * Opens (creating and migrating) the SQLite state store: WAL, a busy timeout so a second reader
 * never fails at once, foreign keys on. A corrupt file or a newer schema is an EtlError with a
 * message an operator can act on, never a stack trace.
 */
export function openStateStore(path: string, now: () => Date = () => new Date()): StateStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    // FULL: a committed state write survives a power cut. With NORMAL the WAL's tail can be lost, and
    // with it the watermarks of a batch the destination has already committed.
    db.pragma('synchronous = FULL');
    defineTextFilters(db);
    migrate(db, path);
  } catch (error) {
    if (error instanceof EtlError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new EtlError(
      'STATE_STORE',
      `cannot open state store ${path}: ${message} (if the file is corrupt, move it aside; etld recreates an empty store)`,
      { cause: error, retryable: false },
    );
  }
  return new SqliteStateStore(db, path, now);
}

/**
 * The lists' text filter as SQL functions, so a filtered page is one query that stops at its
 * limit; the matching itself is shared/record-text.ts, the same code the console filters with.
 */
function defineTextFilters(db: Database.Database): void {
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  const nullable = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  db.function(
    'etl_run_text',
    { deterministic: true },
    (needle, pipeline, sequence, status, trigger, code, message) =>
      containsText(
        runTextFields({
          pipeline: text(pipeline),
          sequence: Number(sequence),
          status: text(status),
          trigger: text(trigger),
          errorCode: nullable(code),
          errorMessage: nullable(message),
        }),
        text(needle),
      )
        ? 1
        : 0,
  );
  db.function('etl_alert_text', { deterministic: true }, (needle, pipeline, kind, status, runId, subject) =>
    containsText(
      alertTextFields({
        pipeline: text(pipeline),
        kind: text(kind),
        status: text(status),
        runId: nullable(runId),
        subject: text(subject),
      }),
      text(needle),
    )
      ? 1
      : 0,
  );
  ledger.defineSourceFileTextFilter(db);
}

function migrate(db: Database.Database, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new EtlError(
      'STATE_STORE_NEWER',
      `state store ${path} has schema version ${current}, written by a newer etld (this one knows up to ${SCHEMA_VERSION}); upgrade etld or restore a matching backup`,
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    const sql = MIGRATIONS[version] ?? '';
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

/** Runs one scanRuns call examines at most: about 30 ms of the event loop with a text filter (200k runs, 2 cores). */
const RUN_SCAN_WINDOW = 2000;

/** Distinct statements kept prepared; the store has ~35, so the bound only guards dynamic SQL. */
const STATEMENT_CACHE_LIMIT = 128;

class SqliteStateStore implements StateStore {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #now: () => Date;
  /**
   * Prepared once and reused: preparing on every call left each sqlite3_stmt in native memory until
   * V8 collected its wrapper, and with 100 pipelines the scheduler's calls at start-up grew the
   * process heap by megabytes that malloc then kept. No caller iterates or switches a statement's
   * mode (pluck/raw), so sharing one per SQL text is safe.
   */
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database, path: string, now: () => Date) {
    this.#db = db;
    this.path = path;
    this.#now = now;
  }

  #iso(): string {
    return this.#now().toISOString();
  }

  close(): void {
    this.#statements.clear();
    if (this.#db.open) this.#db.close();
  }

  #prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      if (this.#statements.size >= STATEMENT_CACHE_LIMIT) this.#statements.clear();
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #ensurePipeline(name: string): void {
    this.#prepare('INSERT OR IGNORE INTO pipelines (name) VALUES (?)').run(name);
  }

  getRuntime(pipeline: string): PipelineRuntime {
    return toRuntime(
      this.#prepare('SELECT * FROM pipelines WHERE name = ?').get(pipeline) as Row | undefined,
    );
  }

  setPaused(pipeline: string, paused: boolean): void {
    this.#ensurePipeline(pipeline);
    this.#prepare('UPDATE pipelines SET paused = ?, paused_at = ? WHERE name = ?').run(
      paused ? 1 : 0,
      paused ? this.#iso() : null,
      pipeline,
    );
  }

  markFire(pipeline: string, fireAt: string): void {
    this.#ensurePipeline(pipeline);
    this.#prepare('UPDATE pipelines SET last_fire_at = ? WHERE name = ?').run(fireAt, pipeline);
  }

  markSkip(pipeline: string, reason: string, at: string): void {
    this.#ensurePipeline(pipeline);
    this.#prepare('UPDATE pipelines SET last_skip_reason = ?, last_skip_at = ? WHERE name = ?').run(
      reason,
      at,
      pipeline,
    );
  }

  setCommittedSequence(pipeline: string, sequence: number): void {
    this.#ensurePipeline(pipeline);
    this.#raiseCommittedSequence(pipeline, sequence);
  }

  /**
   * What a run's commit does to the committed sequence, whatever it commits (watermarks, files):
   * raises it, never lowers it. Only an operator's correction sets it lower (replaceWatermarks).
   */
  #raiseCommittedSequence(pipeline: string, sequence: number): void {
    this.#prepare('UPDATE pipelines SET committed_sequence = max(committed_sequence, ?) WHERE name = ?').run(
      sequence,
      pipeline,
    );
  }

  pipelineFiles(): Map<string, string> {
    const rows = this.#prepare('SELECT name, file FROM pipelines WHERE file IS NOT NULL').all() as {
      name: string;
      file: string;
    }[];
    return new Map(rows.map((r) => [r.name, r.file]));
  }

  setPipelineFiles(pipelines: readonly { readonly name: string; readonly file: string }[]): void {
    this.#db.transaction(() => {
      for (const { name, file } of pipelines) {
        this.#ensurePipeline(name);
        this.#prepare('UPDATE pipelines SET file = ? WHERE name = ? AND file IS NOT ?').run(file, name, file);
      }
    })();
  }

  nextSequence(pipeline: string): number {
    const row = this.#prepare(
      `SELECT max(coalesce((SELECT max(sequence) FROM runs WHERE pipeline = ?), 0),
                    coalesce((SELECT committed_sequence FROM pipelines WHERE name = ?), 0)) AS s`,
    ).get(pipeline, pipeline) as { s: number };
    return row.s + 1;
  }

  insertRun(run: NewRun): RunRow {
    this.#ensurePipeline(run.pipeline);
    const { id, values } = storedNewRun(run, this.#iso());
    this.#prepare(`INSERT INTO runs (${NEW_RUN_COLUMNS}) VALUES (${values.map(() => '?').join(', ')})`).run(
      ...values,
    );
    return this.getRun(id) as RunRow;
  }

  updateRun(id: string, patch: RunPatch): RunRow {
    const keys = (Object.keys(patch) as (keyof RunPatch)[]).filter((k) => patch[k] !== undefined);
    if (keys.length > 0) {
      const sets = keys.map((k) => `${RUN_COLUMNS[k]} = @${k}`).join(', ');
      const values: Record<string, unknown> = { id };
      for (const k of keys) values[k] = storedRunValue(k, patch);
      const result = this.#prepare(`UPDATE runs SET ${sets} WHERE id = @id`).run(values);
      if (result.changes === 0) throw new EtlError('NOT_FOUND', `run ${id} not found`);
    }
    const row = this.getRun(id);
    if (!row) throw new EtlError('NOT_FOUND', `run ${id} not found`);
    return row;
  }

  getRun(id: string): RunRow | undefined {
    const row = this.#prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  listRuns(pipeline: string, limit: number): RunRow[] {
    return (
      this.#prepare(
        'SELECT * FROM runs WHERE pipeline = ? ORDER BY created_at DESC, sequence DESC, attempt DESC LIMIT ?',
      ).all(pipeline, limit) as Row[]
    ).map(toRun);
  }

  listRunAttempts(pipeline: string, limit: number): RunRow[][] {
    const rows = (
      this.#prepare(
        `SELECT * FROM runs WHERE pipeline = ? AND sequence IN (
             SELECT sequence FROM runs WHERE pipeline = ? GROUP BY sequence ORDER BY sequence DESC LIMIT ?)
           ORDER BY sequence DESC, attempt ASC`,
      ).all(pipeline, pipeline, limit) as Row[]
    ).map(toRun);
    return groupAttempts(rows);
  }

  findRuns(filter: RunFilter): RunRow[][] {
    return this.scanRuns(filter, Number.MAX_SAFE_INTEGER).runs;
  }

  scanRuns(filter: RunFilter, window = RUN_SCAN_WINDOW): RunScan {
    // A logical run is (pipeline, sequence): its first attempt (`first`) places it in the listing,
    // its latest (`last`) gives its status and error. `candidates` walks runs_by_start (or
    // runs_by_pipeline) in order and stops after `window` runs, so a call costs at most that many
    // runs whatever the filter matches.
    const where = [
      'NOT EXISTS (SELECT 1 FROM runs AS earlier WHERE earlier.pipeline = first.pipeline AND earlier.sequence = first.sequence AND earlier.attempt < first.attempt)',
    ];
    const params: unknown[] = [];
    if (filter.pipeline !== undefined) {
      where.push('first.pipeline = ?');
      params.push(filter.pipeline);
    }
    if (filter.since !== undefined) {
      where.push('first.created_at >= ?');
      params.push(filter.since);
    }
    if (filter.before !== undefined) {
      where.push(`(first.created_at, first.sequence, first.pipeline) < (
        SELECT created_at, sequence, pipeline FROM runs WHERE pipeline = ? AND sequence = ? ORDER BY attempt LIMIT 1)`);
      params.push(filter.before.pipeline, filter.before.sequence);
    }
    const matching: string[] = [];
    const matchParams: unknown[] = [];
    const statuses = filter.statuses ?? [];
    if (statuses.length > 0) {
      matching.push(`last.status IN (${statuses.map(() => '?').join(', ')})`);
      matchParams.push(...statuses);
    }
    if (filter.text !== undefined) {
      matching.push(
        'etl_run_text(?, c.pipeline, c.sequence, last.status, c.trigger, last.error_code, last.error_message) = ?',
      );
      matchParams.push(filter.text.text, filter.text.invert ? 0 : 1);
    }
    const order = 'created_at DESC, sequence DESC, pipeline DESC';
    const candidates = `
      SELECT first.pipeline, first.sequence, first.created_at, first.trigger FROM runs AS first
       WHERE ${where.join(' AND ')}
       ORDER BY first.${order.replaceAll(', ', ', first.')} LIMIT ?`;
    // CROSS JOIN keeps the candidates the outer loop: left to itself the planner may start from
    // runs_by_status and scan a pipeline's every run per failed one (13 s for 200k runs).
    const sql = `
      WITH c AS (${candidates}),
      picked AS (
        SELECT c.pipeline, c.sequence, c.created_at FROM c
          CROSS JOIN runs AS last ON last.pipeline = c.pipeline AND last.sequence = c.sequence
           AND last.attempt = (SELECT max(attempt) FROM runs AS latest
                                WHERE latest.pipeline = c.pipeline AND latest.sequence = c.sequence)
         ${matching.length > 0 ? `WHERE ${matching.join(' AND ')}` : ''}
         ORDER BY c.${order.replaceAll(', ', ', c.')} LIMIT ?)
      SELECT runs.* FROM picked JOIN runs ON runs.pipeline = picked.pipeline AND runs.sequence = picked.sequence
       ORDER BY picked.${order.replaceAll(', ', ', picked.')}, runs.attempt`;
    const rows = (this.#prepare(sql).all(...params, window, ...matchParams, filter.limit) as Row[]).map(
      toRun,
    );
    const runs = groupAttempts(rows);
    if (runs.length >= filter.limit) return { runs, scannedTo: null };
    // Fewer matches than asked for: the window was exhausted, or the listing has ended.
    const end = this.#prepare(`SELECT pipeline, sequence FROM (${candidates}) LIMIT 1 OFFSET ?`).get(
      ...params,
      window,
      window - 1,
    ) as { pipeline: string; sequence: number } | undefined;
    return { runs, scannedTo: end === undefined ? null : { pipeline: end.pipeline, sequence: end.sequence } };
  }

  attemptsOf(pipeline: string, sequence: number): RunRow[] {
    return (
      this.#prepare('SELECT * FROM runs WHERE pipeline = ? AND sequence = ? ORDER BY attempt').all(
        pipeline,
        sequence,
      ) as Row[]
    ).map(toRun);
  }

  runsWithStatus(statuses: readonly RunStatus[]): RunRow[] {
    if (statuses.length === 0) return [];
    const marks = statuses.map(() => '?').join(', ');
    return (
      this.#prepare(`SELECT * FROM runs WHERE status IN (${marks}) ORDER BY created_at`).all(
        ...statuses,
      ) as Row[]
    ).map(toRun);
  }

  lastSuccess(pipeline: string, kinds: readonly RunKind[] = ['normal', 'full_refresh']): RunRow | undefined {
    if (kinds.length === 0) return undefined;
    const row = this.#prepare(
      `SELECT * FROM runs WHERE pipeline = ? AND status = 'succeeded' AND kind IN (${kinds.map(() => '?').join(', ')})
        ORDER BY finished_at DESC, created_at DESC LIMIT 1`,
    ).get(pipeline, ...kinds) as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  runsSince(pipeline: string, sinceIso: string): RunRow[] {
    return (
      this.#prepare('SELECT * FROM runs WHERE pipeline = ? AND created_at >= ? ORDER BY created_at DESC').all(
        pipeline,
        sinceIso,
      ) as Row[]
    ).map(toRun);
  }

  upsertPart(part: RunPartRow): void {
    this.#prepare(
      `INSERT INTO run_parts (run_id, part_id, shard, chunk, status, rows, bytes, estimated_rows, error_code, error_message, started_at, finished_at)
         VALUES (@runId, @partId, @shard, @chunk, @status, @rows, @bytes, @estimatedRows, @errorCode, @errorMessage, @startedAt, @finishedAt)
         ON CONFLICT (run_id, part_id) DO UPDATE SET
           shard = excluded.shard, chunk = excluded.chunk, status = excluded.status, rows = excluded.rows,
           bytes = excluded.bytes, estimated_rows = excluded.estimated_rows, error_code = excluded.error_code,
           error_message = excluded.error_message, started_at = excluded.started_at, finished_at = excluded.finished_at`,
    ).run(part);
  }

  listParts(runId: string): RunPartRow[] {
    return (
      this.#prepare('SELECT * FROM run_parts WHERE run_id = ? ORDER BY shard, chunk, part_id').all(
        runId,
      ) as Row[]
    ).map(toPart);
  }

  getWatermarks(pipeline: string): Watermark[] {
    return (
      this.#prepare('SELECT * FROM watermarks WHERE pipeline = ? ORDER BY shard').all(pipeline) as Row[]
    ).map(toWatermark);
  }

  commitWatermarks(
    pipeline: string,
    sequence: number,
    watermarks: readonly Omit<Watermark, 'updatedAt' | 'sequence'>[],
    options: { readonly replaceAll?: boolean } = {},
  ): void {
    const at = this.#iso();
    this.#db.transaction(() => {
      this.#ensurePipeline(pipeline);
      // An older sequence committed after a later one (a stale writer) leaves the watermarks as
      // the later one set them: moving them back would load that later batch again.
      const row = this.#prepare('SELECT committed_sequence FROM pipelines WHERE name = ?').get(pipeline) as
        { committed_sequence: number } | undefined;
      if ((row?.committed_sequence ?? 0) > sequence) return;
      if (options.replaceAll === true)
        this.#prepare('DELETE FROM watermarks WHERE pipeline = ?').run(pipeline);
      const upsert = this.#prepare(
        `INSERT INTO watermarks (pipeline, shard, value, boundary_json, identity_json, sequence, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (pipeline, shard) DO UPDATE SET value = excluded.value, boundary_json = excluded.boundary_json,
           identity_json = excluded.identity_json, sequence = excluded.sequence, updated_at = excluded.updated_at`,
      );
      for (const w of watermarks) {
        const stored = storedWatermark(w);
        upsert.run(pipeline, w.shard, w.value, stored.boundary, stored.identity, sequence, at);
      }
      this.#raiseCommittedSequence(pipeline, sequence);
    })();
  }

  replaceWatermarks(
    pipeline: string,
    committedSequence: number,
    watermarks: readonly Omit<Watermark, 'updatedAt' | 'sequence'>[],
    change: NewStateChange,
  ): void {
    const at = this.#iso();
    this.#db.transaction(() => {
      this.#ensurePipeline(pipeline);
      this.#prepare('DELETE FROM watermarks WHERE pipeline = ?').run(pipeline);
      const insert = this.#prepare(
        'INSERT INTO watermarks (pipeline, shard, value, boundary_json, identity_json, sequence, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const w of watermarks) {
        const stored = storedWatermark(w);
        insert.run(pipeline, w.shard, w.value, stored.boundary, stored.identity, committedSequence, at);
      }
      this.#prepare('UPDATE pipelines SET committed_sequence = ? WHERE name = ?').run(
        committedSequence,
        pipeline,
      );
      this.#prepare(
        'INSERT INTO state_changes (pipeline, at, action, detail, actor, shards_json) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(pipeline, at, change.action, change.detail, change.actor, JSON.stringify(change.shards));
    })();
  }

  listStateChanges(pipeline: string, limit: number, since?: string): StateChangeRow[] {
    const rows = this.#prepare(
      `SELECT at, action, detail, actor, shards_json FROM state_changes
        WHERE pipeline = ? AND at >= ? ORDER BY id DESC LIMIT ?`,
    ).all(pipeline, since ?? '', limit) as Row[];
    return rows.map(toStateChange);
  }

  upsertRunTable(
    pipeline: string,
    sequence: number,
    table: string,
    member: string,
    patch: RunTablePatch,
  ): RunTableRow {
    const at = this.#iso();
    return this.#db.transaction(() =>
      runTables.upsertRunTable((sql) => this.#prepare(sql), { pipeline, sequence, table, member, at }, patch),
    )();
  }

  listRunTables(pipeline: string, sequence: number): RunTableRow[] {
    return runTables.listRunTables((sql) => this.#prepare(sql), pipeline, sequence);
  }

  latestRunTables(pipeline: string): RunTableRow[] {
    return runTables.latestRunTables((sql) => this.#prepare(sql), pipeline);
  }

  lookupSourceFiles(pipeline: string, keys: readonly string[]): Map<string, SourceFileRecord> {
    return ledger.lookupSourceFiles((sql) => this.#prepare(sql), pipeline, keys);
  }

  commitSourceFiles(
    pipeline: string,
    sequence: number,
    runId: string,
    files: readonly NewSourceFile[],
    options: { readonly replaceLoaded?: boolean } = {},
  ): void {
    const at = this.#iso();
    this.#db.transaction(() => {
      this.#ensurePipeline(pipeline);
      ledger.writeSourceFiles(
        (sql) => this.#prepare(sql),
        { pipeline, sequence, runId, at },
        files,
        options.replaceLoaded === true,
      );
      this.#raiseCommittedSequence(pipeline, sequence);
    })();
  }

  listSourceFiles(pipeline: string, options: SourceFileFilter): SourceFileRecord[] {
    return ledger.listSourceFiles((sql) => this.#prepare(sql), pipeline, options);
  }

  sourceFileTotals(pipeline: string): SourceFileTotals {
    return ledger.sourceFileTotals((sql) => this.#prepare(sql), pipeline);
  }

  forgetSourceFiles(pipeline: string, keys?: readonly string[]): number {
    return this.#db.transaction(() =>
      ledger.forgetSourceFiles((sql) => this.#prepare(sql), pipeline, keys),
    )();
  }

  recordAlert(alert: Omit<AlertRow, 'id' | 'createdAt'> & { createdAt?: string }): AlertRow {
    const createdAt = alert.createdAt ?? this.#iso();
    const result = this.#prepare(
      'INSERT INTO alerts (pipeline, kind, run_id, created_at, status, recipients, subject, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      alert.pipeline,
      alert.kind,
      alert.runId,
      createdAt,
      alert.status,
      alert.recipients,
      alert.subject,
      alert.detail,
    );
    return toAlert(this.#prepare('SELECT * FROM alerts WHERE id = ?').get(result.lastInsertRowid) as Row);
  }

  updateAlert(id: number, status: AlertRow['status'], detail?: string | null): void {
    if (detail === undefined) this.#prepare('UPDATE alerts SET status = ? WHERE id = ?').run(status, id);
    else this.#prepare('UPDATE alerts SET status = ?, detail = ? WHERE id = ?').run(status, detail, id);
  }

  listAlerts(pipeline: string, sinceIso: string): AlertRow[] {
    return (
      this.#prepare(
        'SELECT * FROM alerts WHERE pipeline = ? AND created_at >= ? ORDER BY created_at DESC, id DESC',
      ).all(pipeline, sinceIso) as Row[]
    ).map(toAlert);
  }

  findAlerts(filter: AlertFilter): AlertRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.pipeline !== undefined) {
      where.push('pipeline = ?');
      params.push(filter.pipeline);
    }
    if (filter.beforeId !== undefined) {
      where.push('(created_at, id) < (SELECT created_at, id FROM alerts WHERE id = ?)');
      params.push(filter.beforeId);
    }
    if (filter.text !== undefined) {
      where.push('etl_alert_text(?, pipeline, kind, status, run_id, subject) = ?');
      params.push(filter.text.text, filter.text.invert ? 0 : 1);
    }
    const sql = `SELECT * FROM alerts ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.#prepare(sql).all(...params, filter.limit) as Row[]).map(toAlert);
  }

  recordSchema(pipeline: string, columnsJson: string): void {
    if (this.latestSchema(pipeline) === columnsJson) return;
    this.#prepare('INSERT INTO schema_history (pipeline, columns_json, recorded_at) VALUES (?, ?, ?)').run(
      pipeline,
      columnsJson,
      this.#iso(),
    );
  }

  latestSchema(pipeline: string): string | null {
    const row = this.#prepare(
      'SELECT columns_json FROM schema_history WHERE pipeline = ? ORDER BY id DESC LIMIT 1',
    ).get(pipeline) as { columns_json: string } | undefined;
    return row?.columns_json ?? null;
  }

  ping(): void {
    this.#prepare('SELECT 1').get();
  }
}
