/**
 * Validation of the canonical text of watermarks and chunk bounds before it is rendered into
 * SQL: only text of the expected shape ever reaches a query, so literals cannot inject SQL.
 */
import { EtlError } from '../../shared/errors.js';
import { typeToString, type CanonicalType } from '../../shared/types.js';

const INTEGER_RE = /^[-+]?\d+$/;
const DECIMAL_RE = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const FLOAT_RE = /^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]?Infinity)$/;
const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const TIMESTAMP_RE =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?\s*(Z|[-+]\d{2}(?::?\d{2})?)?$/i;

export function invalidLiteral(text: string, type: CanonicalType): EtlError {
  const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return new EtlError('CONFIG_INVALID', `"${shown}" is not a valid ${typeToString(type)} value`);
}

export function checkInteger(text: string, type: CanonicalType): string {
  if (!INTEGER_RE.test(text)) throw invalidLiteral(text, type);
  return text.replace(/^\+/, '');
}

export function checkDecimal(text: string, type: CanonicalType): string {
  if (!DECIMAL_RE.test(text)) throw invalidLiteral(text, type);
  return text.replace(/^\+/, '');
}

export function checkFloat(text: string, type: CanonicalType): string {
  if (!FLOAT_RE.test(text)) throw invalidLiteral(text, type);
  return text;
}

/** A float for a database without NaN or infinity values to compare with (MySQL, SQL Server). */
export function checkFiniteFloat(text: string, type: CanonicalType): string {
  const value = checkFloat(text, type);
  if (/nan|inf/i.test(value)) throw invalidLiteral(text, type);
  return value;
}

export function checkBool(text: string, type: CanonicalType): boolean {
  const lower = text.toLowerCase();
  if (lower === 't' || lower === 'true' || lower === '1') return true;
  if (lower === 'f' || lower === 'false' || lower === '0') return false;
  throw invalidLiteral(text, type);
}

export function checkUuid(text: string, type: CanonicalType): string {
  if (!UUID_RE.test(text)) throw invalidLiteral(text, type);
  const hex = text.replaceAll('-', '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function checkHex(text: string, type: CanonicalType): string {
  const hex = text.replace(/^\\x|^0x/i, '');
  if (!HEX_RE.test(hex)) throw invalidLiteral(text, type);
  return hex.toLowerCase();
}

export function checkDate(text: string, type: CanonicalType): string {
  const match = DATE_RE.exec(text.trim());
  if (!match) throw invalidLiteral(text, type);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) throw invalidLiteral(text, type);
  return text.trim();
}

export function checkTime(text: string, type: CanonicalType): string {
  const match = TIME_RE.exec(text.trim());
  if (!match) throw invalidLiteral(text, type);
  if (Number(match[1]) > 24 || Number(match[2]) > 59 || Number(match[3] ?? '0') > 59)
    throw invalidLiteral(text, type);
  const fraction = match[4] === undefined ? '' : `.${match[4].slice(0, 6)}`;
  return `${match[1]}:${match[2]}:${match[3] ?? '00'}${fraction}`;
}

/**
 * A timestamp as `YYYY-MM-DD HH:MM:SS[.ffffff]`. With `toUtc`, an explicit offset is applied
 * (text without an offset is taken as UTC already); without it, an offset is refused.
 * A bare date means midnight (`start_from: 2023-01-01`).
 */
export function checkTimestamp(text: string, type: CanonicalType, toUtc: boolean): string {
  const match = TIMESTAMP_RE.exec(text.trim());
  if (!match) throw invalidLiteral(text, type);
  const date = checkDate(match[1] ?? '', type);
  const time = checkTime(match[2] ?? '00:00:00', type);
  const zone = match[3];
  if (zone === undefined || /^(?:z|[-+]00(?::?00)?)$/i.test(zone)) return `${date} ${time}`;
  if (!toUtc) throw invalidLiteral(text, type);
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
  const [whole, fraction] = time.split('.');
  const millis = Date.parse(`${date}T${whole ?? '00:00:00'}Z`) - offsetMinutes * 60_000;
  if (Number.isNaN(millis)) throw invalidLiteral(text, type);
  const utc = new Date(millis).toISOString().slice(0, 19).replace('T', ' ');
  return fraction === undefined ? utc : `${utc}.${fraction}`;
}
