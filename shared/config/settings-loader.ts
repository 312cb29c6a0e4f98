import { readFile } from 'node:fs/promises';
import { daemonSettingsSchema, type DaemonSettings } from './daemon-schema.js';
import { formatProblem, parseYamlWithSchema } from './yaml-document.js';
import { EtlError } from '../errors.js';

export type SettingsRead =
  | { readonly ok: true; readonly settings: DaemonSettings; readonly found: boolean }
  | { readonly ok: false; readonly code: 'CONFIG_INVALID' | 'CONFIG_NOT_FOUND'; readonly problems: string[] };

/**
 * Reads the daemon settings. A missing default file means "all defaults"; a file named explicitly
 * (ETLD_CONFIG / --config) must exist. Every problem is reported, as `file:line:col path: message`.
 */
export async function readDaemonSettings(file: string, explicit: boolean): Promise<SettingsRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit)
      return { ok: true, settings: daemonSettingsSchema.parse({}), found: false };
    return {
      ok: false,
      code: 'CONFIG_NOT_FOUND',
      problems: [`cannot read daemon settings ${file} (${code ?? 'unreadable'})`],
    };
  }
  const parsed = parseYamlWithSchema(file, text, daemonSettingsSchema);
  if (!parsed.ok) return { ok: false, code: 'CONFIG_INVALID', problems: parsed.problems.map(formatProblem) };
  return { ok: true, settings: parsed.value, found: true };
}

/** `readDaemonSettings` for start-up: any problem is fatal, the daemon does not start half-configured. */
export async function loadDaemonSettings(file: string, explicit: boolean): Promise<DaemonSettings> {
  const read = await readDaemonSettings(file, explicit);
  if (read.ok) return read.settings;
  throw new EtlError(
    read.code,
    read.code === 'CONFIG_INVALID'
      ? `invalid daemon settings: ${read.problems.join('; ')}`
      : (read.problems[0] ?? ''),
  );
}
