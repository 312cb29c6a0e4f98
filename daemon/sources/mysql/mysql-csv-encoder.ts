/**
 * One text-protocol row packet → one staging-CSV line, byte to byte: the packet's length-encoded
 * cells are copied into the output buffer with the CSV quoting done on the bytes, so no JavaScript
 * string or value is made per cell. The few per-type fix-ups happen on the bytes too: zero dates,
 * tinyint(1) → t/f, UTC timestamps → `+00` (everything else the adapter renders in SQL).
 *
 * Byte reads use `!`: every index is inside the packet (checked against `end` per cell) or inside
 * the output buffer (sized by `worstCaseBytes` before the row), and a plain typed-array load is
 * what keeps this loop fast.
 */
import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const ZERO = 0x30;

/** Bytes that make a field need quotes: `"`, `,`, LF, CR (tabs and backslashes do not). */
const NEEDS_QUOTES = new Uint8Array(256);
for (const byte of [QUOTE, COMMA, NEWLINE, 0x0d]) NEEDS_QUOTES[byte] = 1;

/** What a column needs beyond copying and quoting its bytes. */
const TEXT = 0;
const ZERO_DATE = 1;
const ZERO_DATE_UTC = 2;
const BOOL = 3;

function kindOf(column: ColumnSchema): number {
  switch (column.type.kind) {
    case 'date':
    case 'timestamp':
      return ZERO_DATE;
    case 'timestamptz':
      return ZERO_DATE_UTC;
    case 'bool':
      return BOOL;
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
      return TEXT;
  }
}

/** `0000-00-00…` and the partial zero dates MySQL accepts (`2020-00-15`, `2020-05-00`). */
function isZeroDate(b: Buffer, p: number, n: number): boolean {
  return (
    (n > 6 && b[p + 5] === ZERO && b[p + 6] === ZERO) || (n > 9 && b[p + 8] === ZERO && b[p + 9] === ZERO)
  );
}

/**
 * The CSV field for `n` bytes at `p` of `src`, followed by `+00` when `utc`, written at `o`;
 * returns where it ends. A plain byte loop measured faster than native copies for these sizes.
 */
function writeField(src: Buffer, p: number, n: number, out: Buffer, o: number, utc: boolean): number {
  if (n === 0 && !utc) {
    out[o] = QUOTE;
    out[o + 1] = QUOTE;
    return o + 2;
  }
  const start = o;
  const end = p + n;
  let special = 0;
  for (let i = p; i < end; i++) {
    const byte = src[i]!;
    out[o++] = byte;
    special |= NEEDS_QUOTES[byte]!;
  }
  if (special !== 0) {
    // Rare: write the field again, quoted, with its quotes doubled.
    o = start;
    out[o++] = QUOTE;
    for (let i = p; i < end; i++) {
      const byte = src[i]!;
      if (byte === QUOTE) out[o++] = QUOTE;
      out[o++] = byte;
    }
  }
  if (utc) {
    out[o++] = 0x2b; // +
    out[o++] = ZERO;
    out[o++] = ZERO;
  }
  if (special !== 0) out[o++] = QUOTE;
  return o;
}

function malformed(what: string): EtlError {
  return new EtlError('SOURCE_CONNECTION', `${what}: a row packet from the server is malformed`, {
    retryable: true,
  });
}

export class MysqlCsvEncoder {
  readonly #columns: readonly ColumnSchema[];
  readonly #kinds: Uint8Array;
  readonly #zeroDatesAsNull: boolean;
  readonly #what: string;

  constructor(columns: readonly ColumnSchema[], zeroDates: 'null' | 'error', what: string) {
    this.#columns = columns;
    this.#kinds = Uint8Array.from(columns, kindOf);
    this.#zeroDatesAsNull = zeroDates === 'null';
    this.#what = what;
  }

  /**
   * The most bytes a row packet of `payloadBytes` can become: every cell byte doubled (all quotes),
   * plus per column two quotes, a separator and the `+00` suffix, plus the line end.
   */
  worstCaseBytes(payloadBytes: number): number {
    return 2 * payloadBytes + 6 * this.#kinds.length + 1;
  }

  /**
   * Encodes the row payload `src[start, end)` at `out[o]` and returns where the line ends. Throws
   * SOURCE_DATA for a value the staging cannot take (naming the column and row, never the value)
   * and SOURCE_CONNECTION for a packet that does not hold one cell per column.
   */
  encodeRow(src: Buffer, start: number, end: number, out: Buffer, o: number, row: number): number {
    const kinds = this.#kinds;
    const width = kinds.length;
    let p = start;
    for (let c = 0; c < width; c++) {
      if (c > 0) out[o++] = COMMA;
      if (p >= end) throw malformed(this.#what);
      // The cell's length-encoded size: one byte below 251, 0xfb for NULL, else 2, 3 or 8 bytes.
      const first = src[p++]!;
      let n: number;
      if (first < 0xfb) n = first;
      else if (first === 0xfb) continue;
      else if (first === 0xfc) {
        n = src[p]! | (src[p + 1]! << 8);
        p += 2;
      } else if (first === 0xfd) {
        n = src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16);
        p += 3;
      } else if (first === 0xfe && p + 8 <= end) {
        n = src.readUInt32LE(p) + src.readUInt32LE(p + 4) * 0x1_0000_0000;
        p += 8;
      } else throw malformed(this.#what);
      if (p + n > end) throw malformed(this.#what);
      const kind = kinds[c]!;
      if (kind === TEXT) o = writeField(src, p, n, out, o, false);
      else if (kind === BOOL) {
        const value = n === 1 ? src[p]! : -1;
        if (value === 0x31)
          out[o++] = 0x74; // '1' → t
        else if (value === ZERO)
          out[o++] = 0x66; // '0' → f
        else throw this.#notBool(c, row);
      } else if (isZeroDate(src, p, n)) {
        if (!this.#zeroDatesAsNull) throw this.#zeroDate(c, row);
      } else o = writeField(src, p, n, out, o, kind === ZERO_DATE_UTC);
      p += n;
    }
    out[o++] = NEWLINE;
    return o;
  }

  #zeroDate(index: number, row: number): EtlError {
    const column = this.#columns[index];
    return new EtlError(
      'SOURCE_DATA',
      `${this.#what}: column "${column?.name ?? index}" holds a zero date (0000-00-00, or a month or day of 00) in row ${row} of the extract; ` +
        'set source.zero_dates: null to load zero dates as NULL',
    );
  }

  #notBool(index: number, row: number): EtlError {
    const name = this.#columns[index]?.name ?? String(index);
    const sourceType = this.#columns[index]?.sourceType ?? 'tinyint(1)';
    return new EtlError(
      'SOURCE_DATA',
      `${this.#what}: column "${name}" (${sourceType}, read as bool) holds a value other than 0 and 1 in row ${row} of the extract; ` +
        `select it through a query as \`${name}\` + 0 to read it as an integer`,
    );
  }
}
