import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../../daemon/sources/files/file-glob.js';
import { EtlError } from '../../../shared/errors.js';

/** [pattern, key, matches] */
const MATCHES: readonly (readonly [string, string, boolean])[] = [
  // `*` stays within one segment
  ['*.csv', 'a.csv', true],
  ['*.csv', '.csv', true],
  ['*.csv', 'a.csv.gz', false],
  ['*.csv', 'x/a.csv', false],
  ['*', 'anything.at.all', true],
  ['*', 'dir/file', false],
  ['orders/*', 'orders/a.csv', true],
  ['orders/*', 'orders/2026/a.csv', false],
  ['a*b*c', 'abc', true],
  ['a*b*c', 'a-x-b-y-c', true],
  ['a*b*c', 'a/b/c', false],
  ['*.hidden', '.dot.hidden', true],
  // `**` as a whole segment
  ['**/*.csv', 'a.csv', true],
  ['**/*.csv', 'x/y/a.csv', true],
  ['**/*.csv', 'x/y/a.json', false],
  ['**', 'a', true],
  ['**', 'a/b/c.parquet', true],
  ['**/*', 'deep/er/still/file', true],
  ['a/**/b.csv', 'a/b.csv', true],
  ['a/**/b.csv', 'a/x/y/z/b.csv', true],
  ['a/**/b.csv', 'ab.csv', false],
  ['a/**/b.csv', 'xa/b.csv', false],
  ['a/**', 'a/x', true],
  ['a/**', 'a/x/y.csv', true],
  ['a/**', 'a', false],
  ['a/**', 'ab/x', false],
  ['**/2026/**/*.csv', 'eu/2026/12/01/a.csv', true],
  ['**/2026/**/*.csv', '2026/a.csv', true],
  ['**/2026/**/*.csv', 'eu/2025/a.csv', false],
  ['**/*.csv', 'a//b.csv', true],
  // `?`
  ['part-?.csv', 'part-1.csv', true],
  ['part-?.csv', 'part-12.csv', false],
  ['part-?.csv', 'part-.csv', false],
  ['a?b', 'a/b', false],
  // classes
  ['part-[0-9].csv', 'part-7.csv', true],
  ['part-[0-9].csv', 'part-x.csv', false],
  ['[abc].csv', 'b.csv', true],
  ['[abc].csv', 'd.csv', false],
  ['[!a].csv', 'a.csv', false],
  ['[!a].csv', 'b.csv', true],
  ['[^a].csv', 'b.csv', true],
  ['[^a].csv', 'a.csv', false],
  ['x[!a]y', 'x/y', false],
  ['x[!-0]y', 'x-y', false],
  ['x[!-0]y', 'x/y', false],
  ['x[!-0]y', 'x.y', true],
  // a range that spans '/' (+ to 0) still never matches it
  ['x[+-0]y', 'x/y', false],
  ['x[+-0]y', 'x.y', true],
  ['[]a].csv', '].csv', true],
  ['[!]].csv', '].csv', false],
  ['[!]].csv', 'x.csv', true],
  ['[a-]x', '-x', true],
  ['[\\]]x', ']x', true],
  ['[a\\-z]x', '-x', true],
  ['[a\\-z]x', 'm-x', false],
  ['[A-Za-z_]*.csv', '_orders.csv', true],
  ['[A-Za-z_]*.csv', '1orders.csv', false],
  // braces: alternatives, wildcards inside, nesting, empty alternatives
  ['*.{csv,tsv}', 'a.tsv', true],
  ['*.{csv,tsv}', 'a.json', false],
  ['{orders,refunds}/*.csv', 'refunds/x.csv', true],
  ['{orders,refunds}/*.csv', 'other/x.csv', false],
  ['data.{csv,json{,l}}', 'data.jsonl', true],
  ['data.{csv,json{,l}}', 'data.json', true],
  ['data.{csv,json{,l}}', 'data.jsonx', false],
  ['{a/**,b}/x.csv', 'a/1/2/x.csv', true],
  ['{a/**,b}/x.csv', 'b/x.csv', true],
  ['{a/**,b}/x.csv', 'b/1/x.csv', false],
  ['{**/*.csv,raw/*}', 'raw/anything', true],
  ['day={0[1-9],1[0-9]}/*', 'day=07/f', true],
  ['day={0[1-9],1[0-9]}/*', 'day=20/f', false],
  ['a{,.bak}', 'a.bak', true],
  ['a{b}c', 'abc', true],
  ['{x,y}{1,2}', 'y2', true],
  ['{x,y}{1,2}', 'xy', false],
  // `,` and `}` outside braces are plain characters
  ['a,b}.csv', 'a,b}.csv', true],
  // escapes
  ['\\*.csv', '*.csv', true],
  ['\\*.csv', 'a.csv', false],
  ['what\\?.csv', 'what?.csv', true],
  ['what\\?.csv', 'whatx.csv', false],
  ['\\[draft\\].csv', '[draft].csv', true],
  ['\\{a,b\\}', '{a,b}', true],
  ['\\{a,b\\}', 'a', false],
  ['back\\\\slash', 'back\\slash', true],
  ['\\**', '*anything', true],
  ['\\**', 'anything', false],
  // everything else is literal, including RegExp syntax
  ['a.csv', 'abcsv', false],
  ['(x)+|y$.csv', '(x)+|y$.csv', true],
  ['price^2.csv', 'price^2.csv', true],
  ['a-b/c=d.csv', 'a-b/c=d.csv', true],
  // spaces and unicode
  ['my files/*.csv', 'my files/q1 report.csv', true],
  ['my files/*.csv', 'myfiles/q1.csv', false],
  ['données/*.csv', 'données/été.csv', true],
  ['données/*.csv', 'donnees/ete.csv', false],
  ['?.csv', '😀.csv', true],
  ['??.csv', '😀.csv', false],
  ['[😀😎].csv', '😎.csv', true],
  ['[😀😎].csv', '😐.csv', false],
  ['[!😀].csv', '😐.csv', true],
  ['日本/*.json', '日本/東京.json', true],
  ['{東京,大阪}/*', '大阪/x', true],
  // a key with a newline in it (legal in S3) is still one name
  ['**/*.csv', 'a/b\nc.csv', true],
  ['*', 'line\nbreak', true],
];

