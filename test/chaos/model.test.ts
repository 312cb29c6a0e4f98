/**
 * The chaos model's rules on small hand-made cases (no servers): the per-mode expectations,
 * ambiguous steps, deferral under open transactions, NULL keys/cursors, and that a problem that
 * persists is reported again while a lost incremental version is not owed twice.
 */
import { describe, expect, it } from 'vitest';
import { checkStep, emptyModel, type RunOutcome } from './model.js';
import type { NormalRow } from '../conformance/normalise.js';
import { modelColumns } from './source-schema.js';
import { BASE_PROFILE, type PipelineSpec, type Profile } from './world.js';

function spec(mode: PipelineSpec['mode'], profile: Partial<Profile> = {}): PipelineSpec {
  return {
    name: 't',
    source: 'postgres',
    mode,
    dest: 'duckdb',
    parallelism: 1,
    multiTable: false,
    tablePattern: 't',
    summary: 'test',
    ...BASE_PROFILE,
    ...profile,
  };
}

/** A row of the model's columns: id, grp, amount, note, flag, day, ts[, cur][, _etl_shard]. */
function row(
  s: PipelineSpec,
  id: string | null,
  note: string,
  extra: { cur?: string | null; shard?: string } = {},
): NormalRow {
  const out: (string | null)[] = [id, '1', '1.00', note, 'true', '2024-01-01', '2024-01-01 00:00:00.000000'];
  if (s.cursor !== null) out.push(extra.cur ?? null);
  if (s.sharded) out.push(extra.shard ?? 's1');
  return out;
}

function harness(s: PipelineSpec) {
  const state = emptyModel(modelColumns(s, 0));
  return (snapshot: NormalRow[], outcome: RunOutcome, actual: NormalRow[], deferFrom: string | null = null) =>
    checkStep(state, { spec: s, columns: modelColumns(s, 0), snapshot, outcome, deferFrom }, actual);
}

