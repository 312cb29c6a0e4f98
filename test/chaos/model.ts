/**
 * The model: what a pipeline's destination must hold after each step, from the source snapshots
 * of the steps whose run committed (the spec of the chaos harness):
 *
 * - full: exactly the rows of the last committed snapshot (a multiset).
 * - merge: per identity (key, plus `_etl_shard` when sharded) ever present in a committed
 *   snapshot, exactly one row: its version in the newest committed snapshot that held it
 *   (rows deleted in the source keep their last version).
 * - incremental: every distinct row version of any committed snapshot exactly once; identical
 *   rows of keyless tables as often as the most copies one snapshot held.
 * - NULL cursors: `exclude` → such rows are not expected (merge: the identity keeps its previous
 *   version); `include` (merge) → expected like other rows; `fail` → a step whose snapshot has
 *   one must fail and leave the destination unchanged. NULL keys in merge likewise must fail.
 *
 * Ambiguous steps: a step whose run failed or was killed may have committed or not; the
 * destination must equal one of the two, and the model continues from the one it equals. A step
 * whose run succeeded must have committed.
 *
 * Deferral (PostgreSQL time cursors only): while a late transaction is open, a correct daemon
 * holds its high-water mark below the transaction's start, so rows of the snapshot with a cursor
 * at or above that start may be missing from this step (optional slots; a merge identity may still
 * show its previous version). They are owed again at later steps while they are still in the
 * source; a deferred version that the source overwrote before any step loaded it is not owed.
 *
 * After every check the model takes the destination's actual content as the new baseline (after
 * a mismatch too); the incremental model also remembers which versions were already owed, so a
 * lost version is not owed again. A difference that persists (a merge identity still missing)
 * shows again at later checks; the session counts each distinct problem once.
 */
import { rowText, type NormalRow } from '../conformance/normalise.js';
import { classify, matchSlots, type RowProblem, type Slot } from './row-match.js';
import { CURSOR_COLUMN, identityColumns, KEY_COLUMN, type ColumnDef } from './source-schema.js';
import type { PipelineSpec } from './world.js';

export interface ModelState {
  /** Model column names the rows below are laid out in. */
  columns: string[];
  /** The destination's established content. */
  expected: NormalRow[];
  /** incremental: version text → how many copies were owed so far. */
  accounted: Map<string, number>;
}

export type RunOutcome = 'succeeded' | 'failed' | 'killed';

export interface StepInput {
  readonly spec: PipelineSpec;
  readonly columns: readonly ColumnDef[];
  readonly snapshot: readonly NormalRow[];
  readonly outcome: RunOutcome;
  /** Rows with a cursor (normalised) >= this may be deferred; null: nothing may be deferred. */
  readonly deferFrom: string | null;
}

export interface StepVerdict {
  readonly resolution: 'committed' | 'not committed';
  readonly ok: boolean;
  /** Why this step had to fail (NULL key in merge, NULL cursor under `fail`), or null. */
  readonly mustFail: string | null;
  readonly compared: number;
  /** Every difference at this check (a persisting one shows again at later checks). */
  readonly problems: readonly RowProblem[];
}

export function emptyModel(columns: readonly ColumnDef[]): ModelState {
  return { columns: columns.map((c) => c.name), expected: [], accounted: new Map() };
}

function reshape(row: NormalRow, from: readonly string[], to: readonly string[]): NormalRow {
  const index = new Map(from.map((name, i) => [name, i]));
  return to.map((name) => {
    const i = index.get(name);
    return i === undefined ? null : (row[i] ?? null);
  });
}

/** Lays the model out in `columns` (added columns read as NULL in earlier rows). */
function alignColumns(state: ModelState, columns: readonly ColumnDef[]): void {
  const names = columns.map((c) => c.name);
  if (names.join('\u0000') === state.columns.join('\u0000')) return;
  const from = state.columns;
  state.expected = state.expected.map((row) => reshape(row, from, names));
  const accounted = new Map<string, number>();
  for (const [text, count] of state.accounted) {
    const key = rowText(reshape(JSON.parse(text) as NormalRow, from, names));
    accounted.set(key, Math.max(accounted.get(key) ?? 0, count));
  }
  state.accounted = accounted;
  state.columns = names;
}

function exactSlots(rows: readonly NormalRow[]): Slot[] {
  return rows.map((row) => ({ alternatives: [rowText(row)], required: true }));
}

interface Candidate {
  readonly slots: Slot[];
  /** incremental: the owed copies per version text, and which of them were optional. */
  readonly owed: Map<string, { count: number; deferrable: boolean }>;
}

