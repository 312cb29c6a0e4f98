/**
 * A chaos world: a set of independent pipelines, each with its own source table(s), its own
 * ETLD_HOME and its own destination table, generated from the seed.
 *
 * Decisions:
 * - Every world covers every cell of source (PostgreSQL, MariaDB) × mode (full, incremental,
 *   merge) × destination (DuckDB, PostgreSQL, Delta). Each (source, mode) group has fixed feature
 *   profiles (below); the seed shuffles which destination each profile gets (profiles beyond the
 *   third pick one at random) and flips minor options (chunking, parallelism). So one world
 *   exercises every feature, and across seeds every feature meets every destination.
 * - Features that today's daemon may reject outright (`null_cursor`, `lag` with incremental) sit
 *   in profiles of their own, so a refused pipeline does not hide the other features.
 * - Late-committing transactions: PostgreSQL profiles use `timestamptz DEFAULT now()` (with and
 *   without `lag`); MariaDB profiles use `DATETIME` with `lag` longer than any step.
 * - Multi-table files: a keyed pipeline may be written as a multi-table pipeline whose pattern
 *   selects its one table (`source.tables`, its key and chunking in the `tables:` map, a `{table}`
 *   destination template), so every fault also meets the per-table member path. The choice draws
 *   from a stream of its own, so the worlds and faults of recorded seeds stay as they were.
 */
import type { Prng } from './prng.js';

export type SourceKind = 'postgres' | 'mysql';
export type DestKind = 'duckdb' | 'postgres' | 'delta';
export type LoadMode = 'full' | 'incremental' | 'merge';
export type NullCursorPolicy = 'fail' | 'exclude' | 'include';

export type CursorKind =
  /** PostgreSQL timestamptz DEFAULT now(): commit order, late commits possible. */
  | 'pg_tstz_now'
  /** PostgreSQL timestamp(0): coarse, ties within a second. */
  | 'pg_ts0'
  /** PostgreSQL date: very coarse, every row of a day ties. */
  | 'pg_date'
  /** PostgreSQL text COLLATE "en-x-icu", harness counter with random letter case. */
  | 'pg_text_icu'
  | 'pg_bigint'
  /** MariaDB DATETIME (seconds) set with NOW(). */
  | 'my_datetime'
  | 'my_datetime6'
  /** MariaDB VARCHAR in utf8mb4_general_ci, harness counter with random letter case. */
  | 'my_text_ci'
  | 'my_bigint';

export interface Profile {
  readonly cursor: CursorKind | null;
  /** false: the pipeline has no key (rows are identified by content; identical rows happen). */
  readonly keyed: boolean;
  readonly sharded: boolean;
  readonly nullKeys: boolean;
  readonly nullCursor: NullCursorPolicy | null;
  readonly lateCommit: boolean;
  readonly lag: boolean;
  readonly addColumns: boolean;
  readonly deletes: boolean;
  readonly chunked: boolean;
}

export interface PipelineSpec extends Profile {
  /** Pipeline name, also the source and destination table name. */
  readonly name: string;
  readonly source: SourceKind;
  readonly mode: LoadMode;
  readonly dest: DestKind;
  readonly parallelism: number;
  /** Written as a multi-table pipeline selecting this one table by `tablePattern`. */
  readonly multiTable: boolean;
  readonly tablePattern: string;
  /** One line for reports. */
  readonly summary: string;
}

export interface World {
  readonly pipelines: readonly PipelineSpec[];
}

/** A pipeline's features before its group switches some on. */
export const BASE_PROFILE: Profile = {
  cursor: null,
  keyed: true,
  sharded: false,
  nullKeys: false,
  nullCursor: null,
  lateCommit: false,
  lag: false,
  addColumns: false,
  deletes: false,
  chunked: false,
};

type Group = readonly Partial<Profile>[];

