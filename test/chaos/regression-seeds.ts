/**
 * Every seed that ever failed becomes a regression test: `chaos.test.ts` replays each entry with
 * exactly `steps` rounds (`npm run chaos -- --seed N --steps K` does the same by hand).
 * Add an entry when a seed finds a bug, with a note naming the bug; keep it after the fix.
 * A seed replays the same world, workload and faults only while world.ts, workload.ts and
 * fault-plan.ts draw from the PRNG in the same order: re-check the entries after changing them.
 */
export interface RegressionSeed {
  readonly seed: number;
  readonly steps: number;
  readonly note: string;
}

export const REGRESSION_SEEDS: readonly RegressionSeed[] = [
  {
    seed: 1,
    steps: 2,
    note: 'sharded merge lost rows whose keys collide across shards (pg_merge_a, my_merge_a); merge loaded NULL keys (pg_merge_b); MariaDB source cut right after chunk planning hung the run (my_full_c)',
  },
  {
    seed: 2,
    steps: 4,
    note: 'late-committing PostgreSQL rows lost (pg_incr_a); same-cursor update lost under a utf8mb4_general_ci text cursor (my_merge_b); NULL key merged (my_merge_c); --once left its run unfinished after the first failed attempt',
  },
  {
    seed: 2404013979,
    steps: 3,
    note: 'MariaDB source cut after 3080 bytes, right after chunk planning: the run hangs without an error (my_full_c)',
  },
  {
    seed: 3631979354,
    steps: 1,
    note: 'a first Delta load that failed (disk full) left an empty _delta_log, which delta-rs reads as a broken table (my_incr_b)',
  },
  {
    seed: 1257379275,
    steps: 12,
    note: 'PostgreSQL destination read its committed sequence ordered as text, so after sequence 10 it answered 9 and pipelines with a watermark stopped with STATE_INCONSISTENT (my_incr_b, pg_merge_d)',
  },
  {
    seed: 320365251,
    steps: 1,
    note: "a sharded MariaDB multi-table pipeline read every shard from the first shard's database (discovery qualified the table with it), so one shard's rows were loaded as every shard's (my_incr_b, my_full_a, my_merge_a)",
  },
];
