/**
 * What the three introspectors share: their driver and adapter, the key range of a chunked read
 * (the same SELECT of min and max everywhere, rendered by the adapter), and reading a catalog's
 * row estimate. Only describing columns and the row estimate's query differ per database; the
 * three used to copy the rest.
 */
import type { ColumnSchema } from '../../shared/types.js';
import type { SourceDriver, SourceIntrospector, SourceRelation } from './source.js';
import type { SourceAdapterBase } from './source-adapter-base.js';

export abstract class SourceIntrospectorBase<
  D extends SourceDriver,
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

  /** The first cell of a catalog query as a number; null when the catalog has no value. */
  protected async catalogNumber(sql: string, signal?: AbortSignal): Promise<number | null> {
    const rows = await this.driver.queryText(sql, signal);
    const value = rows[0]?.[0];
    return value === null || value === undefined ? null : Number(value);
  }
}
