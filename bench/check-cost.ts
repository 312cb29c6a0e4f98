/**
 * What the data quality checks cost (`npm run bench -- --checks`): each checked case's wall time
 * against its unchecked twin's in the same bench run, as extra time in % of the unchecked run's.
 * The promise is under 10 % for a 1M-row batch; the bench reports whether a run met it, never
 * fails on it.
 */
import type { CaseResult } from './report.js';

const CHECK_COST_TARGET_PCT = 10;

export interface CheckCost {
  readonly checked: CaseResult;
  /** Undefined when the twin did not run. */
  readonly unchecked: CaseResult | undefined;
  /** Extra wall time with the checks, in % of the run without (medians); NaN: either failed or did not run. */
  readonly pct: number;
  /**
   * Between each case's fastest run: other load on a shared machine only ever adds time, so a
   * cost far from the median-based one says the medians are noise, not checks.
   */
  readonly fastestPct: number;
  /** Whether the median-based cost met the target; null when it could not be measured. */
  readonly ok: boolean | null;
}

function extraPct(checked: number, unchecked: number): number {
  return ((checked - unchecked) / unchecked) * 100;
}

function fastest(r: CaseResult): number {
  return r.error === null ? Math.min(...r.allSeconds) : Number.NaN;
}

/** One cost per checked case among `results`, in their order. */
function checkCosts(results: readonly CaseResult[]): CheckCost[] {
  return results
    .filter((r) => r.uncheckedCase !== null)
    .map((checked) => {
      const unchecked = results.find((r) => r.kind === 'etld' && r.case === checked.uncheckedCase);
      const measured = checked.error === null && unchecked !== undefined && unchecked.error === null;
      const pct = measured ? extraPct(checked.seconds, unchecked.seconds) : Number.NaN;
      return {
        checked,
        unchecked,
        pct,
        fastestPct: measured ? extraPct(fastest(checked), fastest(unchecked)) : Number.NaN,
        ok: measured ? pct < CHECK_COST_TARGET_PCT : null,
      };
    });
}

/** The report's section on the checks (null in a run without --checks). */
export interface ChecksReport {
  /** As etld names them, e.g. `unique(id)`. */
  readonly names: readonly string[];
  readonly targetPct: number;
  readonly costs: readonly CheckCost[];
}

export function checksReport(names: readonly string[], results: readonly CaseResult[]): ChecksReport {
  return { names, targetPct: CHECK_COST_TARGET_PCT, costs: checkCosts(results) };
}
