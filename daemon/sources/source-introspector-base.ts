/**
 * What the three introspectors share: their driver and adapter, the key range of a chunked read
 * (the same SELECT of min and max everywhere, rendered by the adapter), reading a catalog's
 * row estimate, and the frame of table discovery and primary keys. Only describing columns and
 * the catalog queries differ per database; the three used to copy the rest.
 */
import { EtlError } from '../../shared/errors.js';
import { compareSourceTables } from '../../shared/table-patterns.js';
import type { ColumnSchema } from '../../shared/types.js';
import type { SourceDriver, SourceIntrospector, SourceRelation, SourceTableList } from './source.js';
import type { SourceAdapterBase } from './source-adapter-base.js';

export abstract class SourceIntrospectorBase<
  D extends SourceDriver & { readonly what: string },
  A extends SourceAdapterBase,
> implements SourceIntrospector {
  protected readonly driver: D;
  protected readonly adapter: A;

  constructor(driver: D, adapter: A) {
    this.driver = driver;
    this.adapter = adapter;
  }

  abstract describe(relation: SourceRelation, signal?: AbortSignal): Promise<ColumnSchema[]>;

  abstract estimateRows(relation: SourceRelation, signal?: AbortSignal): Promise<number | null>;

  async keyRange(
    relation: SourceRelation,
    key: ColumnSchema,
    signal?: AbortSignal,
  ): Promise<{ readonly min: string; readonly max: string } | null> {
    const column = this.adapter.quoteIdentifier(key.name);
    const min = this.adapter.renderText(`MIN(${column})`, key);
    const max = this.adapter.renderText(`MAX(${column})`, key);
    const rows = await this.driver.queryText(
      `SELECT ${min}, ${max} FROM ${this.adapter.relationSql(relation)}`,
      signal,
    );
    const [low, high] = rows[0] ?? [];
    return low === null || low === undefined || high === null || high === undefined
      ? null
      : { min: low, max: high };
  }

  /**
   * One row of two cells: the schema a 1-part `source.table` resolves to (NULL when none), and 1
   * when the source resolves table names whatever their case (else 0).
   */
  abstract namingSql(): string;

  /** Rows of (schema, table name): every base table the login can see, no views, no system schemas. */
  abstract listTablesSql(): string;

  /** Rows of one cell, the primary key's column names in key order (none without a key or table). */
  abstract primaryKeySql(table: string): string;

  /** One row when `table` exists, none otherwise (tells "no key" from "no table"). */
  abstract tableExistsSql(table: string): string;

  async listTables(signal?: AbortSignal): Promise<SourceTableList> {
    const [schema, ignoreCase] = (await this.driver.queryText(this.namingSql(), signal))[0] ?? [];
    const rows = await this.driver.queryText(this.listTablesSql(), signal);
    const tables = rows.map(([tableSchema, name]) => ({ schema: tableSchema ?? '', name: name ?? '' }));
    return {
      defaultSchema: schema ?? '',
      namesIgnoreCase: ignoreCase === '1',
      tables: tables.sort(compareSourceTables),
    };
  }

  async primaryKey(table: string, signal?: AbortSignal): Promise<string[] | null> {
    const columns = (await this.driver.queryText(this.primaryKeySql(table), signal)).map((r) => r[0] ?? '');
    if (columns.length > 0) return columns;
    if ((await this.driver.queryText(this.tableExistsSql(table), signal)).length === 0) {
      throw new EtlError(
        'SOURCE_QUERY',
        `${this.driver.what}: table ${JSON.stringify(table)} does not exist or the login cannot see it`,
      );
    }
    return null;
  }

  /** The first cell of a catalog query as a number; null when the catalog has no value. */
  protected async catalogNumber(sql: string, signal?: AbortSignal): Promise<number | null> {
    const rows = await this.driver.queryText(sql, signal);
    const value = rows[0]?.[0];
    return value === null || value === undefined ? null : Number(value);
  }
}
