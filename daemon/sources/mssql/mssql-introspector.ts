import type { ColumnSchema } from '../../../shared/types.js';
import type { SourceIntrospector, SourceRelation } from '../source.js';
import { mssqlString, type MssqlAdapter } from './mssql-adapter.js';
import type { MssqlDriver } from './mssql-driver.js';
import { mapMssqlType } from './mssql-types.js';

/**
 * Column types from `sp_describe_first_result_set` (tables and queries alike, without running the
 * query); nullability as declared for tables, always true for queries.
 */
export class MssqlIntrospector implements SourceIntrospector {
  readonly #driver: MssqlDriver;
  readonly #adapter: MssqlAdapter;

  constructor(driver: MssqlDriver, adapter: MssqlAdapter) {
    this.#driver = driver;
    this.#adapter = adapter;
  }

  /** The SQL text of the description query (exposed for tests without a server). */
  describeSql(relation: SourceRelation): string {
    const select = `SELECT * FROM ${this.#adapter.relationSql(relation)}`;
    return (
      `SELECT name, is_nullable, system_type_name FROM sys.dm_exec_describe_first_result_set(${mssqlString(select)}, NULL, 0) ` +
      'WHERE is_hidden = 0 ORDER BY column_ordinal'
    );
  }

  async describe(relation: SourceRelation, signal?: AbortSignal): Promise<ColumnSchema[]> {
    const rows = await this.#driver.queryText(this.describeSql(relation), signal);
    return rows.map(([name, isNullable, systemTypeName]) => {
      const column = name ?? '';
      const sourceType = systemTypeName ?? '';
      const nullable = 'table' in relation ? isNullable !== 'f' : true;
      return { name: column, type: mapMssqlType(sourceType, column), nullable, sourceType };
    });
  }

  async estimateRows(relation: SourceRelation, signal?: AbortSignal): Promise<number | null> {
    if (!('table' in relation)) return null;
    const rows = await this.#driver.queryText(
      `SELECT SUM(p.rows) FROM sys.partitions p WHERE p.object_id = OBJECT_ID(${mssqlString(this.#adapter.quoteTable(relation.table))}) AND p.index_id IN (0, 1)`,
      signal,
    );
    const value = rows[0]?.[0];
    return value === null || value === undefined ? null : Number(value);
  }

  async keyRange(
    relation: SourceRelation,
    key: ColumnSchema,
    signal?: AbortSignal,
  ): Promise<{ readonly min: string; readonly max: string } | null> {
    const column = this.#adapter.quoteIdentifier(key.name);
    const min = this.#adapter.renderText(`MIN(${column})`, key);
    const max = this.#adapter.renderText(`MAX(${column})`, key);
    const rows = await this.#driver.queryText(
      `SELECT ${min}, ${max} FROM ${this.#adapter.relationSql(relation)}`,
      signal,
    );
    const [low, high] = rows[0] ?? [];
    return low === null || low === undefined || high === null || high === undefined
      ? null
      : { min: low, max: high };
  }
}
