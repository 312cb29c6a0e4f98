/**
 * What a schedule fire does: nothing while paused; with a run still active, `overlap:
 * skip` skips it and `overlap: queue` queues one run behind it (later fires are coalesced, so a
 * slow pipeline never builds a backlog); otherwise a run starts.
 */
export type FireDecision =
  | { readonly kind: 'start' }
  | { readonly kind: 'queue'; readonly log: string }
  | { readonly kind: 'skip'; readonly reason: string };

export interface FireContext {
  readonly at: string;
  readonly paused: boolean;
  readonly overlap: 'skip' | 'queue';
  readonly active: { readonly runId: string; readonly phase: 'running' | 'retrying' | 'done' } | null;
  readonly alreadyQueued: boolean;
}

export function decideFire(c: FireContext): FireDecision {
  if (c.paused) return { kind: 'skip', reason: `paused: the schedule fired at ${c.at} and did not run` };
  if (!c.active) return { kind: 'start' };
  const what = c.active.phase === 'retrying' ? 'waiting to retry' : 'still running';
  if (c.overlap === 'queue' && !c.alreadyQueued) {
    return {
      kind: 'queue',
      log: `schedule fired at ${c.at} while run ${c.active.runId} is ${what}: queued (overlap: queue)`,
    };
  }
  return {
    kind: 'skip',
    reason: c.alreadyQueued
      ? `overlap: a run was already queued behind ${c.active.runId}; the fire at ${c.at} was coalesced`
      : `overlap: run ${c.active.runId} was ${what} when the schedule fired at ${c.at} (overlap: skip)`,
  };
}
