/**
 * Which fault a step gets, drawn from the pipeline's PRNG stream, with its parameters.
 *
 * Decisions:
 * - Half of the steps get one fault; the kind is uniform over the six kinds, except that the first
 *   step never gets the state-store fault (the store does not exist before the first run).
 * - Kill moments are spread over 0.2–3.5 s after the spawn: runs take about 1.5–4 s here (two at
 *   a time), so kills land before, during and after the commit, and some after the exit (then they
 *   did not fire, and the report says so).
 * - Source cuts target the moments the daemon talks to the source (its connections are short):
 *   after a byte budget, a delay after its first connection, or refusals from the start.
 * - Destination outages last 1–5 s from the spawn; the daemon needs about 1 s to start, and its
 *   retries span about 3 s, so some runs outlast the outage and some fail.
 * - Failpoint kills (fault 2) use `after-destination-commit` mostly, and sometimes the two other
 *   failpoint names, so the report shows what each did.
 */
import type { Prng } from './prng.js';

export const FAULT_KINDS = [
  'kill-random',
  'kill-failpoint',
  'state-store',
  'dest-unavailable',
  'source-cut',
  'disk-full',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type Failpoint = 'before-destination-commit' | 'after-destination-commit' | 'after-state-commit';

export type SourceCut =
  | { readonly mode: 'after-bytes'; readonly bytes: number }
  /** Cut every live connection this long after the run's first source connection. */
  | { readonly mode: 'cut-all'; readonly afterFirstMs: number }
  | { readonly mode: 'refuse'; readonly ms: number };

export type FaultChoice =
  | { readonly kind: 'kill-random'; readonly atMs: number }
  | { readonly kind: 'kill-failpoint'; readonly failpoint: Failpoint }
  | { readonly kind: 'state-store' }
  | { readonly kind: 'dest-unavailable'; readonly ms: number }
  | { readonly kind: 'source-cut'; readonly cut: SourceCut }
  | { readonly kind: 'disk-full'; readonly sizeKb: number };

export const FAULT_PROBABILITY = 0.5;

export function chooseFault(prng: Prng, step: number): FaultChoice | null {
  if (!prng.chance(FAULT_PROBABILITY)) return null;
  const kinds = FAULT_KINDS.filter((k) => step > 1 || k !== 'state-store');
  const kind = prng.pick(kinds);
  switch (kind) {
    case 'kill-random':
      return { kind, atMs: prng.int(200, 3500) };
    case 'kill-failpoint':
      return {
        kind,
        failpoint: prng.weighted<Failpoint>([
          ['after-destination-commit', 3],
          ['before-destination-commit', 1],
          ['after-state-commit', 1],
        ]),
      };
    case 'state-store':
      return { kind };
    case 'dest-unavailable':
      return { kind, ms: prng.int(1000, 5000) };
    case 'source-cut': {
      const mode = prng.pick(['after-bytes', 'cut-all', 'refuse'] as const);
      if (mode === 'after-bytes') return { kind, cut: { mode, bytes: prng.int(200, 8000) } };
      if (mode === 'cut-all') return { kind, cut: { mode, afterFirstMs: prng.int(0, 400) } };
      return { kind, cut: { mode, ms: prng.int(300, 3000) } };
    }
    case 'disk-full':
      return { kind, sizeKb: prng.pick([4, 8, 16]) };
  }
}

export function describeFault(choice: FaultChoice): string {
  switch (choice.kind) {
    case 'kill-random':
      return `SIGKILL at ${choice.atMs} ms`;
    case 'kill-failpoint':
      return `ETLD_FAILPOINTS=${choice.failpoint}=kill`;
    case 'state-store':
      return 'state-store writes fail (trigger)';
    case 'dest-unavailable':
      return `destination unavailable for ${choice.ms} ms`;
    case 'source-cut':
      if (choice.cut.mode === 'after-bytes') return `source cut after ${choice.cut.bytes} bytes`;
      if (choice.cut.mode === 'cut-all')
        return `source connections cut ${choice.cut.afterFirstMs} ms after the first`;
      return `source refuses connections for ${choice.cut.ms} ms`;
    case 'disk-full':
      return `temp root on a ${choice.sizeKb} KiB tmpfs`;
  }
}