/** [pattern, listPrefix] */
const PREFIXES: readonly (readonly [string, string])[] = [
  ['2026/12/*.csv', '2026/12/'],
  ['**/*.csv', ''],
  ['*.csv', ''],
  ['orders.csv', ''],
  ['data/orders.csv', 'data/'],
  ['data/logs/app-*.log', 'data/logs/'],
  ['data/**/x.csv', 'data/'],
  ['data/2026-1?/x.csv', 'data/'],
  ['data/[ab]/x.csv', 'data/'],
  ['{2025,2026}/12/*.csv', ''],
  ['land/{2025,2026}/*.csv', 'land/'],
  ['land/{eu/a,eu/b}/*.csv', 'land/eu/'],
  ['land/{eu,eu}/*.csv', 'land/eu/'],
  ['land/eu{,rope}/*.csv', 'land/'],
  ['a\\*b/c/*.csv', 'a*b/c/'],
  ['a\\/b/*.csv', 'a/b/'],
  ['my files/été/*.csv', 'my files/été/'],
];

/** [pattern, what the message must say] */
const INVALID: readonly (readonly [string, string])[] = [
  ['', 'is empty'],
  ['/orders/*.csv', "starts with '/'"],
  ['{/a,b}/*.csv', "starts with '/'"],
  ['orders/', "ends with '/'"],
  ['orders/{a,b/}', "ends with '/'"],
  ['../secrets/*.csv', "'..' segments"],
  ['a/../b.csv', "'..' segments"],
  ['a/\\.\\./b.csv', "'..' segments"],
  ['a/{..,b}/c.csv', "'..' segments"],
  ['[abc.csv', "unclosed '[' at character 1"],
  ['data/[!', "unclosed '[' at character 6"],
  ['[]', "unclosed '['"],
  ['x[a-\\', "unclosed '['"],
  ['{a,b.csv', "unclosed '{' at character 1"],
  ['a{b,{c,d}.csv', "unclosed '{' at character 2"],
  ['{}', "empty '{}'"],
  ['logs**.csv', "'**' at character 5 must be a whole path segment"],
  ['**.csv', "'**' at character 1 must be a whole path segment"],
  ['a/**b/c', 'must be a whole path segment'],
  ['{a,b}**/c', 'must be a whole path segment'],
  ['a/***/b', "'***' at character 3 is not a wildcard"],
  ['file\\', "lone '\\'"],
  ['[z-a].csv', "the range 'z-a' at character 1 is reversed"],
  ['a[/]b', "cannot match '/'"],
  ['[[:alpha:]].csv', 'POSIX character classes'],
  ['{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}{s,t}', 'more than 1000 alternatives'],
];

describe('compileGlob', () => {
  it.each(MATCHES)('%j against %j is %s', (pattern, key, expected) => {
    expect(compileGlob(pattern).matches(key)).toBe(expected);
  });

  it.each(PREFIXES)('%j lists under %j', (pattern, prefix) => {
    const glob = compileGlob(pattern);
    expect(glob.listPrefix).toBe(prefix);
    expect(glob.pattern).toBe(pattern);
  });

  it('only ever matches keys under its listPrefix', () => {
    for (const [pattern, key, expected] of MATCHES) {
      const glob = compileGlob(pattern);
      if (expected) expect(key.startsWith(glob.listPrefix), `${pattern} / ${key}`).toBe(true);
    }
  });

  it.each(INVALID)('%j is refused: %s', (pattern, what) => {
    let caught: unknown;
    try {
      compileGlob(pattern);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EtlError);
    const error = caught as EtlError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`file pattern "${pattern}"`);
    expect(error.message).toContain(what);
  });

  it('accepts the widest expansion the cap allows', () => {
    // 2^9 = 512 alternatives, under the cap of 1000.
    const glob = compileGlob('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}/*.csv');
    expect(glob.matches('bdfhjlnpr/x.csv')).toBe(true);
    expect(glob.matches('bdfhjlnpz/x.csv')).toBe(false);
  });

  it('matches long keys with several ** quickly (no catastrophic backtracking)', () => {
    const glob = compileGlob('**/a/**/b/**/c/**/*.csv');
    const key = `${'x/'.repeat(200)}a/${'y/'.repeat(200)}b/${'z/'.repeat(200)}.json`;
    const started = performance.now();
    expect(glob.matches(key)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
