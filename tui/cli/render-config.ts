/** Human renderings of what the configuration's state is: reload results and `etlctl problems`. */
import type { MethodResult } from '../../shared/protocol.js';
import type { Style } from './format.js';

export function renderReload(r: MethodResult<'reload'>, style: Style): string {
  const line = (label: string, names: readonly string[]): string =>
    `${label}: ${names.length === 0 ? '-' : names.join(', ')}`;
  const out = [
    line('added', r.added),
    line('changed', r.changed),
    line('removed', r.removed),
    line('invalid', r.invalid),
  ];
  for (const problem of r.problems ?? []) out.push(`${style.red('invalid')}  ${problem}`);
  for (const warning of r.warnings ?? []) out.push(`${style.yellow('warning')}  ${warning}`);
  if (reloadFailed(r))
    out.push(
      'the valid files were applied; invalid ones are not loaded, or keep their last good version running (etlctl problems)',
    );
  return `${out.join('\n')}\n`;
}

/** A reload that met an invalid file: etlctl exits 1 (the valid files were still applied). */
export function reloadFailed(r: MethodResult<'reload'>): boolean {
  return r.invalid.length > 0 || (r.problems ?? []).length > 0;
}

function effectText(effect: MethodResult<'problems'>[number]['effect']): string {
  switch (effect) {
    case 'not_running':
      return 'not running';
    case 'last_good':
      return 'running the last good version; file invalid';
    case 'running':
      return 'running as written';
    case null:
      return 'its broken connections cannot be used';
  }
}

export function renderProblems(entries: MethodResult<'problems'>, style: Style): string {
  if (entries.length === 0) return 'no problems: every pipeline runs what its file says\n';
  const out: string[] = [];
  for (const entry of entries) {
    const label = entry.severity === 'error' ? style.red('ERROR  ') : style.yellow('WARNING');
    out.push(`${label}  ${style.bold(entry.pipeline ?? entry.file)}: ${effectText(entry.effect)}`);
    for (const problem of entry.problems) out.push(`         ${problem}`);
  }
  return `${out.join('\n')}\n`;
}
