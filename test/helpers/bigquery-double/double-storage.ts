/**
 * Table storage of the BigQuery double: one in-memory DuckDB, a schema per dataset, the
 * BigQuery field list of every table kept beside it. GoogleSQL statements etld sends are
 * translated to DuckDB (backtick paths, string escapes, MERGE alias syntax) and run there
 * (DuckDB runs MERGE INTO).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Field } from './rest-schemas.js';

export class DoubleError extends Error {
  readonly reason: string;
  readonly location: string | undefined;
  constructor(reason: string, message: string, location?: string) {
    super(message);
    this.reason = reason;
    this.location = location;
  }
}

const q = (name: string): string => `"${name.replaceAll('"', '""')}"`;

function normalize(type: string): string {
  const aliases: Record<string, string> = { INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL' };
  return aliases[type] ?? type;
}

export function duckType(field: Field): string {
  switch (normalize(field.type)) {
    case 'INT64':
      return 'BIGINT';
    case 'FLOAT64':
      return 'DOUBLE';
    case 'BOOL':
      return 'BOOLEAN';
    case 'NUMERIC':
      return `DECIMAL(${field.precision ?? '38'},${field.scale ?? (field.precision === undefined ? '9' : '0')})`;
    case 'BIGNUMERIC':
      // DuckDB stops at DECIMAL(38); etld's decimals stop there too.
      return `DECIMAL(${field.precision ?? '38'},${field.scale ?? (field.precision === undefined ? '9' : '0')})`;
    case 'STRING':
      return 'VARCHAR';
    case 'BYTES':
      return 'BLOB';
    case 'DATE':
      return 'DATE';
    case 'TIME':
      return 'TIME';
    case 'DATETIME':
      return 'TIMESTAMP';
    case 'TIMESTAMP':
      return 'TIMESTAMPTZ';
    case 'JSON':
      return 'JSON';
    default:
      throw new DoubleError('invalid', `the double does not store ${field.type} fields`);
  }
}

/**
 * The bytes BigQuery counts for a non-NULL value of `field` in `column` (its "data size
 * calculation", which tables.get numBytes and on-demand query billing both use): fixed sizes per
 * type, 2 + the UTF-8 length for STRING and BYTES, the JSON text's UTF-8 length for JSON. NULL is 0.
 */
function logicalSize(field: Field, column: string): string {
  switch (normalize(field.type)) {
    case 'INT64':
    case 'FLOAT64':
    case 'DATE':
    case 'TIME':
    case 'DATETIME':
    case 'TIMESTAMP':
      return '8';
    case 'BOOL':
      return '1';
    case 'NUMERIC':
      return '16';
    case 'BIGNUMERIC':
      return '32';
    case 'STRING':
      // strlen counts bytes, not characters.
      return `2 + strlen(${column})`;
    case 'BYTES':
      return `2 + octet_length(${column})`;
    case 'JSON':
      return `strlen(CAST(${column} AS VARCHAR))`;
    default:
      throw new DoubleError('invalid', `the double does not size ${field.type} fields`);
  }
}

/** The SQL that turns the text form of a loaded value (NDJSON) into the column's DuckDB value. */
function fromText(expr: string, field: Field): string {
  return normalize(field.type) === 'BYTES' ? `from_base64(${expr})` : `CAST(${expr} AS ${duckType(field)})`;
}

