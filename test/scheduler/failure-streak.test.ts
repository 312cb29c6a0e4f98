import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { failureStreakStart, nextRunAfter } from '../../daemon/scheduler/failure-streak.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import type { StateStore } from '../../daemon/state/store.js';
import type { RunStatus } from '../../shared/types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function world(): { store: StateStore; at: (iso: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'etld-streak-'));
  dirs.push(dir);
  let now = new Date('2026-05-21T08:00:00Z');
  return { store: openStateStore(join(dir, 'state.db'), () => now), at: (iso) => (now = new Date(iso)) };
}

/** One attempt, begun and finished at `at`, as the run sequence records it. */
function attempt(
  w: ReturnType<typeof world>,
  sequence: number,
  n: number,
  status: RunStatus,
  at: string,
  firstFailureAt: string | null,
): void {
  w.at(at);
  const row = w.store.insertRun({
    pipeline: 'orders',
    sequence,
    attempt: n,
    trigger: 'schedule',
    kind: { kind: 'normal' },
    status: 'running',
  });
  w.store.updateRun(row.id, { status, finishedAt: at, firstFailureAt });
}

describe('the failure streak a failure mail reports', () => {
  it('starts at the first failure after the last success, across runs and their retries', () => {
    const w = world();
    attempt(w, 1, 1, 'failed', '2026-05-21T08:00:00.000Z', '2026-05-21T08:00:00.000Z');
    attempt(w, 2, 1, 'succeeded', '2026-05-21T09:00:00.000Z', null);
    expect(failureStreakStart(w.store, 'orders')).toBeNull();
    attempt(w, 3, 1, 'failed', '2026-05-21T10:00:00.000Z', '2026-05-21T10:00:00.000Z');
    attempt(w, 3, 2, 'failed', '2026-05-21T10:01:00.000Z', '2026-05-21T10:00:00.000Z');
    attempt(w, 4, 1, 'cancelled', '2026-05-21T10:30:00.000Z', null);
    attempt(w, 5, 1, 'failed', '2026-05-21T11:00:00.000Z', '2026-05-21T11:00:00.000Z');
    expect(failureStreakStart(w.store, 'orders')).toBe('2026-05-21T10:00:00.000Z');
  });

  it('goes back to the first failure ever when the pipeline never succeeded', () => {
    const w = world();
    attempt(w, 1, 1, 'interrupted', '2026-05-21T07:00:00.000Z', '2026-05-21T07:00:00.000Z');
    attempt(w, 2, 1, 'failed', '2026-05-21T08:00:00.000Z', null);
    expect(failureStreakStart(w.store, 'orders')).toBe('2026-05-21T07:00:00.000Z');
  });

  it('names what runs a pipeline again: its next fire time, nothing without a schedule or after a one-shot time', () => {
    const now = new Date('2026-12-01T03:10:00Z');
    expect(nextRunAfter(undefined, 'UTC', now)).toEqual({ kind: 'manual' });
    expect(nextRunAfter('manual', 'UTC', now)).toEqual({ kind: 'manual' });
    expect(nextRunAfter('0 */2 * * *', 'UTC', now)).toEqual({
      kind: 'schedule',
      at: '2026-12-01T04:00:00.000Z',
    });
    expect(nextRunAfter('every 15m', 'UTC', now)).toEqual({
      kind: 'schedule',
      at: '2026-12-01T03:15:00.000Z',
    });
    // The pipeline's timezone: 05:00 in Warsaw is 04:00 UTC.
    expect(nextRunAfter('at 2026-12-01T05:00', 'Europe/Warsaw', now)).toEqual({
      kind: 'schedule',
      at: '2026-12-01T04:00:00.000Z',
    });
    expect(nextRunAfter('at 2026-12-01T03:00', 'UTC', now)).toEqual({
      kind: 'ended',
      schedule: 'at 2026-12-01T03:00',
    });
  });
});
