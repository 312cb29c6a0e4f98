import type { ColumnSchema } from '../../../shared/types.js';
import type { SourceRelation } from '../source.js';
import { SourceIntrospectorBase } from '../source-introspector-base.js';
import { mysqlString, type MysqlAdapter } from './mysql-adapter.js';
import type { MysqlDriver } from './mysql-driver.js';
import { FLAG_NOT_NULL, mapMysqlType } from './mysql-types.js';

const JSON_CHECK_RE = /^\s*json_valid\(`((?:[^`]|``)+)`\)\s*$/i;

/**
 * Column types from the result metadata of `SELECT * FROM <relation> LIMIT 0` (tables and queries
 * alike). MariaDB JSON columns are LONGTEXT: recognised by the extended metadata format, or for
 * tables by their `json_valid` check constraint.
 */
export class MysqlIntrospector extends SourceIntrospectorBase<MysqlDriver, MysqlAdapter> {
  async describe(relation: SourceRelation, signal?: AbortSignal): Promise<ColumnSchema[]> {
    const fields = await this.driver.describeFields(
      `SELECT * FROM ${this.adapter.relationSql(relation)} LIMIT 0`,
      signal,
    );
    const jsonColumns =
      'table' in relation ? await this.#mariaDbJsonColumns(relation.table, signal) : new Set<string>();
    return fields.map((field) => {
      const mapped = mapMysqlType(field, jsonColumns);
      // A query's column can hold NULL whatever the server guesses about expressions.
      const nullable = 'table' in relation ? (field.flags & FLAG_NOT_NULL) === 0 : true;
      return { name: field.name, type: mapped.type, nullable, sourceType: mapped.sourceType };
    });
  }

  /** Catalog predicates for `source.table`: the named database, or the connection's. */
  #schemaAndTable(table: string): { schema: string; table: string } {
    const [first, second] = this.adapter.tableParts(table);
    return second !== undefined
      ? { schema: mysqlString(first ?? ''), table: mysqlString(second) }
      : { schema: 'DATABASE()', table: mysqlString(first ?? '') };
  }

  async #mariaDbJsonColumns(table: string, signal?: AbortSignal): Promise<Set<string>> {
    const where = this.#schemaAndTable(table);
    try {
      const rows = await this.driver.queryText(
        `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ${where.schema} AND TABLE_NAME = ${where.table}`,
        signal,
      );
      const names = rows
        .map((r) => JSON_CHECK_RE.exec(r[0] ?? '')?.[1]?.replaceAll('``', '`'))
        .filter((n): n is string => n !== undefined);
      return new Set(names);
    } catch {
      // MySQL's CHECK_CONSTRAINTS has no TABLE_NAME (and MySQL has a real JSON type anyway).
      return new Set();
    }
  }

  async estimateRows(relation: SourceRelation, signal?: AbortSignal): Promise<number | null> {
    if (!('table' in relation)) return null;
    const where = this.#schemaAndTable(relation.table);
    return this.catalogNumber(
      `SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${where.schema} AND TABLE_NAME = ${where.table}`,
      signal,
    );
  }

  /** lower_case_table_names 1 stores names in lower case, 2 compares them so: both ignore case. */
  namingSql(): string {
    return 'SELECT DATABASE(), CASE WHEN @@lower_case_table_names = 0 THEN 0 ELSE 1 END';
  }

  /**
   * Every database the login can see, so `otherdb.*` patterns work. MariaDB's system-versioned
   * tables are base tables under another TABLE_TYPE; sequences, views and temporary tables are not.
   */
  listTablesSql(): string {
    return (
      'SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES ' +
      "WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') " +
      "AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"
    );
  }

  /**
   * Joined with COLUMNS: MariaDB adds the hidden row_end of a system-versioned table to its key,
   * and hidden columns are neither in COLUMNS nor in `SELECT *` (current rows are unique without it).
   */
  primaryKeySql(table: string): string {
    return (
      'SELECT k.COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.COLUMNS c ' +
      'ON c.TABLE_SCHEMA = k.TABLE_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME AND c.COLUMN_NAME = k.COLUMN_NAME ' +
      `WHERE ${this.#sameTable(table, 'k.')} AND ${this.#sameTable(table, 'c.')} AND k.CONSTRAINT_NAME = 'PRIMARY' ` +
      'ORDER BY k.ORDINAL_POSITION'
    );
  }

  tableExistsSql(table: string): string {
    return `SELECT 1 FROM information_schema.TABLES WHERE ${this.#sameTable(table)}`;
  }

  /**
   * information_schema compares names case-insensitively, but with lower_case_table_names = 0
   * `MiXed` and `mixed` are two tables: then only the exact spelling counts. The plain equalities
   * stay so the server can open just that table's metadata.
   */
  #sameTable(table: string, alias = ''): string {
    const where = this.#schemaAndTable(table);
    const schema = `${alias}TABLE_SCHEMA`;
    const name = `${alias}TABLE_NAME`;
    return (
      `${schema} = ${where.schema} AND ${name} = ${where.table} AND (@@lower_case_table_names <> 0 OR ` +
      `(CAST(${schema} AS BINARY) = CAST(${where.schema} AS BINARY) AND CAST(${name} AS BINARY) = CAST(${where.table} AS BINARY)))`
    );
  }
}
