/**
 * The data quality check results /metrics shows for a pipeline, and how they read as numbers.
 *
 * Decisions:
 * - The results are those of the newest attempt that judged checks, not of the newest attempt: a
 *   run in progress, or one that failed before its checks (a refused connection), keeps the last
 *   judgement showing rather than dropping the series, which would resolve and re-fire every
 *   alert rule built on them around each run.
 * - The search stops at the newest successful attempt: a success without results means the
 *   pipeline has no checks any more, so checks removed from its file lose their series then.
 */
import type { QualityCheck } from '../../shared/config/checks-schema.js';
import type { CheckResult } from '../../shared/protocol.js';
import type { StateStore } from '../state/store.js';

/** How many attempts back the search goes: a run and all its retries fit several times over. */
const LOOKBACK_ATTEMPTS = 20;

export function latestChecks(store: Pick<StateStore, 'listRuns'>, pipeline: string): readonly CheckResult[] {
  for (const attempt of store.listRuns(pipeline, LOOKBACK_ATTEMPTS)) {
    if (attempt.checks.length > 0) return attempt.checks;
    if (attempt.status === 'succeeded') return [];
  }
  return [];
}

/** `etld_check_status`: higher is worse, so `max by (pipeline)` is a pipeline's worst check. */
export const CHECK_STATUS_VALUES: Readonly<Record<CheckResult['status'], number>> = {
  pass: 0,
  warn: 1,
  quarantine: 2,
  fail: 3,
};

/** The check types whose `observed` counts failing rows; the others measure rows, a share or an age. */
const FAILING_ROW_TYPES: ReadonlySet<string> = new Set<QualityCheck['type']>([
  'not_null',
  'unique',
  'accepted_values',
  'range',
  'sql_expression',
  'sql_query',
]);

/** The rows that failed the check, for a check that counts them; null for the others. */
export function failingRows(check: CheckResult): number | null {
  return FAILING_ROW_TYPES.has(check.type) ? check.observed : null;
}
