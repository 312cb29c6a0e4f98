/**
 * The source connector contract (Kysely's dialect split): a dialect makes a driver (connections,
 * sessions, cancellation), an adapter (SQL text for this database) and an introspector (column
 * types → canonical types). Registration is the literal map in `registry.ts`.
 *
 * Data contract between a source and the run engine — the "staging CSV":
 * - RFC 4180 CSV, `,` separator, `"` quote (doubled inside), `\n` line end, no header row,
 *   columns in the order of the `ExtractQuery.columns`.
 * - NULL is an empty unquoted field; an empty string is `""` (the two never mix).
 * - Text forms per canonical type: integers and decimals as plain digits (`-12.3400`, no exponent,
 *   int64 beyond 2^53 exact); float32/64 as shortest round-trip text, `NaN`, `Infinity`, `-Infinity`;
 *   bool `t`/`f`; date `YYYY-MM-DD`; time `HH:MM:SS[.ffffff]`; timestamp `YYYY-MM-DD HH:MM:SS[.ffffff]`;
 *   timestamptz the same in UTC followed by `+00`; bytes as lowercase hex without prefix;
 *   json as JSON text; uuid as its canonical text; arrays as JSON arrays.
 * The adapter renders columns into these forms in SQL where it can (`selectExpression`), so bulk
 * paths (PostgreSQL COPY) emit final bytes with no per-row JavaScript.
 */
import type { ResolvedConnection } from '../config/resolved-connection.js';
import type { Writable } from 'node:stream';
import type { DatabaseSourceKind } from '../../shared/config/pipeline-schema.js';
import type { SourceTable } from '../../shared/table-patterns.js';
import type { CanonicalType, ColumnSchema } from '../../shared/types.js';

export interface SourceDriverOptions {
  /** Shard name or `default`; used in messages and `_etl_shard`. */
  readonly label: string;
  /** Quick reconnects inside one attempt (`connection_retry`). */
  readonly connectAttempts: number;
  readonly connectDelayMs: number;
  /** MySQL zero dates: load as NULL or fail the run. */
  readonly zeroDates: 'null' | 'error';
}

/**
 * Generic over its driver so the introspector gets the dialect's own driver type (it needs the
 * driver's metadata calls) with no downcast. Code that holds a dialect of any kind (the registry,
 * the engine) uses the erased `SourceDialect`, and only ever hands a dialect back a driver that
 * dialect made.
 */
export interface SourceDialect<D extends SourceDriver = SourceDriver> {
  readonly kind: DatabaseSourceKind;
  createDriver(connection: ResolvedConnection, options: SourceDriverOptions): D;
  createAdapter(): SourceAdapter;
  createIntrospector(driver: D): SourceIntrospector;
}

/** The text value of one cell of a small metadata query: null is SQL NULL. */
export type TextRow = readonly (string | null)[];

export interface SourceDriver {
  /** Connects (retrying per `connectAttempts`); idempotent. */
  init(signal?: AbortSignal): Promise<void>;
  /** Closes every connection; idempotent, safe after a failed init. */
  destroy(): Promise<void>;
  /** A small read-only query whose values come back as text. */
  queryText(sql: string, signal?: AbortSignal): Promise<TextRow[]>;
  /**
   * Opens `readers` connections that all see one consistent snapshot where the database allows
   * it (PostgreSQL exported snapshot, MySQL consistent-snapshot transactions, SQL Server SNAPSHOT
   * isolation). `consistent` in the result says whether the cut is really shared.
   */
  openReadSession(readers: number, signal?: AbortSignal): Promise<ReadSession>;
}

export interface ExtractProgress {
  readonly rows: number;
  readonly bytes: number;
}

export interface ReadSession {
  readonly consistent: boolean;
  /** Reader connections the session holds; fewer than asked when a shared snapshot needed that. */
  readonly readers: number;
  /**
   * Runs one SELECT (built by the adapter) and writes its rows as staging CSV into `sink`,
   * honouring back-pressure. Resolves with the totals when the sink has received everything.
   * Aborting `signal` cancels the query on the server and rejects with code CANCELLED.
   */
  extract(
    sql: string,
    columns: readonly ColumnSchema[],
    sink: Writable,
    signal: AbortSignal,
    onProgress: (progress: ExtractProgress) => void,
  ): Promise<ExtractProgress>;
  close(): Promise<void>;
}

