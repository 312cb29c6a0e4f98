/**
 * Human words for data quality check results, shared by etlctl, etl-console and alert mails so all read a
 * check the same way. Each passes its own number and duration formatters.
 */
import type { CheckType, QualityCheck } from './config/checks-schema.js';
import type { CheckResult } from './protocol.js';

type CheckStatus = CheckResult['status'];

/** Worst first: what stopped or changed the load comes before what only warned or passed. */
const SEVERITY: readonly CheckStatus[] = ['fail', 'quarantine', 'warn', 'pass'];

/**
 * What `observed` counts, by check type. The wire carries a bare number; without its unit `7200`
 * next to `age ≤ 2h` means nothing. Keyed by the file's type names and the normalised ones (`sql`
 * becomes `sql_expression` or `sql_query`), so a new type fails to compile until it is given one.
 */
const OBSERVED_UNIT: Readonly<Record<CheckType | QualityCheck['type'], 'rows' | 'percent' | 'seconds'>> = {
  min_rows: 'rows',
  max_rows: 'rows',
  row_count_change: 'percent',
  not_null: 'rows',
  max_null_pct: 'percent',
  unique: 'rows',
  accepted_values: 'rows',
  range: 'rows',
  freshness_column: 'seconds',
  sql: 'rows',
  sql_expression: 'rows',
  sql_query: 'rows',
};

export interface ObservedWords {
  count(n: number): string;
  seconds(s: number): string;
  /** Shown when nothing could be measured (an empty batch's newest value). */
  readonly none: string;
}

/** `3 rows`, `7.5 %`, `2h 1m`; a bare number for a check type this build does not know. */
export function observedText(check: CheckResult, words: ObservedWords): string {
  const value = check.observed;
  if (value === null) return words.none;
  const unit = Object.hasOwn(OBSERVED_UNIT, check.type)
    ? OBSERVED_UNIT[check.type as keyof typeof OBSERVED_UNIT]
    : null;
  switch (unit) {
    case 'rows':
      return `${words.count(value)} ${value === 1 ? 'row' : 'rows'}`;
    // Two decimals at most: rounding 5.4 % to `5 %` would look like a pass against `≤ 5 %`.
    case 'percent':
      return `${Number(value.toFixed(2))} %`;
    case 'seconds':
      return words.seconds(value);
    case null:
      return words.count(value);
  }
}

/** The checks worst first; checks of equal status keep the pipeline file's order. */
export function worstFirst(checks: readonly CheckResult[]): CheckResult[] {
  return [...checks].sort((a, b) => SEVERITY.indexOf(a.status) - SEVERITY.indexOf(b.status));
}

/** `1 fail, 2 warn`: how many checks ended in each status, worst first, zero counts left out. */
export function checkTally(checks: readonly CheckResult[]): string {
  return SEVERITY.map((status) => [status, checks.filter((c) => c.status === status).length] as const)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
}
