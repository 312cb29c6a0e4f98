/**
 * Reads an NDJSON load file the way BigQuery's loader does for the value forms etld emits, and
 * refuses what BigQuery refuses: unknown keys (ignoreUnknownValues is false), malformed JSON,
 * values that do not parse as the field type, missing REQUIRED values. Values come out as text
 * for the storage to cast.
 */
import { DoubleError } from './double-storage.js';
import type { Field } from './rest-schemas.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const TIME_RE = /^\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?( ?(Z|UTC|[+-]\d{2}(:\d{2})?))?$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decimalFits(text: string, field: Field): boolean {
  const m = /^-?(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return false;
  const intDigits = (m[1] ?? '').replace(/^0+(?=\d)/, '').length;
  const scaleDigits = (m[2] ?? '').replace(/0+$/, '').length;
  const big = field.type === 'BIGNUMERIC';
  const precision = Number(field.precision ?? (big ? 76 : 38));
  const scale = Number(field.scale ?? (big ? 38 : 9));
  return scaleDigits <= scale && intDigits <= precision - scale;
}

function convert(value: unknown, field: Field): string | null | undefined {
  if (value === null) return null;
  const type =
    field.type === 'INTEGER'
      ? 'INT64'
      : field.type === 'FLOAT'
        ? 'FLOAT64'
        : field.type === 'BOOLEAN'
          ? 'BOOL'
          : field.type;
  switch (type) {
    case 'INT64': {
      const text =
        typeof value === 'number' && Number.isSafeInteger(value)
          ? String(value)
          : typeof value === 'string'
            ? value
            : undefined;
      if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
      const n = BigInt(text);
      return n >= INT64_MIN && n <= INT64_MAX ? text : undefined;
    }
    case 'FLOAT64':
      if (typeof value === 'number') return String(value);
      return typeof value === 'string' &&
        (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ||
          ['NaN', 'Infinity', '-Infinity'].includes(value))
        ? value
        : undefined;
    case 'NUMERIC':
    case 'BIGNUMERIC': {
      const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
      return text !== undefined && decimalFits(text, field) ? text : undefined;
    }
    case 'BOOL':
      return typeof value === 'boolean'
        ? String(value)
        : value === 'true' || value === 'false'
          ? value
          : undefined;
    case 'STRING':
      return typeof value === 'string' ? value : undefined;
    case 'BYTES':
      return typeof value === 'string' && BASE64_RE.test(value) ? value : undefined;
    case 'DATE':
      return typeof value === 'string' && DATE_RE.test(value) ? value : undefined;
    case 'TIME':
      return typeof value === 'string' && TIME_RE.test(value) ? value : undefined;
    case 'DATETIME':
      return typeof value === 'string' && DATETIME_RE.test(value) ? value : undefined;
    case 'TIMESTAMP':
      return typeof value === 'string' && TIMESTAMP_RE.test(value)
        ? value.replace(/ ?UTC$/, '+00:00').replace(/Z$/, '+00:00')
        : undefined;
    case 'JSON':
      return JSON.stringify(value);
    default:
      return undefined;
  }
}

export function readNdjson(data: Buffer, fields: Field[]): (string | null)[][] {
  const byName = new Map(fields.map((f, i) => [f.name.toLowerCase(), i]));
  const rows: (string | null)[][] = [];
  const lines = data.toString('utf8').split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const location = `line ${index + 1}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new DoubleError(
        'invalid',
        `Error while reading data, error message: JSON table encountered too many errors. JSON parsing error in row starting at position ${index}: malformed JSON`,
        location,
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new DoubleError('invalid', 'JSON parsing error: each line must be an object', location);
    }
    const row: (string | null)[] = fields.map(() => null);
    for (const [key, value] of Object.entries(parsed)) {
      const at = byName.get(key.toLowerCase());
      const field = at === undefined ? undefined : fields[at];
      if (at === undefined || field === undefined)
        throw new DoubleError('invalid', `JSON parsing error: No such field: ${key}.`, location);
      const converted = convert(value, field);
      if (converted === undefined) {
        throw new DoubleError(
          'invalid',
          `JSON parsing error: Could not convert value '${JSON.stringify(value)}' to ${field.type} for field: ${field.name}.`,
          location,
        );
      }
      row[at] = converted;
    }
    fields.forEach((f, i) => {
      if (f.mode === 'REQUIRED' && row[i] === null)
        throw new DoubleError('invalid', `Missing required field: ${f.name}.`, location);
    });
    rows.push(row);
  });
  return rows;
}
