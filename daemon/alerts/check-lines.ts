/**
 * Data quality check results as alert text lines: the `checks` alert of a committed run that
 * warned or quarantined rows, and the failure alert of a run a check stopped. Each check gets its
 * name, status, what was observed against its threshold, and the engine's one-sentence detail
 * (counts and column names, never row values).
 */
import type { QualityCheck } from '../../shared/config/checks-schema.js';
import { formatDuration } from '../../shared/config/duration.js';
import type { CheckResult } from '../../shared/protocol.js';

type CheckStatus = CheckResult['status'];

/** Worst first, as the tally reads: what stopped or changed the load before what only warned. */
const TALLY_ORDER: readonly CheckStatus[] = ['fail', 'quarantine', 'warn', 'pass'];

/** A freshness check observes an age in seconds; its threshold reads `age ≤ 2h`. */
const AGE_CHECK: QualityCheck['type'] = 'freshness_column';

/**
 * The measure in the threshold's terms: an age as a duration, anything else (rows, a share in
 * percent) as a number cut to three decimals, never rounded so far that a share just over its
 * limit reads as the limit itself.
 */
function observedText(check: CheckResult): string {
  if (check.observed === null) return 'nothing measured';
  if (check.type === AGE_CHECK) return formatDuration(check.observed * 1000);
  return String(Number(check.observed.toFixed(3)));
}

/** `1 quarantine, 1 warn, 3 pass`: how many checks ended in each status, zero counts left out. */
export function checkTally(checks: readonly CheckResult[]): string {
  return TALLY_ORDER.map((status) => [status, checks.filter((c) => c.status === status).length] as const)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
}

/** Two lines per check, in the pipeline file's order: the measure, then the detail sentence. */
export function checkLines(checks: readonly CheckResult[]): string[] {
  return checks.flatMap((check) => [
    `  ${check.name}: ${check.status.toUpperCase()}, observed ${observedText(check)} against ${check.threshold}`,
    `    ${check.detail}`,
  ]);
}
