import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import type { SourceRelation } from '../source.js';
import { SourceIntrospectorBase } from '../source-introspector-base.js';
import { quotePostgresString, type PostgresAdapter } from './postgres-adapter.js';
import type { PgField } from './postgres-connection.js';
import type { PostgresDriver } from './postgres-driver.js';
import { mapPostgresType, type PgTypeInfo } from './postgres-types.js';

/**
 * Column types from the server's own description of `SELECT * FROM <relation> LIMIT 0` (works for
 * tables and queries alike), resolved through pg_type; nullability from pg_attribute for tables.
 */
export class PostgresIntrospector extends SourceIntrospectorBase<PostgresDriver, PostgresAdapter> {
  async describe(relation: SourceRelation, signal?: AbortSignal): Promise<ColumnSchema[]> {
    const fields = await this.driver.describeFields(
      `SELECT * FROM ${this.adapter.relationSql(relation)} LIMIT 0`,
      signal,
    );
    const types = await this.#typeInfo(fields, signal);
    const notNull =
      'table' in relation ? await this.#notNullColumns(relation.table, signal) : new Set<string>();
    return fields.map((field) => {
      const entry = types.get(`${field.dataTypeID}:${field.dataTypeModifier}`);
      if (entry === undefined) {
        throw new EtlError(
          'SOURCE_QUERY',
          `${this.driver.what}: column "${field.name}" has unknown type oid ${field.dataTypeID}`,
        );
      }
      const type = mapPostgresType(entry.info, entry.typmod, field.name);
      // The adapter keys its special renderings (money, guarded numeric) on these names.
      const sourceType =
        entry.info.name === 'numeric' && entry.typmod < 4
          ? 'numeric'
          : entry.info.name === 'money'
            ? 'money'
            : entry.info.formatted;
      return { name: field.name, type, nullable: !notNull.has(field.name), sourceType };
    });
  }

  /** pg_type facts per (type oid, typmod); a domain is resolved to its base type and typmod. */
  async #typeInfo(
    fields: readonly PgField[],
    signal?: AbortSignal,
  ): Promise<Map<string, { info: PgTypeInfo; typmod: number }>> {
    const pairs = [
      ...new Set(fields.map((f) => `(${Math.trunc(f.dataTypeID)}, ${Math.trunc(f.dataTypeModifier)})`)),
    ];
    const map = new Map<string, { info: PgTypeInfo; typmod: number }>();
    if (pairs.length === 0) return map;
    // One level of domain resolution: a domain over a domain is rare.
    const rows = await this.driver.queryText(
      `SELECT f.oid, f.typmod, b.typname, b.typtype, b.typcategory, format_type(b.oid, m.typmod), m.typmod ` +
        `FROM (VALUES ${pairs.join(', ')}) AS f(oid, typmod) ` +
        `JOIN pg_type t ON t.oid = f.oid::oid ` +
        `CROSS JOIN LATERAL (SELECT CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END AS oid, ` +
        `CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE f.typmod END AS typmod) m ` +
        `JOIN pg_type b ON b.oid = m.oid`,
      signal,
    );
    for (const [oid, fieldTypmod, name, typtype, category, formatted, typmod] of rows) {
      map.set(`${oid}:${fieldTypmod}`, {
        info: {
          name: name ?? '',
          typtype: typtype ?? '',
          category: category ?? '',
          formatted: formatted ?? name ?? '',
        },
        typmod: Number(typmod ?? -1),
      });
    }
    return map;
  }

  async #notNullColumns(table: string, signal?: AbortSignal): Promise<Set<string>> {
    const rows = await this.driver.queryText(
      `SELECT attname FROM pg_attribute WHERE attrelid = ${quotePostgresString(this.adapter.quoteTable(table))}::regclass ` +
        `AND attnum > 0 AND NOT attisdropped AND attnotnull`,
      signal,
    );
    return new Set(rows.map((r) => r[0] ?? ''));
  }

  async estimateRows(relation: SourceRelation, signal?: AbortSignal): Promise<number | null> {
    if ('table' in relation) {
      const rows = await this.driver.queryText(
        `SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(${quotePostgresString(this.adapter.quoteTable(relation.table))})`,
        signal,
      );
      const value = Number(rows[0]?.[0] ?? Number.NaN);
      // reltuples is -1 until the table was first vacuumed or analysed (PostgreSQL >= 14).
      return Number.isFinite(value) && value >= 0 ? value : null;
    }
    const rows = await this.driver.queryText(
      `EXPLAIN (FORMAT JSON) SELECT * FROM ${this.adapter.relationSql(relation)}`,
      signal,
    );
    const plan = JSON.parse(rows[0]?.[0] ?? '[]') as { Plan?: { 'Plan Rows'?: unknown } }[];
    const estimate = plan[0]?.Plan?.['Plan Rows'];
    return typeof estimate === 'number' ? estimate : null;
  }

  namingSql(): string {
    return 'SELECT current_schema(), 0';
  }

  /**
   * Ordinary and partitioned tables; a partition is read through its parent. Schemas named pg_*
   * are the system's own (toast, temp, catalog: PostgreSQL refuses to create others).
   */
  listTablesSql(): string {
    return (
      'SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ' +
      "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition " +
      "AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'"
    );
  }

  primaryKeySql(table: string): string {
    return (
      'SELECT a.attname FROM pg_index i ' +
      'CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position) ' +
      'JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ' +
      `WHERE i.indrelid = to_regclass(${this.#regclassText(table)}) AND i.indisprimary ORDER BY k.position`
    );
  }

  tableExistsSql(table: string): string {
    return `SELECT 1 WHERE to_regclass(${this.#regclassText(table)}) IS NOT NULL`;
  }

  #regclassText(table: string): string {
    return quotePostgresString(this.adapter.quoteTable(table));
  }
}
