/**
 * `source.table` as the database itself would read it: a dot-separated name whose parts may be
 * quoted in the dialect's own way, so a quoted part can hold dots, spaces and (doubled) quote
 * characters. Unquoted parts follow the database's folding: PostgreSQL folds them to lower case,
 * MySQL/MariaDB and SQL Server keep them as written. One parser for config validation and for
 * every source connector's introspection and extraction SQL.
 *
 * | dialect   | quotes                               | unquoted parts | parts |
 * | --------- | ------------------------------------ | -------------- | ----- |
 * | postgres  | `"a ""b"""`                          | lower case     | 1–3   |
 * | mysql     | `` `a ``b` `` ``                     | as written     | 1–2   |
 * | sqlserver | `[a ]]b]`, `"a ""b"""`               | as written     | 1–3   |
 *
 * An unquoted part is the text between dots with surrounding spaces trimmed; names written before
 * quoting was understood (`public.My Table`) keep working, folded as the database would.
 */

export type IdentifierDialect = 'postgres' | 'mysql' | 'sqlserver';

/** The parts, outermost first (`[schema, table]`), as the catalog spells them. */
export type QualifiedName = readonly string[];

const MAX_PARTS: Readonly<Record<IdentifierDialect, number>> = { postgres: 3, mysql: 2, sqlserver: 3 };

/** Opening quote → closing quote of each dialect (the closing one is doubled inside a name). */
const QUOTES: Readonly<Record<IdentifierDialect, Readonly<Record<string, string>>>> = {
  postgres: { '"': '"' },
  mysql: { '`': '`' },
  sqlserver: { '[': ']', '"': '"' },
};

/** Quote characters of any dialect: inside an unquoted part they are a quoting mistake. */
const STRAY = ['"', '`'];

export type ParsedName =
  { readonly ok: true; readonly parts: QualifiedName } | { readonly ok: false; readonly reason: string };

function fold(part: string, dialect: IdentifierDialect): string {
  return dialect === 'postgres' ? part.toLowerCase() : part;
}

/** Parses `text` as a (schema-)qualified name of `dialect`; never throws. */
export function parseQualifiedName(text: string, dialect: IdentifierDialect): ParsedName {
  const quotes = QUOTES[dialect];
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    while (text[i] === ' ') i++;
    const open = text[i];
    const close = open === undefined ? undefined : quotes[open];
    let part: string;
    if (close !== undefined) {
      part = '';
      let closed = false;
      for (i++; i < text.length; i++) {
        if (text[i] === close) {
          if (text[i + 1] === close) {
            part += close;
            i++;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        part += text[i];
      }
      if (!closed) return { ok: false, reason: `unterminated quoted name starting at ${open}${part}` };
      if (part.length === 0) return { ok: false, reason: 'a quoted name must not be empty' };
      while (text[i] === ' ') i++;
      if (i < text.length && text[i] !== '.')
        return { ok: false, reason: `unexpected ${JSON.stringify(text.slice(i))} after a quoted name` };
    } else {
      const end = text.indexOf('.', i);
      const raw = text.slice(i, end === -1 ? text.length : end);
      const stray = [...STRAY, ...Object.keys(quotes), ...Object.values(quotes)].find((q) => raw.includes(q));
      if (stray !== undefined)
        return {
          ok: false,
          reason: `${JSON.stringify(raw.trim())} has a stray ${stray}: quote the whole part (${Object.entries(
            quotes,
          )
            .map(([o, c]) => `${o}name${c}`)
            .join(' or ')})`,
        };
      part = raw.trim();
      if (part.length === 0) return { ok: false, reason: 'empty name part (two dots, or a dot at an end)' };
      part = fold(part, dialect);
      i = end === -1 ? text.length : end;
    }
    parts.push(part);
    if (i >= text.length) break;
    i++; // the dot
  }
  if (parts.length > MAX_PARTS[dialect]) {
    return {
      ok: false,
      reason: `${parts.length} name parts; at most ${MAX_PARTS[dialect]} (${dialect === 'mysql' ? 'database.table' : 'database.schema.table'})`,
    };
  }
  return { ok: true, parts };
}
