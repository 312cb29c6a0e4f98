/**
 * Per-column fix-ups from MySQL's text to staging-CSV text, applied to each value in JavaScript
 * (MySQL has no bulk CSV path to the client): zero dates, tinyint(1) → t/f, UTC timestamps → `+00`.
 */
import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';

export type ValueFormatter = (value: string | null, row: number) => string | null;

const ZERO = 48;

/** `0000-00-00…` and the partial zero dates MySQL accepts (`2020-00-15`, `2020-05-00`). */
function isZeroDate(value: string): boolean {
  return (
    (value.charCodeAt(5) === ZERO && value.charCodeAt(6) === ZERO) ||
    (value.charCodeAt(8) === ZERO && value.charCodeAt(9) === ZERO)
  );
}

function zeroDateHandler(
  column: ColumnSchema,
  zeroDates: 'null' | 'error',
  what: string,
): (value: string, row: number) => null {
  return (value, row) => {
    if (zeroDates === 'null') return null;
    throw new EtlError(
      'SOURCE_DATA',
      `${what}: column "${column.name}" holds the zero date ${value} in row ${row} of the extract; ` +
        'set source.zero_dates: null to load zero dates as NULL',
      { retryable: false },
    );
  };
}

const identity: ValueFormatter = (value) => value;

export function formatterFor(
  column: ColumnSchema,
  zeroDates: 'null' | 'error',
  what: string,
): ValueFormatter {
  switch (column.type.kind) {
    case 'date':
    case 'timestamp': {
      const zero = zeroDateHandler(column, zeroDates, what);
      return (value, row) => (value !== null && isZeroDate(value) ? zero(value, row) : value);
    }
    case 'timestamptz': {
      const zero = zeroDateHandler(column, zeroDates, what);
      return (value, row) => (value === null ? null : isZeroDate(value) ? zero(value, row) : `${value}+00`);
    }
    case 'bool':
      return (value, row) => {
        if (value === null) return null;
        if (value === '1') return 't';
        if (value === '0') return 'f';
        throw new EtlError(
          'SOURCE_DATA',
          `${what}: column "${column.name}" (${column.sourceType ?? 'tinyint(1)'}, read as bool) holds ${value} in row ${row} of the extract; ` +
            `select it through a query as \`${column.name}\` + 0 to read it as an integer`,
          { retryable: false },
        );
      };
    case 'int16':
    case 'int32':
    case 'int64':
    case 'decimal':
    case 'float32':
    case 'float64':
    case 'text':
    case 'bytes':
    case 'time':
    case 'json':
    case 'uuid':
      return identity;
  }
}
