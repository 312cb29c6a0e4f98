/** What the detail view says about each data quality check of the last run. */
import type { CheckResult } from '../../../shared/protocol.js';
import { observedText, type ObservedWords } from '../../../shared/check-words.js';
import { checkStatusColor, type ColorName } from './colors.js';
import { formatExact } from './numbers.js';
import { fit } from './text.js';
import { formatElapsed } from './time.js';

const OBSERVED_WORDS: ObservedWords = { count: formatExact, seconds: formatElapsed, none: '—' };

/** `QUARANTINE` is the longest status word; padding to it keeps the names in one column. */
const STATUS_WIDTH = 10;

export interface CheckLine {
  /** The status in capitals, padded, so it reads without colour too. */
  readonly status: string;
  readonly color: ColorName;
  /** Name, observed vs threshold and, for a check that did not pass, its detail. */
  readonly text: string;
}

export function checkLine(check: CheckResult, nameWidth: number): CheckLine {
  const measured = `${observedText(check, OBSERVED_WORDS)} vs ${check.threshold}`;
  return {
    status: fit(check.status.toUpperCase(), STATUS_WIDTH),
    color: checkStatusColor(check.status),
    text: `${fit(check.name, nameWidth)}  ${measured}${check.status === 'pass' ? '' : ` · ${check.detail}`}`,
  };
}
