import { readFileSync } from 'node:fs';

/** The package version, read once from package.json (two levels up from dist/shared or shared/). */
function readVersion(): string {
  for (const relative of ['../../package.json', '../package.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (parsed.name === 'etld' && typeof parsed.version === 'string') return parsed.version;
    } catch {
      // try the next location: the layout differs between sources and dist/
    }
  }
  return '0.0.0';
}

export const ETLD_VERSION = readVersion();
