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
}
