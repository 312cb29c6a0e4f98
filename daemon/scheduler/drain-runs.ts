/**
 * The grace period of a drain: wait for the runs to finish, and when `graceMs` passes first,
 * cancel those still going (they end `interrupted`, retried after the next start-up). Resolves
 * once every run has settled.
 */
import type { Logger } from '../logging/logger.js';
import type { Clock, TimerHandle } from './clock.js';
import type { RunSequence } from './run-sequence.js';

export async function drainRuns(
  runs: readonly RunSequence[],
  graceMs: number,
  clock: Clock,
  logger: Logger,
): Promise<void> {
  if (runs.length === 0) return;
  logger.notice(
    `draining: waiting up to ${Math.round(graceMs / 1000)} s for ${runs.length} run(s): ${runs.map((r) => r.runId).join(', ')}`,
  );
  let graceTimer: TimerHandle | null = null;
  const grace = new Promise<'grace'>(
    (resolve) => (graceTimer = clock.setTimer(graceMs, () => resolve('grace'))),
  );
  const all = Promise.all(runs.map((r) => r.done)).then(() => 'done' as const);
  const first = await Promise.race([all, grace]);
  if (graceTimer !== null) clock.clearTimer(graceTimer);
  if (first === 'done') return;
  for (const run of runs) {
    if (run.phase === 'done') continue;
    logger.warning(`grace period over: cancelling run ${run.runId}`, {
      pipeline: run.pipeline.name,
      runId: run.runId,
    });
    run.stop('drain');
  }
  await all;
}
