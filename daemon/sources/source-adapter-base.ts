/**
 * Defaults shared by the three SQL adapters (Kysely's DialectAdapterBase idea): the SELECT shapes
 * are the same everywhere, only quoting, literals and the per-type rendering differ.
 */
import { EtlError } from '../../shared/errors.js';
import {
  parseQualifiedName,
  type IdentifierDialect,
  type QualifiedName,
} from '../../shared/qualified-name.js';
import type { CanonicalType, ColumnSchema } from '../../shared/types.js';
import type { HighWaterSpec, SelectSpec, SourceAdapter, SourceRelation } from './source.js';

export abstract class SourceAdapterBase implements SourceAdapter {
  abstract quoteIdentifier(name: string): string;
  /** How `source.table` is read: quotes and folding of unquoted parts (shared/qualified-name.ts). */
  abstract readonly identifierDialect: IdentifierDialect;
  abstract literal(text: string, type: CanonicalType): string;
  /** Renders a SQL expression of `column`'s type into its staging-CSV text form. */
  abstract renderText(expression: string, column: ColumnSchema): string;

  /**
   * The parts of `source.table` as the catalog spells them (quotes removed, unquoted parts folded
   * as the database folds them). Validation refuses a malformed name first; this is the backstop.
   */
  tableParts(name: string): QualifiedName {
    const parsed = parseQualifiedName(name, this.identifierDialect);
    if (!parsed.ok)
      throw new EtlError('CONFIG_INVALID', `source.table ${JSON.stringify(name)}: ${parsed.reason}`);
    return parsed.parts;
  }

  /** `source.table` quoted part by part in this dialect. */
  quoteTable(name: string): string {
    return this.tableParts(name)
      .map((part) => this.quoteIdentifier(part))
      .join('.');
  }

  selectExpression(column: ColumnSchema): string {
    const name = this.quoteIdentifier(column.name);
    return `${this.renderText(name, column)} AS ${name}`;
  }

  buildSelect(spec: SelectSpec): string {
    const list = spec.columns.map((column) => this.selectExpression(column));
    for (const flag of spec.flags ?? []) {
      list.push(`CASE WHEN ${flag.predicate} THEN 't' ELSE 'f' END AS ${this.quoteIdentifier(flag.name)}`);
    }
    return `SELECT ${list.join(', ')} FROM ${this.relationSql(spec.relation)}${this.whereSql(spec.where)}`;
  }

  buildMax(relation: SourceRelation, column: ColumnSchema, where: readonly string[]): string {
    const max = this.renderText(`MAX(${this.quoteIdentifier(column.name)})`, column);
    return `SELECT ${max} FROM ${this.relationSql(relation)}${this.whereSql(where)}`;
  }

  buildHighWater(spec: HighWaterSpec): string {
    const column = this.quoteIdentifier(spec.cursor.name);
    const max = `MAX(${column})`;
    const select = [this.renderText(max, spec.cursor)];
    if (spec.compareWith !== null) {
      const other = this.literal(spec.compareWith, spec.cursor.type);
      select.push(
        `CASE WHEN ${max} > ${other} THEN '1' WHEN ${max} = ${other} THEN '0' WHEN ${max} < ${other} THEN '-1' END`,
      );
    }
    const where = spec.atMost === null ? [] : [`${column} <= ${this.literal(spec.atMost, spec.cursor.type)}`];
    return `SELECT ${select.join(', ')} FROM ${this.relationSql(spec.relation)}${this.whereSql(where)}`;
  }

  openTransactionsSql(_cursor: ColumnSchema): string | null {
    return null;
  }

  buildCount(relation: SourceRelation, where: readonly string[]): string {
    return `SELECT ${this.countExpression()} FROM ${this.relationSql(relation)}${this.whereSql(where)}`;
  }

  /**
   * The relation as it appears after FROM; a query becomes a derived table. The newline before
   * the closing parenthesis keeps a trailing `-- comment` in the query from swallowing it.
   */
  relationSql(relation: SourceRelation): string {
    if ('table' in relation) return this.quoteTable(relation.table);
    const query = relation.query.trim().replace(/;+\s*$/, '');
    return `(${query}\n) ${this.queryAlias()}`;
  }

  protected countExpression(): string {
    return 'COUNT(*)';
  }

  protected queryAlias(): string {
    return 'AS etld_q';
  }

  protected whereSql(where: readonly string[]): string {
    return where.length === 0 ? '' : ` WHERE ${where.map((predicate) => `(${predicate})`).join(' AND ')}`;
  }
}
