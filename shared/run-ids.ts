/**
 * Run ids. A run is `<pipeline>-<sequence>` from its first attempt to its final status; each
 * attempt is `<pipeline>-<sequence>-<attempt>`, which is what log lines carry.
 */

export function runIdOf(pipeline: string, sequence: number): string {
  return `${pipeline}-${sequence}`;
}

/** Whether a log line's attempt id belongs to `wanted` (a run id or an attempt id). */
export function runIdMatches(attemptId: string | null, wanted: string): boolean {
  if (attemptId === null) return false;
  if (attemptId === wanted) return true;
  return attemptId.startsWith(`${wanted}-`) && /^\d+$/.test(attemptId.slice(wanted.length + 1));
}