/** A source relation: a table name or a read-only query. */
export type SourceRelation = { readonly table: string } | { readonly query: string };

export interface SelectSpec {
  readonly relation: SourceRelation;
  readonly columns: readonly ColumnSchema[];
  /** SQL predicates joined with AND (already rendered with this adapter's quoting and literals). */
  readonly where: readonly string[];
  /**
   * Columns appended after `columns`, each a predicate the source evaluates per row and renders as
   * the text `t` or `f` (the engine's watermark flags: comparisons under the source's own collation).
   */
  readonly flags?: readonly { readonly name: string; readonly predicate: string }[];
}

/** How the high-water mark query compares max(cursor) with a stored position. */
export interface HighWaterSpec {
  readonly relation: SourceRelation;
  readonly cursor: ColumnSchema;
  /** Compared with max(cursor) by the source: the result's second column is -1, 0 or 1 (null without it). */
  readonly compareWith: string | null;
  /** Only rows with cursor <= this value count (the open-transaction cap). */
  readonly atMost: string | null;
}

export interface SourceAdapter {
  quoteIdentifier(name: string): string;
  /** `source.table` (quoted parts allowed, shared/qualified-name.ts) → quoted qualified name. */
  quoteTable(name: string): string;
  /** A literal of `type` from its canonical text (watermarks, chunk bounds). */
  literal(text: string, type: CanonicalType): string;
  /** The SELECT list expression that renders `column` in its staging-CSV text form. */
  selectExpression(column: ColumnSchema): string;
  /**
   * Renders a SQL expression of `column`'s type (the column, `MAX` of it, a literal) in the
   * canonical text form watermarks are kept in.
   */
  renderText(expression: string, column: ColumnSchema): string;
  /** The full extraction SELECT. */
  buildSelect(spec: SelectSpec): string;
  /** `SELECT max(cursor)` (as canonical text) over the relation with optional predicates. */
  buildMax(relation: SourceRelation, column: ColumnSchema, where: readonly string[]): string;
  /** `SELECT max(cursor), sign(max(cursor) - compareWith)`: both as text, compared by the source. */
  buildHighWater(spec: HighWaterSpec): string;
  /**
   * A query returning three text cells: the start of the oldest transaction still open on the
   * server (as canonical text of `cursor`'s type; NULL when none), how many sessions of other
   * roles the login cannot see, and the age of that transaction in seconds. Null when the source has no such view or the cursor's type does
   * not follow the clock.
   */
  openTransactionsSql(cursor: ColumnSchema): string | null;
  /** `SELECT count(*)` over the relation with optional predicates. */
  buildCount(relation: SourceRelation, where: readonly string[]): string;
}

export interface SourceIntrospector {
  /** Columns of a table or query, mapped to canonical types (unsupported types are an error naming the column). */
  describe(relation: SourceRelation, signal?: AbortSignal): Promise<ColumnSchema[]>;
  /** Planner statistics, cheap: the catalog's row estimate (null when unknown). */
  estimateRows(relation: SourceRelation, signal?: AbortSignal): Promise<number | null>;
  /** min and max of a single-column integer or text key, as canonical text (null on an empty table). */
  keyRange(
    relation: SourceRelation,
    key: ColumnSchema,
    signal?: AbortSignal,
  ): Promise<{ readonly min: string; readonly max: string } | null>;
  /**
   * The base tables the login can see (no views, no system schemas, partitions only through their
   * parent), in `compareSourceTables` order, and the schema a 1-part `source.table` resolves to
   * ('' when the connection has none).
   */
  listTables(signal?: AbortSignal): Promise<SourceTableList>;
  /**
   * The primary key's columns of `table` (a `source.table` text) in key order; null when the table
   * has none. A table that does not exist is an error naming it.
   */
  primaryKey(table: string, signal?: AbortSignal): Promise<string[] | null>;
}

export interface SourceTableList {
  readonly defaultSchema: string;
  /**
   * The source resolves table names whatever their case (MariaDB/MySQL with
   * lower_case_table_names, a SQL Server database with a case-insensitive collation): patterns and
   * `tables:` keys then match without regard to case, as `source.table` resolves.
   */
  readonly namesIgnoreCase: boolean;
  readonly tables: SourceTable[];
}
