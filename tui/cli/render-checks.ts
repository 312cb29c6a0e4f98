import type { CheckResult, RunRecord } from '../../shared/protocol.js';
import { checkTally, observedText, worstFirst, type ObservedWords } from '../../shared/check-words.js';
import { formatCount, formatSpan, renderTable, type Style } from './format.js';

/** Human renderings of a run's data quality checks, for `etlctl run` and `etlctl history`. */

const OBSERVED_WORDS: ObservedWords = {
  count: formatCount,
  seconds: (s) => formatSpan(s * 1000),
  none: '-',
};

function colorCheck(status: CheckResult['status'], text: string, style: Style): string {
  switch (status) {
    case 'pass':
      return style.green(text);
    // Both committed the run: the operator has something to look at, but nothing was lost.
    case 'warn':
    case 'quarantine':
      return style.yellow(text);
    case 'fail':
      return style.red(text);
  }
}

/** One line per check in the pipeline file's order; the detail only where a check did not pass. */
export function renderChecks(checks: readonly CheckResult[], style: Style): string {
  const rows = checks.map((c) => [
    c.name,
    // Capitals so a failing check stands out under NO_COLOR too.
    colorCheck(c.status, c.status.toUpperCase(), style),
    observedText(c, OBSERVED_WORDS),
    c.threshold,
    c.status === 'pass' ? '' : c.detail,
  ]);
  return renderTable(['CHECK', 'STATUS', 'OBSERVED', 'THRESHOLD', 'DETAIL'], rows, style);
}

/** Whether a history table needs its CHECKS column: only when some run has a check that did not pass. */
export function anyCheckNotPassed(runs: readonly RunRecord[]): boolean {
  return runs.some((r) => r.checks.some((c) => c.status !== 'pass'));
}

/** `1 fail, 2 warn` coloured by the worst, `ok` when every check passed, `-` for a run without checks. */
export function checksCell(run: RunRecord, style: Style): string {
  const worst = worstFirst(run.checks)[0];
  if (worst === undefined) return '-';
  if (worst.status === 'pass') return style.green('ok');
  return colorCheck(worst.status, checkTally(run.checks.filter((c) => c.status !== 'pass')), style);
}