function commitCandidate(
  state: ModelState,
  input: StepInput,
  rows: readonly NormalRow[],
  identity: number[] | null,
  cursor: number,
): Candidate {
  const deferrable = (row: NormalRow): boolean => {
    const value = cursor < 0 ? null : (row[cursor] ?? null);
    return input.deferFrom !== null && value !== null && value >= input.deferFrom;
  };
  const owed = new Map<string, { count: number; deferrable: boolean }>();
  switch (input.spec.mode) {
    case 'full':
      return { slots: exactSlots(rows), owed };
    case 'incremental': {
      const counts = new Map<string, { count: number; row: NormalRow }>();
      for (const row of rows) {
        const text = rowText(row);
        counts.set(text, { count: (counts.get(text)?.count ?? 0) + 1, row });
      }
      const slots = exactSlots(state.expected);
      for (const [text, { count, row }] of counts) {
        const isDeferrable = deferrable(row);
        owed.set(text, { count, deferrable: isDeferrable });
        for (let n = state.accounted.get(text) ?? 0; n < count; n++)
          slots.push({ alternatives: [text], required: !isDeferrable });
      }
      return { slots, owed };
    }
    case 'merge': {
      const idOf = (row: NormalRow): string => JSON.stringify((identity ?? []).map((i) => row[i] ?? null));
      const old = new Map<string, string[]>();
      for (const row of state.expected) {
        const key = idOf(row);
        old.set(key, [...(old.get(key) ?? []), rowText(row)]);
      }
      const slots: Slot[] = [];
      const seen = new Set<string>();
      for (const row of rows) {
        const key = idOf(row);
        if (seen.has(key)) continue;
        seen.add(key);
        const previous = old.get(key) ?? [];
        if (deferrable(row)) {
          slots.push({ alternatives: [rowText(row), ...previous], required: previous.length > 0 });
          for (const extra of previous.slice(1)) slots.push({ alternatives: [extra], required: true });
        } else {
          slots.push({ alternatives: [rowText(row)], required: true });
        }
      }
      for (const [key, texts] of old)
        if (!seen.has(key)) for (const text of texts) slots.push({ alternatives: [text], required: true });
      return { slots, owed };
    }
  }
}

/** Checks one step's destination content against the model and advances the model. */
export function checkStep(state: ModelState, input: StepInput, actual: readonly NormalRow[]): StepVerdict {
  alignColumns(state, input.columns);
  const names = state.columns;
  const cursor = names.indexOf(CURSOR_COLUMN);
  const key = names.indexOf(KEY_COLUMN);
  const identityNames = identityColumns(input.spec);
  const identity = identityNames === null ? null : identityNames.map((n) => names.indexOf(n));
  const spec = input.spec;

  let mustFail: string | null = null;
  if (spec.mode === 'merge' && key >= 0 && input.snapshot.some((r) => r[key] === null))
    mustFail = 'a NULL key in a merge load';
  if (
    spec.mode !== 'full' &&
    spec.nullCursor === 'fail' &&
    cursor >= 0 &&
    input.snapshot.some((r) => r[cursor] === null)
  ) {
    mustFail = 'a NULL cursor under null_cursor: fail';
  }
  const rows = input.snapshot.filter((r) => {
    if (spec.mode === 'full') return true;
    if (spec.mode === 'merge' && key >= 0 && r[key] === null) return false;
    if (cursor >= 0 && r[cursor] === null) return spec.nullCursor === 'include' || spec.nullCursor === null;
    return true;
  });

  const none: Candidate = { slots: exactSlots(state.expected), owed: new Map() };
  const commit = commitCandidate(state, input, rows, identity, cursor);
  const candidates: [StepVerdict['resolution'], Candidate][] =
    mustFail !== null
      ? [['not committed', none]]
      : input.outcome === 'succeeded'
        ? [['committed', commit]]
        : [
            ['not committed', none],
            ['committed', commit],
          ];

  let best:
    | {
        resolution: StepVerdict['resolution'];
        candidate: Candidate;
        match: ReturnType<typeof matchSlots>;
        errors: ReturnType<typeof classify>;
      }
    | undefined;
  for (const [resolution, candidate] of candidates) {
    const match = matchSlots(candidate.slots, actual);
    const errors = classify(match, identity, names);
    const total = errors.lost + errors.duplicated + errors.wrong;
    if (best === undefined || total < best.errors.lost + best.errors.duplicated + best.errors.wrong) {
      best = { resolution, candidate, match, errors };
    }
    if (total === 0) break;
  }
  if (best === undefined) throw new Error('checkStep: no candidate');

  if (best.resolution === 'committed') {
    for (const [text, { count, deferrable }] of best.candidate.owed) {
      const before = state.accounted.get(text) ?? 0;
      const loaded = deferrable ? before + (best.match.optionalFilled.get(text) ?? 0) : count;
      state.accounted.set(text, Math.max(before, Math.min(count, loaded)));
    }
  }
  state.expected = [...actual];
  return {
    resolution: best.resolution,
    ok: best.errors.problems.length === 0,
    mustFail,
    compared: actual.length,
    problems: best.errors.problems,
  };
}
