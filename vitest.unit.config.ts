import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The unit tier (`npm run test:unit`): every test file that starts no process, no database
 * server, daemon, oracle or terminal, found by following its relative imports, so a new test
 * lands in the right tier by what it does, not by a list. What a developer runs on every save;
 * `npm test` runs both tiers.
 */
const STARTS_A_PROCESS = /from 'node:child_process'|from "node:child_process"/;

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return testFiles(path);
    return /\.test\.tsx?$/.test(entry) ? [path] : [];
  });
}

/** The module a relative import names (`./x.js` is `./x.ts` or `./x.tsx` in the sources). */
function resolveImport(from: string, specifier: string): string | null {
  const base = resolve(dirname(from), specifier).replace(/\.jsx?$/, '');
  for (const candidate of [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return null;
}

function startsAProcess(file: string, seen: Set<string>): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  if (STARTS_A_PROCESS.test(text)) return true;
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = resolveImport(file, match[1] ?? '');
    if (target !== null && startsAProcess(target, seen)) return true;
  }
  return false;
}

export const unitTestFiles = testFiles('test').filter((file) => !startsAProcess(resolve(file), new Set()));

export default defineConfig({
  test: {
    include: unitTestFiles,
    testTimeout: 20_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
