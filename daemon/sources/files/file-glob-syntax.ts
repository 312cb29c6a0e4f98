/**
 * The parser behind `compileGlob` (file-glob.ts): a pattern becomes a tree of tokens and brace
 * choices, then the choices are expanded into flat token sequences, one per alternative.
 *
 * Decisions:
 * - Braces are expanded rather than translated to a regex alternation in place, because whether
 *   `**` is a whole path segment depends on its neighbours after expansion (`{a/**,b}/x.csv`).
 *   Patterns are written by operators and short; the expansion is capped (MAX_ALTERNATIVES) so a
 *   pathological pattern is refused instead of compiled into a huge regex.
 * - Positions in messages count characters (code points), 1-based, as an editor shows them.
 * - A character class never matches `/`: naming `/` in one is refused, a range that spans it
 *   (`[!-0]`) simply does not match it.
 * - POSIX classes (`[[:alpha:]]`) are refused rather than read as a class of `[:alph` plus a `]`.
 */

export type GlobToken =
  /** One character (code point) matched as it is. */
  | { readonly kind: 'literal'; readonly char: string }
  | { readonly kind: 'separator' }
  /** `*`: any run of characters within one segment. */
  | { readonly kind: 'star' }
  /** `**`: checked to be a whole segment once braces are expanded. */
  | { readonly kind: 'globstar'; readonly position: number }
  /** `?`: one character within a segment. */
  | { readonly kind: 'one' }
  | {
      readonly kind: 'class';
      readonly negated: boolean;
      /** Inclusive code point ranges; a single character is a range of one. */
      readonly ranges: readonly (readonly [number, number])[];
    };

type GlobNode = GlobToken | { readonly kind: 'choice'; readonly options: readonly GlobNode[][] };

export const MAX_ALTERNATIVES = 1000;

/** Thrown by the parser; file-glob.ts turns it into a CONFIG_INVALID naming the pattern. */
export class GlobSyntaxError extends Error {}

class GlobParser {
  readonly #chars: readonly string[];
  #index = 0;

  constructor(pattern: string) {
    this.#chars = Array.from(pattern);
  }

  /** Outside braces `,` and `}` are plain characters, so the top-level sequence reads to the end. */
  parse(): GlobNode[] {
    return this.#sequence(false);
  }

  #sequence(inBraces: boolean): GlobNode[] {
    const nodes: GlobNode[] = [];
    while (this.#index < this.#chars.length) {
      const char = this.#chars[this.#index] ?? '';
      if (inBraces && (char === ',' || char === '}')) return nodes;
      switch (char) {
        case '\\':
          nodes.push(this.#escaped());
          break;
        case '*':
          nodes.push(this.#stars());
          break;
        case '?':
          this.#index++;
          nodes.push({ kind: 'one' });
          break;
        case '[':
          nodes.push(this.#characterClass());
          break;
        case '{':
          nodes.push(this.#choice());
          break;
        case '/':
          this.#index++;
          nodes.push({ kind: 'separator' });
          break;
        default:
          this.#index++;
          nodes.push({ kind: 'literal', char });
      }
    }
    return nodes;
  }

  #escaped(): GlobToken {
    const char = this.#chars[this.#index + 1];
    if (char === undefined) {
      throw new GlobSyntaxError(`ends with a lone '\\' (write '\\\\' for a backslash)`);
    }
    this.#index += 2;
    return char === '/' ? { kind: 'separator' } : { kind: 'literal', char };
  }

  #stars(): GlobToken {
    const start = this.#index;
    while (this.#chars[this.#index] === '*') this.#index++;
    const run = this.#index - start;
    if (run === 1) return { kind: 'star' };
    if (run === 2) return { kind: 'globstar', position: start + 1 };
    throw new GlobSyntaxError(
      `'${'*'.repeat(run)}' at character ${start + 1} is not a wildcard (use * or **)`,
    );
  }

  #characterClass(): GlobToken {
    const start = this.#index;
    const unclosed = (): GlobSyntaxError =>
      new GlobSyntaxError(`unclosed '[' at character ${start + 1} (write '\\[' for a literal '[')`);
    this.#index++;
    const negated = this.#chars[this.#index] === '!' || this.#chars[this.#index] === '^';
    if (negated) this.#index++;
    if (this.#chars[this.#index] === '[' && this.#chars[this.#index + 1] === ':') {
      throw new GlobSyntaxError(
        `POSIX character classes such as '[:alpha:]' (character ${start + 1}) are not supported: write ranges like [a-zA-Z]`,
      );
    }
    const ranges: (readonly [number, number])[] = [];
    for (let first = true; ; first = false) {
      const char = this.#chars[this.#index];
      if (char === undefined) throw unclosed();
      // A `]` right after `[` or `[!` is a member, as in POSIX shells (`[]a]`).
      if (char === ']' && !first) {
        this.#index++;
        break;
      }
      const low = this.#classMember(unclosed);
      if (this.#chars[this.#index] === '-' && ![undefined, ']'].includes(this.#chars[this.#index + 1])) {
        this.#index++;
        const high = this.#classMember(unclosed);
        if (high < low) {
          throw new GlobSyntaxError(
            `the range '${String.fromCodePoint(low)}-${String.fromCodePoint(high)}' at character ${start + 1} is reversed`,
          );
        }
        ranges.push([low, high]);
      } else {
        ranges.push([low, low]);
      }
    }
    return { kind: 'class', negated, ranges };
  }

  /** One member of a class, `\` escapes allowed; returns its code point. */
  #classMember(unclosed: () => GlobSyntaxError): number {
    let char = this.#chars[this.#index];
    if (char === '\\') {
      this.#index++;
      char = this.#chars[this.#index];
    }
    if (char === undefined) throw unclosed();
    if (char === '/') {
      throw new GlobSyntaxError(
        `a character class cannot match '/' (character ${this.#index + 1}): keys are matched segment by segment`,
      );
    }
    this.#index++;
    return char.codePointAt(0) ?? 0;
  }

  #choice(): GlobNode {
    const start = this.#index;
    this.#index++;
    const options: GlobNode[][] = [];
    while (true) {
      options.push(this.#sequence(true));
      const stop = this.#chars[this.#index];
      if (stop === undefined) {
        throw new GlobSyntaxError(`unclosed '{' at character ${start + 1} (write '\\{' for a literal '{')`);
      }
      this.#index++;
      if (stop === '}') break;
    }
    if (options.length === 1 && options[0]?.length === 0) {
      throw new GlobSyntaxError(`empty '{}' at character ${start + 1}`);
    }
    return { kind: 'choice', options };
  }
}

function expand(nodes: readonly GlobNode[]): GlobToken[][] {
  let results: GlobToken[][] = [[]];
  for (const node of nodes) {
    if (node.kind !== 'choice') {
      for (const result of results) result.push(node);
      continue;
    }
    const next: GlobToken[][] = [];
    for (const option of node.options) {
      const tails = expand(option);
      for (const head of results) {
        for (const tail of tails) {
          next.push([...head, ...tail]);
          if (next.length > MAX_ALTERNATIVES) {
            throw new GlobSyntaxError(`its braces expand to more than ${MAX_ALTERNATIVES} alternatives`);
          }
        }
      }
    }
    results = next;
  }
  return results;
}

/** Every alternative of the pattern as a flat token sequence; throws GlobSyntaxError. */
export function parseGlob(pattern: string): GlobToken[][] {
  return expand(new GlobParser(pattern).parse());
}
