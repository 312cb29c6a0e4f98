/**
 * The repository stands on its own: nothing points users or contributors at the team's folder
 * beside it (its specification, notes and seeds), which they never get. References go to docs/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', '.git', 'coverage', 'results']);
const TEXT = /\.(ts|tsx|js|mjs|json|md|sh|yaml|yml|service|conf)$|^run$/;

/**
 * The Delta fixture tables (read-only Spark/delta-rs tables) sit beside the repository in CI and
 * are deliberately not copied into it; the test helper that locates them is the one exception.
 */
const ALLOWED = new Set(['test/delta/fixtures.ts']);

const FORBIDDEN: readonly [RegExp, string][] = [
  [/\bSPEC\b/, 'the team specification'],
  [/\.\.\/shared\/(notes|seeds|fixtures|SPEC)|\.\.\/shared(?![/\w])/, 'the team folder ../shared'],
  [/'\.\.',\s*'shared'/, 'the team folder ../shared'],
  [/\bshared\/notes\b|\bnotes\/[\w-]+\.md\b/, 'the team notes'],
  [/\bseeds?\/\d{3}|\bseed \d{3}\b/, 'the seed documents'],
  [/design card/i, 'the design card'],
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : files(join(dir, entry.name));
    return entry.isFile() && TEXT.test(entry.name) && entry.name !== 'package-lock.json'
      ? [join(dir, entry.name)]
      : [];
  });
}

it('no file refers to the specification, notes or seeds outside the repository', () => {
  const found: string[] = [];
  for (const file of files(ROOT)) {
    const name = relative(ROOT, file);
    if (ALLOWED.has(name) || name === 'test/docs/internal-references.test.ts') continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        for (const [pattern, what] of FORBIDDEN) {
          if (pattern.test(line)) found.push(`${name}:${index + 1}: ${what}: ${line.trim()}`);
        }
      });
  }
  expect(found).toEqual([]);
});