describe('chaos model', () => {
  it('full: the last committed snapshot; a failed step may have committed or not, nothing else', () => {
    const s = spec('full');
    const step = harness(s);
    const a = row(s, '1', 'a');
    const b = row(s, '2', 'b');
    expect(step([a, b], 'succeeded', [a, b]).ok).toBe(true);
    const c = row(s, '3', 'c');
    expect(step([a, c], 'failed', [a, b])).toMatchObject({ ok: true, resolution: 'not committed' });
    expect(step([a, c], 'killed', [a, c])).toMatchObject({ ok: true, resolution: 'committed' });
    const half = step([a, b, c], 'killed', [a, b]);
    expect(half.ok).toBe(false);
    expect(half.problems.map((p) => p.kind)).toEqual(['lost']);
  });

  it('merge: deleted rows keep their last version; sharded identities are (key, shard)', () => {
    const s = spec('merge', { sharded: true, cursor: 'pg_bigint' });
    const step = harness(s);
    const one = row(s, '1', 'x', { cur: '1', shard: 's1' });
    const oneOther = row(s, '1', 'y', { cur: '1', shard: 's2' });
    expect(step([one, oneOther], 'succeeded', [oneOther]).problems).toEqual([
      { kind: 'lost', line: expect.stringContaining('lost  id="1" _etl_shard="s1"') },
    ]);
    const step2 = harness(s);
    expect(step2([one, oneOther], 'succeeded', [one, oneOther]).ok).toBe(true);
    const newer = row(s, '1', 'z', { cur: '2', shard: 's1' });
    expect(step2([newer], 'succeeded', [newer, oneOther]).ok).toBe(true);
    const stale = step2([newer], 'succeeded', [one, oneOther]);
    expect(stale.problems.map((p) => p.kind)).toEqual(['wrong']);
  });

  it('incremental: every version once, identical keyless rows as often as one snapshot held them', () => {
    const s = spec('incremental', { keyed: false, cursor: 'pg_bigint' });
    const step = harness(s);
    const x = row(s, '1', 'x', { cur: '5' });
    expect(step([x], 'succeeded', [x]).ok).toBe(true);
    const lostCopy = step([x, x], 'succeeded', [x]);
    expect(lostCopy.problems.map((p) => p.kind)).toEqual(['lost']);
    // The lost copy is not owed again; a later duplicate would be.
    expect(step([x, x], 'succeeded', [x]).ok).toBe(true);
    expect(step([x, x], 'succeeded', [x, x]).problems.map((p) => p.kind)).toEqual(['duplicated']);
  });

  it('incremental: an update at the same cursor value is a new version that must arrive', () => {
    const s = spec('incremental', { cursor: 'pg_date' });
    const step = harness(s);
    const v1 = row(s, '1', 'v1', { cur: '2024-05-01' });
    const v2 = row(s, '1', 'v2', { cur: '2024-05-01' });
    expect(step([v1], 'succeeded', [v1]).ok).toBe(true);
    expect(step([v2], 'succeeded', [v1]).problems.map((p) => p.kind)).toEqual(['lost']);
  });

  it('incremental: a killed step that committed is not loaded again', () => {
    const s = spec('incremental', { cursor: 'pg_bigint' });
    const step = harness(s);
    const a = row(s, '1', 'a', { cur: '1' });
    const b = row(s, '2', 'b', { cur: '2' });
    expect(step([a, b], 'killed', [a, b])).toMatchObject({ ok: true, resolution: 'committed' });
    expect(step([a, b], 'succeeded', [a, b]).ok).toBe(true);
    expect(step([a, b], 'succeeded', [a, b, b]).problems.map((p) => p.kind)).toEqual(['duplicated']);
  });

  it('deferral: rows at or above an open transaction’s start may wait, then are owed', () => {
    const s = spec('incremental', { cursor: 'pg_tstz_now' });
    const step = harness(s);
    const early = row(s, '1', 'a', { cur: '2024-01-01 10:00:00.000000Z' });
    const late = row(s, '2', 'b', { cur: '2024-01-01 10:00:05.000000Z' });
    expect(step([early, late], 'succeeded', [early], '2024-01-01 10:00:01.000000Z').ok).toBe(true);
    expect(step([early, late], 'succeeded', [early]).problems.map((p) => p.kind)).toEqual(['lost']);
    const m = spec('merge', { cursor: 'pg_tstz_now' });
    const mstep = harness(m);
    const old = row(m, '1', 'old', { cur: '2024-01-01 10:00:00.000000Z' });
    const updated = row(m, '1', 'new', { cur: '2024-01-01 10:00:05.000000Z' });
    expect(mstep([old], 'succeeded', [old]).ok).toBe(true);
    expect(mstep([updated], 'succeeded', [old], '2024-01-01 10:00:01.000000Z').ok).toBe(true);
    expect(mstep([updated], 'succeeded', [old]).problems.map((p) => p.kind)).toEqual(['wrong']);
  });

  it('NULL keys in merge and NULL cursors under fail must fail and change nothing', () => {
    const s = spec('merge', { nullKeys: true });
    const step = harness(s);
    const a = row(s, '1', 'a');
    expect(step([a], 'succeeded', [a]).ok).toBe(true);
    const nullKey = row(s, null, 'n');
    const b = row(s, '2', 'b');
    expect(step([a, b, nullKey], 'failed', [a])).toMatchObject({
      ok: true,
      mustFail: 'a NULL key in a merge load',
    });
    expect(step([a, b, nullKey], 'succeeded', [a, b, nullKey]).problems.map((p) => p.kind)).toEqual([
      'duplicated',
      'duplicated',
    ]);
    const f = spec('incremental', { cursor: 'pg_bigint', nullCursor: 'fail' });
    const fstep = harness(f);
    expect(fstep([row(f, '1', 'a', { cur: null })], 'failed', []).mustFail).toBe(
      'a NULL cursor under null_cursor: fail',
    );
    const e = spec('incremental', { cursor: 'pg_bigint', nullCursor: 'exclude' });
    const estep = harness(e);
    const kept = row(e, '2', 'b', { cur: '3' });
    expect(estep([row(e, '1', 'a', { cur: null }), kept], 'succeeded', [kept]).ok).toBe(true);
  });
});
