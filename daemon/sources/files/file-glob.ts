/**
 * Which keys of a file source belong to it: the `source.pattern` glob, compiled once into an
 * anchored RegExp, plus the literal directory prefix that narrows the listing.
 *
 * Keys are `/`-separated and relative to the source root. Syntax: `*` (any run of characters
 * but `/`), `**` as a whole segment (zero or more directories; at the end, any file at any depth),
 * `?` (one character but `/`), `[abc]`, `[a-z]`, `[!a]`/`[^a]`, `{a,b}` (alternatives, which may
 * hold wildcards and nest) and `\` (the next character as it is).
 *
 * Decisions:
 * - `**` inside a name (`logs**.csv`) is refused rather than read as `*` (git's rule): the writer
 *   most likely wanted the recursive form, and matching one directory only would silently miss files.
 * - No dot-file rule: `*` matches `.hidden`, since object stores have no hidden files and a pattern
 *   that skipped them would leave files unloaded without a word.
 * - Directory names may be empty (`a//b.csv` is a legal S3 key) and `**` crosses them, so no key
 *   the pattern plainly covers is skipped.
 * - A pattern ending in `/` is refused: it could only match directory placeholders, never a file.
 * - The RegExp has the `u` flag, so `?` and classes take whole characters (emoji, CJK) and not halves
 *   of surrogate pairs.
 */
import { EtlError } from '../../../shared/errors.js';
import { GlobSyntaxError, parseGlob, type GlobToken } from './file-glob-syntax.js';

export interface FileGlob {
  readonly pattern: string;
  /** The literal directory every match lies under (`2026/12/` for `2026/12/*.csv`), `` when none. */
  readonly listPrefix: string;
  matches(key: string): boolean;
}

const SLASH = 0x2f;

/** Characters with a meaning in a RegExp (`u` mode allows escaping exactly these and `/`). */
const REGEX_SYNTAX = /[\\^$.*+?()[\]{}|/]/u;

function codePointEscape(codePoint: number): string {
  return `\\u{${codePoint.toString(16)}}`;
}

function classSource(token: Extract<GlobToken, { kind: 'class' }>): string {
  const members = token.ranges
    .map(([low, high]) =>
      low === high ? codePointEscape(low) : `${codePointEscape(low)}-${codePointEscape(high)}`,
    )
    .join('');
  if (token.negated) return `[^/${members}]`;
  const spansSlash = token.ranges.some(([low, high]) => low <= SLASH && SLASH <= high);
  return spansSlash ? `(?!/)[${members}]` : `[${members}]`;
}

function regexSource(tokens: readonly GlobToken[]): string {
  let source = '';
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    switch (token?.kind) {
      case 'literal':
        source += REGEX_SYNTAX.test(token.char) ? `\\${token.char}` : token.char;
        break;
      case 'separator':
        source += '/';
        break;
      case 'star':
        source += '[^/]*';
        break;
      case 'one':
        source += '[^/]';
        break;
      case 'class':
        source += classSource(token);
        break;
      case 'globstar':
        // checkAlternative made sure `**` is followed by `/` or ends the pattern.
        if (tokens[index + 1]?.kind === 'separator') {
          source += '(?:[^/]*/)*';
          index++;
        } else {
          source += '[\\s\\S]+';
        }
        break;
      case undefined:
        break;
    }
  }
  return source;
}

/** Rules that need the expanded sequence: `**` placement, leading and trailing `/`, `..`. */
function checkAlternative(tokens: readonly GlobToken[], invalid: (what: string) => EtlError): void {
  if (tokens[0]?.kind === 'separator') {
    throw invalid(`an alternative starts with '/': keys are relative to the source root`);
  }
  if (tokens.length > 0 && tokens[tokens.length - 1]?.kind === 'separator') {
    throw invalid(
      `ends with '/', so it names directories, not files (write 'dir/**' for every file under dir)`,
    );
  }
  tokens.forEach((token, index) => {
    if (token.kind !== 'globstar') return;
    const before = tokens[index - 1];
    const after = tokens[index + 1];
    if (
      (before !== undefined && before.kind !== 'separator') ||
      (after !== undefined && after.kind !== 'separator')
    ) {
      throw invalid(
        `'**' at character ${token.position} must be a whole path segment, as in 'logs/**/*.csv' (use '*' within a name)`,
      );
    }
  });
  let segment = '';
  for (const token of [...tokens, { kind: 'separator' } as const]) {
    if (token.kind === 'separator') {
      if (segment === '..')
        throw invalid(`'..' segments are not allowed: keys are relative to the source root`);
      segment = '';
    } else {
      // Only an all-literal segment can spell `..`; a wildcard makes it something else.
      segment += token.kind === 'literal' ? token.char : '\u0000';
    }
  }
}

/** The literal directories at the start of one alternative (`a/b/` for `a/b/c*.csv`). */
function literalDirectory(tokens: readonly GlobToken[]): string {
  let text = '';
  let directory = '';
  for (const token of tokens) {
    if (token.kind === 'literal') text += token.char;
    else if (token.kind === 'separator') directory = text += '/';
    else break;
  }
  return directory;
}

/** The longest common prefix of the alternatives' directories, cut back to a whole directory. */
function commonDirectory(directories: readonly string[]): string {
  let common = directories[0] ?? '';
  for (const directory of directories) {
    let length = 0;
    while (length < common.length && common[length] === directory[length]) length++;
    common = common.slice(0, length);
  }
  return common.slice(0, common.lastIndexOf('/') + 1);
}

export function compileGlob(pattern: string): FileGlob {
  const invalid = (what: string): EtlError =>
    new EtlError('CONFIG_INVALID', `file pattern "${pattern}": ${what}`);
  if (pattern === '') throw invalid(`is empty (write '**/*' for every file)`);
  if (pattern.startsWith('/')) {
    throw invalid(
      `starts with '/': keys are relative to the source root (write 'orders/*.csv', not '/orders/*.csv')`,
    );
  }
  let alternatives: GlobToken[][];
  try {
    alternatives = parseGlob(pattern);
  } catch (cause) {
    if (cause instanceof GlobSyntaxError) throw invalid(cause.message);
    throw cause;
  }
  for (const tokens of alternatives) checkAlternative(tokens, invalid);
  const sources = [...new Set(alternatives.map(regexSource))];
  const regex = new RegExp(`^(?:${sources.join('|')})$`, 'u');
  return {
    pattern,
    listPrefix: commonDirectory(alternatives.map(literalDirectory)),
    matches: (key) => regex.test(key),
  };
}
