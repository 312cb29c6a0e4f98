/**
 * Human renderings of the configuration's state: reload results, `etlctl problems`, and the
 * lines `list` and `info` add for pipelines running their last good version and for warnings.
 */
import { LAST_GOOD_MARK, lastGoodNote, lastGoodText } from '../../shared/file-status-words.js';
import type { DaemonInfo, MethodResult, PipelineSummary } from '../../shared/protocol.js';
import type { Style } from './format.js';

/**
 * Under `list`'s table: each last good version with its file's first problem (the operator who
 * just deployed an edit must not believe it is live), and how many files have warnings.
 */
export function listNotes(pipelines: readonly PipelineSummary[], style: Style): string[] {
  const notes = pipelines.flatMap((p) => {
    const note = lastGoodNote(p);
    return note === null ? [] : [`${style.red(LAST_GOOD_MARK)} ${p.name}: ${note}`];
  });
  const warned = pipelines.filter((p) => (p.warnings ?? []).length > 0).length;
  if (warned > 0)
    notes.push(style.yellow(`${warned} pipeline file(s) with warnings: etlctl problems lists them`));
  return notes;
}

/** `info`'s config line, then one line per pipeline running its last good version. */
export function configFields(config: NonNullable<DaemonInfo['config']>, style: Style): [string, string][] {
  const counts = [
    config.last_good.length > 0 ? `${config.last_good.length} running the last good version` : null,
    config.invalid_files > 0 ? `${config.invalid_files} invalid file(s)` : null,
    config.warnings > 0 ? `${config.warnings} file(s) with warnings` : null,
  ].filter((c) => c !== null);
  return [
    [
      'config',
      counts.length === 0 ? 'every file valid' : style.red(`${counts.join(', ')} (etlctl problems)`),
    ],
    ...config.last_good.map(({ pipeline, problem }): [string, string] => [
      `  ${pipeline}`,
      style.red(lastGoodText(problem)),
    ]),
  ];
}

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
      return 'runs, with warnings';
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