const GROUPS: readonly (readonly [SourceKind, LoadMode, Group])[] = [
  [
    'postgres',
    'full',
    [
      { sharded: true, nullKeys: true, addColumns: true, deletes: true },
      { keyed: false, deletes: true },
      { chunked: true, deletes: true },
    ],
  ],
  [
    'postgres',
    'incremental',
    [
      { cursor: 'pg_tstz_now', lateCommit: true },
      { cursor: 'pg_text_icu' },
      { cursor: 'pg_date' },
      { cursor: 'pg_ts0', sharded: true, chunked: true },
      { cursor: 'pg_tstz_now', nullCursor: 'exclude' },
    ],
  ],
  [
    'postgres',
    'merge',
    [
      { cursor: 'pg_ts0', sharded: true, deletes: true },
      { nullKeys: true, deletes: true },
      { cursor: 'pg_tstz_now', lateCommit: true, lag: true, addColumns: true },
      { cursor: 'pg_bigint', nullCursor: 'include', deletes: true },
    ],
  ],
  [
    'mysql',
    'full',
    [
      { sharded: true, deletes: true },
      { keyed: false, deletes: true },
      { chunked: true, nullKeys: true, addColumns: true, deletes: true },
    ],
  ],
  [
    'mysql',
    'incremental',
    [
      { cursor: 'my_datetime', lateCommit: true, lag: true },
      { cursor: 'my_text_ci', sharded: true },
      { cursor: 'my_bigint', keyed: false },
      { cursor: 'my_datetime6', nullCursor: 'fail' },
    ],
  ],
  [
    'mysql',
    'merge',
    [
      { cursor: 'my_datetime', sharded: true, deletes: true },
      { cursor: 'my_text_ci', deletes: true, chunked: true },
      { nullKeys: true, addColumns: true, deletes: true },
      { cursor: 'my_datetime', lateCommit: true, lag: true },
    ],
  ],
];

const DESTS: readonly DestKind[] = ['duckdb', 'postgres', 'delta'];
const MODE_TAG: Record<LoadMode, string> = { full: 'full', incremental: 'incr', merge: 'merge' };
const SOURCE_TAG: Record<SourceKind, string> = { postgres: 'pg', mysql: 'my' };

function describe(p: Omit<PipelineSpec, 'summary'>): string {
  const parts = [`${p.source}→${p.dest}`, p.mode];
  if (p.cursor !== null) parts.push(`cursor ${p.cursor}`);
  if (!p.keyed) parts.push('keyless');
  if (p.sharded) parts.push('sharded');
  if (p.chunked) parts.push(`chunked p${p.parallelism}`);
  if (p.nullKeys) parts.push('NULL keys');
  if (p.nullCursor !== null) parts.push(`NULL cursors (${p.nullCursor})`);
  if (p.lateCommit) parts.push('late commits');
  if (p.lag) parts.push('lag');
  if (p.addColumns) parts.push('added columns');
  if (p.deletes) parts.push('deletes');
  if (p.multiTable) parts.push(`multi-table ${p.tablePattern}`);
  return parts.join(', ');
}

export function generateWorld(prng: Prng): World {
  const pipelines: PipelineSpec[] = [];
  const layout = prng.fork('multi-table');
  for (const [source, mode, group] of GROUPS) {
    const dests = prng.shuffle(DESTS);
    group.forEach((overrides, index) => {
      const profile: Profile = { ...BASE_PROFILE, ...overrides };
      // Minor options the seed varies: keyed profiles may be chunked (key ranges read in parallel).
      const chunked = profile.chunked || (profile.keyed && !profile.nullKeys && prng.chance(0.3));
      const name = `${SOURCE_TAG[source]}_${MODE_TAG[mode]}_${String.fromCharCode(97 + index)}`;
      // Keyless tables carry a surrogate primary key the pipeline must not use: single-table only.
      const multiTable = profile.keyed && layout.chance(0.4);
      const spec = {
        ...profile,
        chunked,
        name,
        multiTable,
        // No other chaos table starts with a pipeline's name, so the wildcard selects only its own.
        tablePattern: multiTable ? layout.pick([name, `${name}*`]) : name,
        source,
        mode,
        dest: index < dests.length ? (dests[index] as DestKind) : prng.pick(DESTS),
        parallelism: chunked ? prng.int(1, 2) : 1,
      };
      pipelines.push({ ...spec, summary: describe(spec) });
    });
  }
  return { pipelines };
}
