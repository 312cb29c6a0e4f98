/**
 * The per-step source workload of one pipeline: inserts, updates, deletes, identical rows, NULL
 * keys and cursors, added columns and late-committing transactions, all drawn from the
 * pipeline's PRNG stream and applied before the step's snapshot is read.
 *
 * Decisions (the model relies on them):
 * - The cursor is commit-ordered and never lowered: inserts and updates set it to the database's
 *   "now" (`now()`, `localtimestamp` truncated to seconds, `current_date`, `NOW()`, `NOW(6)`) or to
 *   the next harness counter value (text/int cursors; 25% of writes reuse the last value, a tie).
 *   Coarse cursors make ties by themselves, so updates at the same cursor value happen.
 * - The only exception is the late transaction: opened after the step's other writes, it inserts
 *   rows whose cursor is the transaction's start (PostgreSQL `DEFAULT now()`) or its statement
 *   time (MariaDB `NOW()`); one more autocommit insert follows so the high-water mark passes it.
 *   It stays open during the run and is committed (85%) or rolled back after the step.
 * - Incremental keyless tables get identical rows only at the current maximum cursor value, so
 *   the cursor still never goes down.
 * - At most one NULL-key row and two NULL-cursor rows per shard exist at a time; the workload
 *   fixes (or deletes) them again with some probability, so pipelines that must refuse them also
 *   get steps that succeed.
 * - Deletes only for profiles with `deletes` (full and merge), never below three rows per shard.
 */
import { addColumnSql, CURSOR_COLUMN, sourceColumns, type ColumnDef } from './source-schema.js';
import { endLateTxn, takeId, type PipelineSource, type Shard } from './pipeline-source.js';
import type { Prng } from './prng.js';
import { randomDate, randomDecimal2, randomText, randomTimestamp, textCursor } from './random-values.js';
import { normaliseValue } from '../conformance/normalise.js';
import type { SqlSession } from './sql-target.js';

export interface WorkloadSummary {
  inserted: number;
  updated: number;
  deleted: number;
  identical: number;
  nullKeyOps: number;
  nullCursorOps: number;
  addedColumn: boolean;
  lateRows: number;
}

class Params {
  readonly values: unknown[] = [];
  readonly #placeholder: (n: number) => string;
  constructor(placeholder: (n: number) => string) {
    this.#placeholder = placeholder;
  }
  add(value: unknown): string {
    this.values.push(value);
    return this.#placeholder(this.values.length);
  }
}

interface CurrentRow {
  readonly k: string;
  readonly keyNull: boolean;
  readonly cursorNull: boolean;
  readonly atMax: boolean;
}

function keyText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString();
  return '';
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}

type Exec = (sql: string, params: readonly unknown[]) => Promise<unknown>;

class ShardWriter {
  readonly #src: PipelineSource;
  readonly #shard: Shard;
  readonly #prng: Prng;
  readonly #table: string;

  constructor(src: PipelineSource, shard: Shard, prng: Prng) {
    this.#src = src;
    this.#shard = shard;
    this.#prng = prng;
    this.#table = src.target.quote(src.spec.name);
  }

