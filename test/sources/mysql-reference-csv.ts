/**
 * The straightforward way to the staging CSV of a MySQL query, as etld did it before reading row
 * packets: mysql2 hands every value over as a JavaScript string (same session settings as the
 * connector), and each is written by the rules of the staging contract in daemon/sources/source.ts.
 * Written independently of the product's encoder, on purpose.
 */
import mysql from 'mysql2/promise';
import type { ColumnSchema } from '../../shared/types.js';

export interface ReferenceTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

const ZERO_DATE = /^\d{4}-(?:00-\d\d|\d\d-00)/;

function field(column: ColumnSchema, value: string | null): string {
  if (value === null) return '';
  let text = value;
  switch (column.type.kind) {
    case 'date':
    case 'timestamp':
      if (ZERO_DATE.test(value)) return '';
      break;
    case 'timestamptz':
      if (ZERO_DATE.test(value)) return '';
      text = `${value}+00`;
      break;
    case 'bool':
      if (value !== '0' && value !== '1') throw new Error(`not a bool: ${value}`);
      text = value === '1' ? 't' : 'f';
      break;
    default:
      break;
  }
  if (text === '') return '""';
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export async function referenceCsv(
  target: ReferenceTarget,
  sql: string,
  columns: readonly ColumnSchema[],
): Promise<Buffer> {
  const connection = await mysql.createConnection({
    ...target,
    charset: 'UTF8MB4_GENERAL_CI',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    rowsAsArray: true,
    typeCast: (cell) => cell.string('utf8'),
  });
  try {
    await connection.query("SET time_zone = '+00:00'");
    const [rows] = await connection.query({ sql, rowsAsArray: true });
    const lines = (rows as (string | null)[][]).map(
      (row) => `${columns.map((column, i) => field(column, row[i] ?? null)).join(',')}\n`,
    );
    return Buffer.from(lines.join(''), 'utf8');
  } finally {
    await connection.end();
  }
}
