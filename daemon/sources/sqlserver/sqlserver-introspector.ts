import type { ColumnSchema } from '../../../shared/types.js';
import type { SourceRelation } from '../source.js';
import { SourceIntrospectorBase } from '../source-introspector-base.js';
import { sqlServerString, type SqlServerAdapter } from './sqlserver-adapter.js';
import type { SqlServerDriver } from './sqlserver-driver.js';
import { mapSqlServerType } from './sqlserver-types.js';

/**
 * Column types from `sp_describe_first_result_set` (tables and queries alike, without running the
 * query); nullability as declared for tables, always true for queries.
 */
export class SqlServerIntrospector extends SourceIntrospectorBase<SqlServerDriver, SqlServerAdapter> {
  /** The SQL text of the description query (exposed for tests without a server). */
  describeSql(relation: SourceRelation): string {
    const select = `SELECT * FROM ${this.adapter.relationSql(relation)}`;
    return (
      `SELECT name, is_nullable, system_type_name FROM sys.dm_exec_describe_first_result_set(${sqlServerString(select)}, NULL, 0) ` +
      'WHERE is_hidden = 0 ORDER BY column_ordinal'
    );
  }

  async describe(relation: SourceRelation, signal?: AbortSignal): Promise<ColumnSchema[]> {
    const rows = await this.driver.queryText(this.describeSql(relation), signal);
    return rows.map(([name, isNullable, systemTypeName]) => {
      const column = name ?? '';
      const sourceType = systemTypeName ?? '';
      const nullable = 'table' in relation ? isNullable !== 'f' : true;
      return { name: column, type: mapSqlServerType(sourceType, column), nullable, sourceType };
    });
  }

  /** The SQL text of the catalog row estimate of `table` (exposed for tests without a server). */
  estimateSql(table: string): string {
    return `SELECT SUM(p.rows) FROM sys.partitions p WHERE p.object_id = OBJECT_ID(${sqlServerString(this.adapter.quoteTable(table))}) AND p.index_id IN (0, 1)`;
  }

  async estimateRows(relation: SourceRelation, signal?: AbortSignal): Promise<number | null> {
    if (!('table' in relation)) return null;
    return this.catalogNumber(this.estimateSql(relation.table), signal);
  }

  /** Object names compare under the database's collation: `_CI_` ones ignore case. */
  namingSql(): string {
    return "SELECT SCHEMA_NAME(), CASE WHEN CONVERT(nvarchar(128), DATABASEPROPERTYEX(DB_NAME(), 'Collation')) LIKE '%[_]CI[_]%' THEN 1 ELSE 0 END";
  }

  listTablesSql(): string {
    return 'SELECT s.name, t.name FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id WHERE t.is_ms_shipped = 0';
  }

  /** A 3-part `source.table` names another database: its own catalog views hold the key. */
  primaryKeySql(table: string): string {
    const parts = this.adapter.tableParts(table);
    const sys = parts.length === 3 ? `${this.adapter.quoteIdentifier(parts[0] ?? '')}.sys` : 'sys';
    return (
      `SELECT c.name FROM ${sys}.indexes i ` +
      `JOIN ${sys}.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id ` +
      `JOIN ${sys}.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id ` +
      `WHERE i.object_id = ${this.#objectId(table)} AND i.is_primary_key = 1 AND ic.key_ordinal > 0 ORDER BY ic.key_ordinal`
    );
  }

  tableExistsSql(table: string): string {
    return `SELECT 1 WHERE ${this.#objectId(table)} IS NOT NULL`;
  }

  #objectId(table: string): string {
    return `OBJECT_ID(${sqlServerString(this.adapter.quoteTable(table))})`;
  }
}
