import { readFile } from 'node:fs/promises';
import { daemonSettingsSchema, type DaemonSettings } from './daemon-schema.js';
import { formatProblem, parseYamlWithSchema } from './yaml-document.js';
import { EtlError } from '../errors.js';

/**
 * Reads the daemon settings. A missing default file means "all defaults"; a file named explicitly
 * (ETLD_CONFIG / --config) must exist. Any problem is fatal: the daemon does not start half-configured.
 */
export async function loadDaemonSettings(file: string, explicit: boolean): Promise<DaemonSettings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return daemonSettingsSchema.parse({});
    throw new EtlError('CONFIG_NOT_FOUND', `cannot read daemon settings ${file} (${code ?? 'unreadable'})`, {
      cause: error,
    });
  }
  const parsed = parseYamlWithSchema(file, text, daemonSettingsSchema);
  if (!parsed.ok) {
    throw new EtlError(
      'CONFIG_INVALID',
      `invalid daemon settings:\n${parsed.problems.map(formatProblem).join('\n')}`,
    );
  }
  return parsed.value;
}