/** GoogleSQL as etld writes it → DuckDB SQL. */
export function translateSql(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length;) {
    const ch = sql[i];
    if (ch === '`') {
      const end = sql.indexOf('`', i + 1);
      const parts = sql.slice(i + 1, end).split('.');
      // project.dataset.table → "dataset"."table"; a column stays a column.
      out += parts.length === 3 ? `${q(parts[1] ?? '')}.${q(parts[2] ?? '')}` : parts.map(q).join('.');
      i = end + 1;
    } else if (ch === "'") {
      let text = '';
      let j = i + 1;
      for (; j < sql.length && sql[j] !== "'"; j++) {
        if (sql[j] === '\\') {
          j++;
          const esc = sql[j];
          text += esc === 'n' ? '\n' : esc === 'r' ? '\r' : (esc ?? '');
        } else {
          text += sql[j];
        }
      }
      out += `'${text.replaceAll("'", "''")}'`;
      i = j + 1;
    } else {
      out += ch;
      i++;
    }
  }
  return (
    out
      .replace(/CURRENT_TIMESTAMP\(\)/gi, 'current_timestamp')
      // The exact-text forms of a JSON and a FLOAT64 value (append_missing's comparison keys).
      .replace(/TO_JSON_STRING\(([^()]*)\)/gi, 'CAST($1 AS VARCHAR)')
      .replace(/\bFORMAT\('%/gi, "printf('%")
      .replace(/^\s*MERGE\s+("[^"]+"\."[^"]+")\s+(\w+)\s/i, 'MERGE INTO $1 AS $2 ')
      .replace(/USING\s+("[^"]+"\."[^"]+")\s+S\s+ON\s/i, 'USING $1 AS S ON ')
  );
}

export class DoubleStorage {
  readonly #connection: DuckDBConnection;
  readonly #instance: DuckDBInstance;
  readonly #dir = mkdtempSync(join(tmpdir(), 'etld-bq-double-'));
  readonly tables = new Map<string, Field[]>();
  readonly datasets = new Set<string>();
  /**
   * The connection's work, one operation at a time: jobs of concurrent runs (a multi-table
   * pipeline's tables) arrive at once, and one connection cannot hold two transactions.
   */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection) {
    this.#instance = instance;
    this.#connection = connection;
  }

  static async create(): Promise<DoubleStorage> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run("SET TimeZone='UTC'");
    return new DoubleStorage(instance, connection);
  }

  static key(dataset: string, table: string): string {
    return `${dataset}.${table}`;
  }

  createDataset(dataset: string): Promise<void> {
    return this.#exclusive(async () => {
      await this.#connection.run(`CREATE SCHEMA ${q(dataset)}`);
      this.datasets.add(dataset);
    });
  }

  createTable(dataset: string, table: string, fields: Field[]): Promise<void> {
    return this.#exclusive(async () => {
      await this.#connection.run(
        `CREATE TABLE ${q(dataset)}.${q(table)} (${fields.map((f) => `${q(f.name)} ${duckType(f)}`).join(', ')})`,
      );
      this.tables.set(DoubleStorage.key(dataset, table), fields);
    });
  }

  dropTable(dataset: string, table: string): Promise<void> {
    return this.#exclusive(async () => {
      await this.#connection.run(`DROP TABLE ${q(dataset)}.${q(table)}`);
      this.tables.delete(DoubleStorage.key(dataset, table));
    });
  }

  addFields(dataset: string, table: string, added: Field[]): Promise<void> {
    return this.#exclusive(async () => {
      for (const f of added)
        await this.#connection.run(
          `ALTER TABLE ${q(dataset)}.${q(table)} ADD COLUMN ${q(f.name)} ${duckType(f)}`,
        );
      this.tables.set(DoubleStorage.key(dataset, table), [
        ...(this.tables.get(DoubleStorage.key(dataset, table)) ?? []),
        ...added,
      ]);
    });
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work, work);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #inTransaction<T>(work: () => Promise<T>): Promise<T> {
    await this.#connection.run('BEGIN TRANSACTION');
    try {
      const result = await work();
      await this.#connection.run('COMMIT');
      return result;
    } catch (error) {
      await this.#connection.run('ROLLBACK');
      throw error;
    }
  }

  /** Inserts rows of text values (already validated) into the table, atomically; truncates first on request. */
  insertTextRows(
    dataset: string,
    table: string,
    fields: Field[],
    rows: (string | null)[][],
    truncate: boolean,
  ): Promise<void> {
    return this.#exclusive(async () => {
      const file = join(this.#dir, `load-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
      writeFileSync(
        file,
        rows
          .map((r) => JSON.stringify(Object.fromEntries(fields.map((f, i) => [`c${i}`, r[i] ?? null]))))
          .join('\n'),
      );
      const columns = fields.map((_, i) => `c${i}: 'VARCHAR'`).join(', ');
      const select = fields.map((f, i) => fromText(`c${i}`, f)).join(', ');
      try {
        await this.#inTransaction(async () => {
          if (truncate) await this.#connection.run(`DELETE FROM ${q(dataset)}.${q(table)}`);
          if (rows.length > 0) {
            await this.#connection.run(
              `INSERT INTO ${q(dataset)}.${q(table)} (${fields.map((f) => q(f.name)).join(', ')}) SELECT ${select} FROM read_json('${file}', format='newline_delimited', columns={${columns}})`,
            );
          }
        });
      } finally {
        rmSync(file, { force: true });
      }
    });
  }

  /** Loads a Parquet file by column name. */
  insertParquet(
    dataset: string,
    table: string,
    fields: Field[],
    data: Buffer,
    truncate: boolean,
  ): Promise<void> {
    return this.#exclusive(async () => {
      const file = join(this.#dir, `load-${Date.now()}-${Math.random().toString(16).slice(2)}.parquet`);
      writeFileSync(file, data);
      try {
        const described = await this.#connection.runAndReadAll(
          `SELECT name FROM parquet_schema('${file}') WHERE num_children IS NULL OR num_children = 0`,
        );
        const names = described.getRows().map((r) => String(r[0]));
        const known = new Set(fields.map((f) => f.name));
        const unknown = names.find((n) => !known.has(n));
        if (unknown !== undefined)
          throw new DoubleError('invalid', `Parquet column ${unknown} is not in the schema`);
        await this.#inTransaction(async () => {
          if (truncate) await this.#connection.run(`DELETE FROM ${q(dataset)}.${q(table)}`);
          const used = fields.filter((f) => names.includes(f.name));
          await this.#connection.run(
            `INSERT INTO ${q(dataset)}.${q(table)} (${used.map((f) => q(f.name)).join(', ')}) SELECT ${used.map((f) => `CAST(${q(f.name)} AS ${duckType(f)})`).join(', ')} FROM read_parquet('${file}')`,
          );
        });
      } finally {
        rmSync(file, { force: true });
      }
    });
  }

  /** Runs a translated statement; returns result rows as text. */
  run(sql: string): Promise<{ columns: string[]; rows: (string | null)[][] }> {
    return this.#exclusive(async () => {
      const reader = await this.#connection.runAndReadAll(translateSql(sql));
      const columns = reader.columnNames();
      const rows = reader.getRows().map((r) => r.map((v) => (v === null ? null : String(v))));
      return { columns, rows };
    });
  }

  /** A query's result into a destination table (WRITE_TRUNCATE or WRITE_APPEND), atomically. */
  selectInto(sql: string, dataset: string, table: string, truncate: boolean): Promise<void> {
    return this.#exclusive(async () => {
      await this.#inTransaction(async () => {
        if (truncate) await this.#connection.run(`DELETE FROM ${q(dataset)}.${q(table)}`);
        const fields = this.tables.get(DoubleStorage.key(dataset, table)) ?? [];
        const reader = await this.#connection.runAndReadAll(`SELECT * FROM (${translateSql(sql)}) LIMIT 0`);
        const cols = reader.columnNames();
        const unknown = cols.find((c) => !fields.some((f) => f.name === c));
        if (unknown !== undefined)
          throw new DoubleError(
            'invalid',
            `Provided Schema does not match Table ${dataset}.${table}. Cannot add fields (field: ${unknown})`,
          );
        await this.#connection.run(
          `INSERT INTO ${q(dataset)}.${q(table)} (${cols.map(q).join(', ')}) ${translateSql(sql)}`,
        );
      });
    });
  }

  /** The table's numBytes: the logical bytes of every value it holds (see `logicalSize`). */
  logicalBytes(dataset: string, table: string): Promise<number> {
    return this.#exclusive(async () => {
      const fields = this.tables.get(DoubleStorage.key(dataset, table)) ?? [];
      if (fields.length === 0) return 0;
      const sizes = fields.map(
        (f) =>
          `COALESCE(SUM(CASE WHEN ${q(f.name)} IS NULL THEN 0 ELSE ${logicalSize(f, q(f.name))} END), 0)`,
      );
      const reader = await this.#connection.runAndReadAll(
        `SELECT CAST(${sizes.join(' + ')} AS BIGINT) FROM ${q(dataset)}.${q(table)}`,
      );
      return Number(reader.getRows()[0]?.[0] ?? 0);
    });
  }

  /** Rows as DuckDB renders them to text, in a stable order, for assertions. */
  textRows(dataset: string, table: string, orderBy: string): Promise<Record<string, string | null>[]> {
    return this.#exclusive(async () => {
      const fields = this.tables.get(DoubleStorage.key(dataset, table)) ?? [];
      const select = fields.map((f) =>
        normalize(f.type) === 'BYTES'
          ? `base64(${q(f.name)}) AS ${q(f.name)}`
          : `CAST(${q(f.name)} AS VARCHAR) AS ${q(f.name)}`,
      );
      const reader = await this.#connection.runAndReadAll(
        `SELECT ${select.join(', ')} FROM ${q(dataset)}.${q(table)} ORDER BY ${orderBy}`,
      );
      const names = reader.columnNames();
      return reader
        .getRows()
        .map((r) => Object.fromEntries(names.map((n, i) => [n, r[i] === null ? null : String(r[i])])));
    });
  }

  close(): void {
    this.#connection.closeSync();
    this.#instance.closeSync();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
