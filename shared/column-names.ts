/**
 * The `column_names` policy of a destination: `keep` loads every column under its source name;
 * `snake_case` loads it under a normalised one, the same for every destination:
 *
 * 1. letters with accents lose them (`größe` → `grosse`, `Ærø` → `aero`): Unicode NFKD plus a
 *    few letters that do not decompose (ß, æ, ø, œ, ł, đ, þ); other non-ASCII characters (CJK,
 *    emoji) are separators like punctuation;
 * 2. lower case;
 * 3. every run of characters other than a–z and 0–9 becomes one `_`, and trailing `_` go
 *    (`Customer Name` → `customer_name`, `(paren)` → `_paren`, `a,b` → `a_b`);
 * 4. a name starting with a digit gets a leading `_` (`2fa` → `_2fa`).
 *
 * camelCase is not split (`OrderID` → `orderid`). A name with nothing left (`%`) and two columns
 * that become one name are refused by name before anything is read.
 */

export type ColumnNamePolicy = 'keep' | 'snake_case';

/** Letters NFKD leaves alone, spelled in ASCII. */
const LETTERS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  Æ: 'ae',
  ø: 'o',
  Ø: 'o',
  œ: 'oe',
  Œ: 'oe',
  ł: 'l',
  Ł: 'l',
  đ: 'd',
  Đ: 'd',
  þ: 'th',
  Þ: 'th',
  ı: 'i',
};

/** `name` under `snake_case` (see the file comment); may be empty. */
export function snakeCaseName(name: string): string {
  const ascii = Array.from(name.normalize('NFKD'))
    .map((char) => LETTERS[char] ?? char)
    .join('')
    // Combining marks left by NFKD (the accents).
    .replace(/\p{M}/gu, '');
  const snake = ascii
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/_+$/, '');
  return /^[0-9]/.test(snake) ? `_${snake}` : snake;
}

/** Why `names` cannot be loaded under `policy`, or the loaded name of each (same order). */
export function loadedColumnNames(
  names: readonly string[],
  policy: ColumnNamePolicy,
  reserved: readonly string[] = [],
): { ok: true; names: string[] } | { ok: false; problem: string } {
  if (policy === 'keep') return { ok: true, names: [...names] };
  const taken = new Map<string, string>(reserved.map((r) => [r, `the metadata column ${r}`]));
  const loaded: string[] = [];
  for (const name of names) {
    const snake = snakeCaseName(name);
    if (snake.length === 0)
      return {
        ok: false,
        problem: `column ${JSON.stringify(name)} has no letter or digit to keep under column_names: snake_case`,
      };
    const other = taken.get(snake);
    if (other !== undefined)
      return {
        ok: false,
        problem: `column ${JSON.stringify(name)} and ${other.startsWith('the metadata') ? other : `column ${JSON.stringify(other)}`} both become ${snake} under column_names: snake_case`,
      };
    taken.set(snake, name);
    loaded.push(snake);
  }
  return { ok: true, names: loaded };
}

/** BigQuery's column names (without flexible column names): letters, digits, `_`, not a digit first. */
const BIGQUERY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;

/** Why BigQuery refuses column `name`, with the way out; undefined when it takes it. */
export function bigQueryNameProblem(name: string): string | undefined {
  if (BIGQUERY_NAME.test(name)) return undefined;
  return `column ${JSON.stringify(name)} is not a BigQuery column name (letters, digits and _, not starting with a digit, at most 300 characters): set destination.column_names: snake_case, or rename it with a transform`;
}
