/**
 * The words etlctl and etl-console both use for a pipeline whose file is invalid now while its
 * last good version keeps running, so the operator reads the same sentence everywhere.
 */
import type { PipelineSummary } from './protocol.js';

/** The flag on a pipeline running its last good version (`idle*`). */
export const LAST_GOOD_MARK = '*';

/** `running the last good version; file invalid: <first problem>`. */
export function lastGoodText(firstProblem: string): string {
  return `running the last good version; file invalid: ${firstProblem}`;
}

/** The sentence for a pipeline running its last good version, or null for any other. */
export function lastGoodNote(pipeline: Pick<PipelineSummary, 'file_status' | 'problems'>): string | null {
  if (pipeline.file_status !== 'last_good') return null;
  return lastGoodText(pipeline.problems[0] ?? 'see etlctl problems');
}