  get #exec(): Exec {
    return (sql, params) => this.#src.target.run(this.#shard.database, sql, params);
  }

  #params(): Params {
    return new Params((n) => this.#src.target.placeholder(n));
  }

  #q(name: string): string {
    return this.#src.target.quote(name);
  }

  async currentRows(): Promise<CurrentRow[]> {
    const spec = this.#src.spec;
    const k = spec.keyed ? this.#q('id') : this.#q('rid');
    const cur = this.#q(CURSOR_COLUMN);
    const cursorNull = spec.cursor === null ? 'false' : `(${cur} IS NULL)`;
    const atMax = spec.cursor === null ? 'false' : `(${cur} = (SELECT max(${cur}) FROM ${this.#table}))`;
    const rows = await this.#src.target.run(
      this.#shard.database,
      `SELECT ${k} AS k, (${this.#q('id')} IS NULL) AS knull, ${cursorNull} AS cnull, ${atMax} AS atmax FROM ${this.#table} ORDER BY ${k}`,
    );
    return rows.map((r) => ({
      k: keyText(r.k),
      keyNull: truthy(r.knull),
      cursorNull: truthy(r.cnull),
      atMax: truthy(r.atmax),
    }));
  }

  /** The SQL expression (with its parameter) that sets the cursor to "now" / the next value. */
  cursorExpression(params: Params): string {
    const src = this.#src;
    switch (src.spec.cursor) {
      case null:
        throw new Error('cursorExpression without a cursor');
      case 'pg_tstz_now':
        return 'now()';
      case 'pg_ts0':
        return "date_trunc('second', localtimestamp)";
      case 'pg_date':
        return 'current_date';
      case 'my_datetime':
        return 'NOW()';
      case 'my_datetime6':
        return 'NOW(6)';
      case 'pg_text_icu':
      case 'my_text_ci':
      case 'pg_bigint':
      case 'my_bigint': {
        const text = src.spec.cursor === 'pg_text_icu' || src.spec.cursor === 'my_text_ci';
        if (src.lastCursorValue === null || this.#prng.chance(0.75)) {
          src.cursorCounter += 1 + this.#prng.int(0, 2);
          src.lastCursorValue = text ? textCursor(this.#prng, src.cursorCounter) : src.cursorCounter;
        }
        return params.add(src.lastCursorValue);
      }
    }
  }

  #value(column: ColumnDef): unknown {
    const prng = this.#prng;
    switch (column.name) {
      case 'grp':
        return prng.int(0, 9);
      case 'amount':
        return randomDecimal2(prng);
      case 'note':
        return randomText(prng, 4, 120);
      case 'flag': {
        const flag = prng.chance(0.5);
        return this.#src.target.kind === 'postgres' ? flag : flag ? 1 : 0;
      }
      case 'day':
        return randomDate(prng);
      case 'ts':
        return randomTimestamp(prng);
      default:
        if (prng.chance(0.4)) return null;
        return column.kind.kind === 'int' ? prng.int(-1000, 1000) : randomText(prng, 1, 20);
    }
  }

  async insert(id: number | null, options: { nullCursor?: boolean; exec?: Exec } = {}): Promise<void> {
    const spec = this.#src.spec;
    const params = this.#params();
    const names: string[] = [];
    const values: string[] = [];
    for (const column of sourceColumns(spec, this.#src.added)) {
      if (column.name === 'id') {
        names.push(column.name);
        values.push(params.add(id));
      } else if (column.name === CURSOR_COLUMN) {
        if (options.nullCursor === true) {
          names.push(column.name);
          values.push('NULL');
        } else if (spec.cursor !== 'pg_tstz_now') {
          // pg_tstz_now inserts rely on the column's DEFAULT now().
          names.push(column.name);
          values.push(this.cursorExpression(params));
        }
      } else {
        names.push(column.name);
        values.push(params.add(this.#value(column)));
      }
    }
    const sql = `INSERT INTO ${this.#table} (${names.map((n) => this.#q(n)).join(', ')}) VALUES (${values.join(', ')})`;
    await (options.exec ?? this.#exec)(sql, params.values);
  }

  async update(row: CurrentRow): Promise<void> {
    const spec = this.#src.spec;
    const params = this.#params();
    const sets: string[] = [];
    const candidates = sourceColumns(spec, this.#src.added).filter(
      (c) => c.name !== 'id' && c.name !== CURSOR_COLUMN,
    );
    for (const column of candidates) {
      if (column.name === 'note' || this.#prng.chance(0.35))
        sets.push(`${this.#q(column.name)} = ${params.add(this.#value(column))}`);
    }
    if (spec.cursor !== null) sets.push(`${this.#q(CURSOR_COLUMN)} = ${this.cursorExpression(params)}`);
    const where = `${this.#q(spec.keyed ? 'id' : 'rid')} = ${params.add(row.k)}`;
    await this.#exec(`UPDATE ${this.#table} SET ${sets.join(', ')} WHERE ${where}`, params.values);
  }

  async delete(row: CurrentRow): Promise<void> {
    const params = this.#params();
    const where = `${this.#q(this.#src.spec.keyed ? 'id' : 'rid')} = ${params.add(row.k)}`;
    await this.#exec(`DELETE FROM ${this.#table} WHERE ${where}`, params.values);
  }

  /** Inserts a copy of a keyless row (every visible column equal). */
  async copy(row: CurrentRow): Promise<void> {
    const names = sourceColumns(this.#src.spec, this.#src.added)
      .map((c) => this.#q(c.name))
      .join(', ');
    const params = this.#params();
    const where = `${this.#q('rid')} = ${params.add(row.k)}`;
    await this.#exec(
      `INSERT INTO ${this.#table} (${names}) SELECT ${names} FROM ${this.#table} WHERE ${where}`,
      params.values,
    );
  }

  async fixNullKey(): Promise<void> {
    const params = this.#params();
    const id = params.add(takeId(this.#src, this.#shard));
    await this.#exec(
      `UPDATE ${this.#table} SET ${this.#q('id')} = ${id} WHERE ${this.#q('id')} IS NULL`,
      params.values,
    );
  }

  async deleteNullKey(): Promise<void> {
    await this.#exec(`DELETE FROM ${this.#table} WHERE ${this.#q('id')} IS NULL`, []);
  }

  async fixNullCursor(row: CurrentRow): Promise<void> {
    const params = this.#params();
    const set = this.cursorExpression(params);
    const where = `${this.#q(this.#src.spec.keyed ? 'id' : 'rid')} = ${params.add(row.k)}`;
    await this.#exec(
      `UPDATE ${this.#table} SET ${this.#q(CURSOR_COLUMN)} = ${set} WHERE ${where}`,
      params.values,
    );
  }
}

function pickOut<T>(prng: Prng, items: T[]): T | undefined {
  if (items.length === 0) return undefined;
  return items.splice(prng.int(0, items.length - 1), 1)[0];
}

async function shardStep(
  src: PipelineSource,
  shard: Shard,
  prng: Prng,
  first: boolean,
  summary: WorkloadSummary,
): Promise<void> {
  const spec = src.spec;
  const writer = new ShardWriter(src, shard, prng);
  if (first) {
    const rows = prng.int(12, 25);
    for (let i = 0; i < rows; i++) await writer.insert(takeId(src, shard));
    summary.inserted += rows;
    return;
  }
  const rows = await writer.currentRows();
  const normal = rows.filter((r) => !r.keyNull && !r.cursorNull);
  if (spec.deletes) {
    for (let n = prng.int(0, 2); n > 0 && normal.length > 3; n--) {
      const row = pickOut(prng, normal);
      if (row !== undefined) await writer.delete(row);
      summary.deleted++;
    }
  }
  for (let n = Math.min(prng.int(0, 4), normal.length); n > 0; n--) {
    const row = pickOut(prng, normal);
    if (row !== undefined) await writer.update(row);
    summary.updated++;
  }
  const inserts = prng.int(0, 5);
  for (let i = 0; i < inserts; i++) await writer.insert(takeId(src, shard));
  summary.inserted += inserts;
  if (!spec.keyed && prng.chance(0.4)) {
    // Identical rows; for incremental only at the current maximum cursor (never lowering it).
    const pool = spec.mode === 'incremental' ? rows.filter((r) => r.atMax && !r.cursorNull) : rows;
    const row = pool.length === 0 ? undefined : prng.pick(pool);
    for (let copies = prng.int(1, 2); row !== undefined && copies > 0; copies--) {
      await writer.copy(row);
      summary.identical++;
    }
  }
  if (spec.nullKeys) {
    if (rows.some((r) => r.keyNull)) {
      if (prng.chance(0.6)) {
        await (prng.chance(0.5) ? writer.fixNullKey() : writer.deleteNullKey());
        summary.nullKeyOps++;
      }
    } else if (prng.chance(0.25)) {
      await writer.insert(null);
      summary.nullKeyOps++;
    }
  }
  if (spec.nullCursor !== null) {
    const nullRows = rows.filter((r) => r.cursorNull);
    for (const row of nullRows) {
      if (prng.chance(0.5)) {
        await writer.fixNullCursor(row);
        summary.nullCursorOps++;
      }
    }
    if (nullRows.length < 2 && prng.chance(0.3)) {
      await writer.insert(takeId(src, shard), { nullCursor: true });
      summary.nullCursorOps++;
    }
  }
}

async function openLateTxn(src: PipelineSource, prng: Prng, summary: WorkloadSummary): Promise<void> {
  const shard = src.shards[0];
  if (shard === undefined) return;
  const commit = prng.chance(0.85);
  const count = prng.int(1, 3);
  const ids = Array.from({ length: count }, () => takeId(src, shard));
  const followId = takeId(src, shard);
  const session: SqlSession = await src.target.session(shard.database);
  const openedMs = Date.now();
  try {
    await session.run(src.target.kind === 'postgres' ? 'BEGIN' : 'START TRANSACTION');
    let startedAt: string | null = null;
    if (src.target.kind === 'postgres') {
      const [row] = await session.run('SELECT now()::text AS t');
      startedAt = normaliseValue({ kind: 'timestamptz' }, row?.t);
    }
    const writer = new ShardWriter(src, shard, prng);
    for (const id of ids) await writer.insert(id, { exec: (sql, params) => session.run(sql, params) });
    src.lateTxn = { session, shard, startedAt, openedMs, closedMs: null, commit, rows: count };
    summary.lateRows += count;
    // A visible row after the late transaction began: the high-water mark passes its cursor.
    await writer.insert(followId);
    summary.inserted++;
  } catch (error) {
    if (src.lateTxn === null) await session.close();
    throw error;
  }
}

/** Applies one step's writes. `step` is 1-based; step 1 seeds the table. */
export async function applyWorkload(src: PipelineSource, prng: Prng, step: number): Promise<WorkloadSummary> {
  const summary: WorkloadSummary = {
    inserted: 0,
    updated: 0,
    deleted: 0,
    identical: 0,
    nullKeyOps: 0,
    nullCursorOps: 0,
    addedColumn: false,
    lateRows: 0,
  };
  // A transaction left open by an interrupted step ends before new writes (never across a DDL).
  await endLateTxn(src);
  if (src.spec.addColumns && step > 1 && src.added < 2 && prng.chance(0.15)) {
    for (const shard of src.shards)
      await src.target.run(shard.database, addColumnSql(src.spec, src.target.kind, src.added + 1));
    src.added++;
    summary.addedColumn = true;
  }
  for (const shard of src.shards) await shardStep(src, shard, prng, step === 1, summary);
  if (src.spec.lateCommit && step > 1 && prng.chance(0.5)) await openLateTxn(src, prng, summary);
  return summary;
}
