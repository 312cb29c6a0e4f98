/**
 * Data quality check results as alert text lines: the `checks` alert of a committed run that
 * warned or quarantined rows, and the failure alert of a run a check stopped. Each check gets its
 * name, status, what was observed against its threshold, and the engine's one-sentence detail
 * (counts and column names, never row values).
 */
import { observedText, type ObservedWords } from '../../shared/check-words.js';
import { formatDuration } from '../../shared/config/duration.js';
import type { CheckResult } from '../../shared/protocol.js';

const MAIL_WORDS: ObservedWords = {
  count: (n) => String(n),
  seconds: (s) => formatDuration(s * 1000),
  none: 'nothing measured',
};

/** Two lines per check, in the pipeline file's order: the measure, then the detail sentence. */
export function checkLines(checks: readonly CheckResult[]): string[] {
  return checks.flatMap((check) => [
    `  ${check.name}: ${check.status.toUpperCase()}, observed ${observedText(check, MAIL_WORDS)} against ${check.threshold}`,
    `    ${check.detail}`,
  ]);
}
