/**
 * Seeded random rows for a MariaDB table with a column of every type etld reads from MySQL, as SQL
 * literals (text as hex, so no escaping rule of the server or the client is involved).
 *
 * Decisions:
 * - Text is hostile: quotes, commas, CR, LF, CRLF, tabs, backslashes, `\N`, the word NULL, control
 *   characters, 4-byte UTF-8 (emoji, a ZWJ sequence), U+2028; no NUL. Empty strings and NULLs
 *   are both frequent. A few values are long enough for the 2- and 3-byte length forms.
 * - Binary columns get every byte value, NUL included (they are read as hex).
 * - Numbers and dates include the type's extremes, zero dates and partial zero dates.
 */
import type { Prng } from '../chaos/prng.js';

export const RANDOM_TABLE_DDL = (name: string): string => `CREATE TABLE ${name} (
  id INT PRIMARY KEY,
  flag TINYINT(1), ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  de DECIMAL(38,10), dn DECIMAL(10,0) UNSIGNED, f FLOAT, dbl DOUBLE, bits BIT(10), b64 BIT(64), yr YEAR,
  t TEXT, vc VARCHAR(300), ch CHAR(10), lt LONGTEXT, lat VARCHAR(100) CHARACTER SET latin1,
  en ENUM('a', 'b,c', 'q"uote', 'é', '😀'), st SET('a', 'b c', 'ß', '"'),
  bin VARBINARY(300), bl BLOB, lbl LONGBLOB, j JSON,
  d DATE, dt DATETIME(6), dt0 DATETIME, ts TIMESTAMP(6) NULL DEFAULT NULL, tm TIME(6),
  u UUID, ip4 INET4, ip6 INET6
) DEFAULT CHARSET = utf8mb4`;

const PIECES = [
  'a',
  'Z',
  '0',
  '9',
  ' ',
  '  ',
  '"',
  '""',
  "'",
  ',',
  ';',
  '\n',
  '\r',
  '\r\n',
  '\t',
  '\\',
  '\\N',
  '\\\\',
  'NULL',
  'null',
  'é',
  'ß',
  '漢字',
  '😀',
  '🏳️‍🌈',
  '\u00a0',
  '\u2028',
  '\u0001',
  '\u001f',
  '\u007f',
  'plain words',
  '-',
  '+',
  '.',
  'e',
  '€',
];
const LATIN1_PIECES = ['a', 'Z', ' ', '"', ',', '\n', '\r', '\t', '\\', 'é', 'ß', 'ÿ', 'NULL', '\u00a0'];

function randomText(prng: Prng, maxChars: number, pieces: readonly string[] = PIECES): string {
  const target = prng.int(0, maxChars);
  let out = '';
  let chars = 0;
  while (chars < target) {
    const piece = prng.pick(pieces);
    const length = [...piece].length;
    if (chars + length > maxChars) break;
    out += piece;
    chars += length;
  }
  return out;
}

/** A literal the server reads as exactly this UTF-8 text, whatever its sql_mode or charset. */
function textLiteral(text: string): string {
  return `CONVERT(X'${Buffer.from(text, 'utf8').toString('hex')}' USING utf8mb4)`;
}

function bytesLiteral(prng: Prng, maxBytes: number): string {
  const length = prng.int(0, maxBytes);
  const bytes = Buffer.alloc(length);
  // Every byte value appears in a value of 256 bytes or more.
  for (let i = 0; i < length; i++) bytes[i] = length >= 256 && i < 256 ? i : prng.int(0, 255);
  return `X'${bytes.toString('hex')}'`;
}

function digits(prng: Prng, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += String(prng.int(0, 9));
  return out;
}

function integer(prng: Prng, min: bigint, max: bigint): string {
  if (prng.chance(0.2)) return String(prng.pick([min, max, 0n]));
  const span = max - min + 1n;
  const draw = (BigInt(prng.int(0, 0xffffffff)) << 32n) | BigInt(prng.int(0, 0xffffffff));
  return String(min + (draw % span));
}

function float64(prng: Prng): string {
  if (prng.chance(0.3)) {
    return prng.pick([
      '0',
      '-0',
      '0.1',
      '-1.5',
      '1e-300',
      '5e-324',
      '2.2250738585072014e-308',
      '1.7976931348623157e308',
      '-1.7976931348623157e308',
      '9007199254740993',
      '123456789.125',
    ]);
  }
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, prng.int(0, 0xffffffff));
  view.setUint32(4, prng.int(0, 0xffffffff));
  const value = view.getFloat64(0);
  return Number.isFinite(value) ? String(value) : String(prng.next() * 1e10);
}

function float32(prng: Prng): string {
  if (prng.chance(0.3))
    return prng.pick(['0', '-1.5', '3.4028234e38', '-3.4028234e38', '1.17549435e-38', '1.2345678']);
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, prng.int(0, 0xffffffff));
  const value = view.getFloat32(0);
  return Number.isFinite(value) ? String(value) : '1';
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function date(prng: Prng): string {
  const pick = prng.int(0, 19);
  if (pick === 0) return '0000-00-00';
  if (pick === 1) return `${pad(prng.int(1000, 9999), 4)}-00-${pad(prng.int(1, 28), 2)}`;
  if (pick === 2) return `${pad(prng.int(1000, 9999), 4)}-${pad(prng.int(1, 12), 2)}-00`;
  if (pick === 3) return prng.pick(['1000-01-01', '9999-12-31', '1970-01-01', '2000-02-29']);
  return `${pad(prng.int(1000, 9999), 4)}-${pad(prng.int(1, 12), 2)}-${pad(prng.int(1, 28), 2)}`;
}

function clock(prng: Prng): string {
  return `${pad(prng.int(0, 23), 2)}:${pad(prng.int(0, 59), 2)}:${pad(prng.int(0, 59), 2)}`;
}

function fraction(prng: Prng): string {
  return prng.pick(['', '.000000', '.999999', `.${pad(prng.int(0, 999_999), 6)}`]);
}

function datetime(prng: Prng, micro: boolean): string {
  if (prng.chance(0.05))
    return prng.pick(['0000-00-00 00:00:00', '9999-12-31 23:59:59', '1000-01-01 00:00:00']);
  return `${date(prng)} ${clock(prng)}${micro ? fraction(prng) : ''}`;
}

function timestamp(prng: Prng): string {
  if (prng.chance(0.1))
    return prng.pick(['0000-00-00 00:00:00', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999']);
  const seconds = prng.int(1, 2_147_483_647);
  return `${new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')}${fraction(prng)}`;
}

function time(prng: Prng): string {
  if (prng.chance(0.1)) return prng.pick(['-838:59:59', '838:59:59', '00:00:00', '-00:00:01.000001']);
  const sign = prng.chance(0.3) ? '-' : '';
  return `${sign}${prng.int(0, 837)}:${pad(prng.int(0, 59), 2)}:${pad(prng.int(0, 59), 2)}${fraction(prng)}`;
}

function json(prng: Prng, depth: number): unknown {
  const kind = prng.int(0, depth > 2 ? 3 : 5);
  if (kind === 0) return randomText(prng, 20);
  if (kind === 1) return prng.pick([0, -0.5, 1e308, 123456789012, 2 ** 53 + 2, true, false, null]);
  if (kind === 2) return prng.int(-1000, 1000);
  if (kind === 3) return null;
  if (kind === 4) return Array.from({ length: prng.int(0, 4) }, () => json(prng, depth + 1));
  return Object.fromEntries(
    Array.from({ length: prng.int(0, 4) }, () => [randomText(prng, 8), json(prng, depth + 1)]),
  );
}

function hex(prng: Prng, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += prng.int(0, 15).toString(16);
  return out;
}

function quoted(text: string): string {
  return `'${text}'`;
}

/** One row's SQL literals, in the column order of RANDOM_TABLE_DDL. */
export function randomRow(prng: Prng, id: number): string {
  const nullable = (make: () => string): string => (prng.chance(0.12) ? 'NULL' : make());
  const values = [
    String(id),
    nullable(() => prng.pick(['0', '1'])),
    nullable(() => integer(prng, -128n, 127n)),
    nullable(() => integer(prng, 0n, 255n)),
    nullable(() => integer(prng, -32768n, 32767n)),
    nullable(() => integer(prng, 0n, 65535n)),
    nullable(() => integer(prng, -8388608n, 8388607n)),
    nullable(() => integer(prng, 0n, 16777215n)),
    nullable(() => integer(prng, -2147483648n, 2147483647n)),
    nullable(() => integer(prng, 0n, 4294967295n)),
    nullable(() => integer(prng, -9223372036854775808n, 9223372036854775807n)),
    nullable(() => integer(prng, 0n, 18446744073709551615n)),
    nullable(
      () => `${prng.chance(0.5) ? '-' : ''}${digits(prng, prng.int(1, 28))}.${digits(prng, prng.int(0, 10))}`,
    ),
    nullable(() => digits(prng, prng.int(1, 10))),
    nullable(() => float32(prng)),
    nullable(() => float64(prng)),
    nullable(() => String(prng.int(0, 1023))),
    nullable(() => `b'${Array.from({ length: 64 }, () => String(prng.int(0, 1))).join('')}'`),
    nullable(() => String(prng.pick([0, 1901, 2155, prng.int(1901, 2155)]))),
    nullable(() => textLiteral(randomText(prng, 200))),
    nullable(() => textLiteral(randomText(prng, 300))),
    nullable(() => textLiteral(randomText(prng, 10))),
    nullable(() => textLiteral(randomText(prng, prng.chance(0.05) ? 70_000 : 400))),
    nullable(() => textLiteral(randomText(prng, 100, LATIN1_PIECES))),
    nullable(() => textLiteral(prng.pick(['a', 'b,c', 'q"uote', 'é', '😀']))),
    nullable(() => textLiteral(prng.shuffle(['a', 'b c', 'ß', '"']).slice(0, prng.int(0, 4)).join(','))),
    nullable(() => bytesLiteral(prng, 300)),
    nullable(() => bytesLiteral(prng, 2000)),
    nullable(() => bytesLiteral(prng, prng.chance(0.05) ? 70_000 : 300)),
    nullable(() => textLiteral(JSON.stringify(json(prng, 0)))),
    nullable(() => quoted(date(prng))),
    nullable(() => quoted(datetime(prng, true))),
    nullable(() => quoted(datetime(prng, false))),
    nullable(() => quoted(timestamp(prng))),
    nullable(() => quoted(time(prng))),
    nullable(() =>
      quoted(`${hex(prng, 8)}-${hex(prng, 4)}-${hex(prng, 4)}-${hex(prng, 4)}-${hex(prng, 12)}`),
    ),
    nullable(() => quoted(Array.from({ length: 4 }, () => prng.int(0, 255)).join('.'))),
    nullable(() => quoted(Array.from({ length: 8 }, () => prng.int(0, 0xffff).toString(16)).join(':'))),
  ];
  return `(${values.join(', ')})`;
}
