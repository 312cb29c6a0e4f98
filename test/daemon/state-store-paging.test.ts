/**
 * Keyset paging of the fleet-wide lists in the state store, SQLite and PostgreSQL (`runs` and
 * `alerts` of the protocol): walking every page with `before` returns each record exactly once and in the listing
 * order, whatever the filter and page size, with many records sharing a creation time, retries
 * that change a run's status after later runs started, and new records arriving between pages.
 * Seeded random histories (fast-check, fixed seed), checked against a model of the listing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findRunsInSteps } from '../../daemon/state/run-listing.js';
import type { AlertFilter, RunFilter, StateStore, TextFilter } from '../../daemon/state/store.js';
import type { ErrorCode } from '../../shared/errors.js';
import { alertTextFields, containsText, runTextFields } from '../../shared/record-text.js';
import type { RunStatus } from '../../shared/types.js';
import { stateBackends } from '../helpers/state-backends.js';

// SQLite in memory, as before the PostgreSQL store: these tests never reopen a store.
const backends = stateBackends({ memory: true });

const PIPELINES = ['orders', 'orders_eu', 'billing', 'b'] as const;
const FINAL: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];
const TEXTS = ['orders', 'ORDERS_EU-1', 'fail', 'source_', 'timeout', '7', 'retry', 'b-', 'zzz'];

interface ModelRun {
  readonly pipeline: string;
  readonly sequence: number;
  readonly firstAt: string;
  readonly trigger: string;
  status: RunStatus;
  errorCode: ErrorCode | null;
  errorMessage: string | null;
}

const runStep = fc.record({
  kind: fc.constantFrom('new', 'new', 'new', 'retry'),
  pipeline: fc.constantFrom(...PIPELINES),
  // Mostly no time passes: many runs share a creation time, the case a keyset on time alone gets wrong.
  advanceMs: fc.constantFrom(0, 0, 0, 1, 1000),
  status: fc.constantFrom(...FINAL),
  error: fc.constantFrom(
    null,
    ['SOURCE_QUERY', 'relation "orders" does not exist\nLINE 1: SELECT …'],
    ['SOURCE_CONNECTION', 'connect timeout after 30s'],
  ),
  pick: fc.nat(),
});
type RunStep = typeof runStep extends fc.Arbitrary<infer T> ? T : never;

/** A filter field that is left out two times in three, so most walks keep many runs. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary, weight: 1 });
}

const runFilter = fc.record({
  pipeline: sometimes(fc.constantFrom(...PIPELINES)),
  statuses: sometimes(fc.subarray([...FINAL], { minLength: 1 })),
  text: sometimes(fc.record({ text: fc.constantFrom(...TEXTS), invert: fc.boolean() })),
  sinceIndex: sometimes(fc.nat()),
});

class History {
  clock = Date.parse('2026-03-01T00:00:00Z');
  readonly runs: ModelRun[] = [];
  readonly #attempts = new Map<ModelRun, number>();
  readonly store: StateStore;

  constructor(open: (now: () => Date) => StateStore) {
    this.store = open(() => new Date(this.clock));
  }

  apply(step: RunStep): void {
    this.clock += step.advanceMs;
    const existing = this.runs.length === 0 ? undefined : this.runs[step.pick % this.runs.length];
    let run: ModelRun;
    let attempt: number;
    if (step.kind === 'retry' && existing !== undefined) {
      run = existing;
      attempt = (this.#attempts.get(run) ?? 1) + 1;
    } else {
      const sequence = this.store.nextSequence(step.pipeline);
      run = {
        pipeline: step.pipeline,
        sequence,
        firstAt: new Date(this.clock).toISOString(),
        trigger: step.pick % 2 === 0 ? 'manual' : 'schedule',
        status: 'running',
        errorCode: null,
        errorMessage: null,
      };
      this.runs.push(run);
      attempt = 1;
    }
    this.#attempts.set(run, attempt);
    const row = this.store.insertRun({
      pipeline: run.pipeline,
      sequence: run.sequence,
      attempt,
      trigger: attempt === 1 ? (run.trigger as 'manual' | 'schedule') : 'retry',
      kind: { kind: 'normal' },
      status: 'running',
    });
    const [errorCode, errorMessage] = step.error ?? [null, null];
    this.store.updateRun(row.id, {
      status: step.status,
      errorCode: errorCode,
      errorMessage,
    });
    run.status = step.status;
    run.errorCode = errorCode;
    run.errorMessage = errorMessage;
  }

  /** The listing the store must produce: newest first by first attempt, then sequence, then pipeline. */
  expected(filter: Omit<RunFilter, 'limit' | 'before'>): string[] {
    const matches = (run: ModelRun, text: TextFilter): boolean =>
      containsText(runTextFields(run), text.text) !== text.invert;
    return this.runs
      .filter(
        (run) =>
          (filter.pipeline === undefined || run.pipeline === filter.pipeline) &&
          (filter.statuses === undefined || filter.statuses.includes(run.status)) &&
          (filter.since === undefined || run.firstAt >= filter.since) &&
          (filter.text === undefined || matches(run, filter.text)),
      )
      .sort((x, y) =>
        x.firstAt !== y.firstAt
          ? x.firstAt < y.firstAt
            ? 1
            : -1
          : x.sequence !== y.sequence
            ? y.sequence - x.sequence
            : x.pipeline < y.pipeline
              ? 1
              : -1,
      )
      .map((run) => `${run.pipeline}-${run.sequence}`);
  }
}

describe.each(backends.all)('keyset paging of runs and alerts on $name', (backend) => {
  it('walks every run exactly once, in order, under any filter, page size and scan window (seeded random histories)', async () => {
    const walked: number[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.array(runStep, { minLength: 40, maxLength: 300, size: 'max' }),
        runFilter,
        fc.integer({ min: 1, max: 40 }),
        fc.array(runStep, { maxLength: 5 }),
        fc.integer({ min: 1, max: 60 }),
        async (steps, filterSpec, pageSize, arriving, window) => {
          const location = await backend.fresh();
          const history = new History((now) => backend.open(location, now));
          for (const step of steps) history.apply(step);
          const since =
            filterSpec.sinceIndex === undefined
              ? undefined
              : history.runs[filterSpec.sinceIndex % history.runs.length]?.firstAt;
          const filter: Omit<RunFilter, 'limit' | 'before'> = {
            ...(filterSpec.pipeline === undefined ? {} : { pipeline: filterSpec.pipeline }),
            ...(filterSpec.statuses === undefined ? {} : { statuses: filterSpec.statuses }),
            ...(filterSpec.text === undefined ? {} : { text: filterSpec.text }),
            ...(since === undefined ? {} : { since }),
          };
          const expected = history.expected(filter);
          // One page at once equals the model.
          const whole = history.store.findRuns({ ...filter, limit: 10_000 });
          expect(whole.map((attempts) => `${attempts[0]?.pipeline}-${attempts[0]?.sequence}`)).toEqual(
            expected,
          );
          // Page by page, with new runs arriving (retries and new runs) between pages.
          const seen: string[] = [];
          let before: RunFilter['before'];
          for (let page = 0; page < 10_000; page++) {
            // In steps of at most `window` runs examined, as the control socket lists them.
            const found = await findRunsInSteps(
              history.store,
              { ...filter, limit: pageSize, ...(before ? { before } : {}) },
              window,
            );
            for (const attempts of found) {
              const first = attempts[0];
              expect(first?.attempt).toBe(1);
              // Each run comes with every attempt, in order.
              expect(attempts.map((a) => a.attempt)).toEqual(attempts.map((_, i) => i + 1));
              seen.push(`${first?.pipeline}-${first?.sequence}`);
            }
            const last = found.at(-1)?.[0];
            if (found.length < pageSize || last === undefined) break;
            before = { pipeline: last.pipeline, sequence: last.sequence };
            const step = arriving[page];
            if (step !== undefined) history.apply(step);
          }
          walked.push(expected.length);
          expect(new Set(seen).size).toBe(seen.length);
          // Runs that arrived while paging are newer than every page already read, or land in a
          // later page; every run that existed at the start comes exactly once, in order.
          expect(seen.filter((id) => expected.includes(id))).toEqual(expected);
          history.store.close();
        },
      ),
      { seed: 20260521, numRuns: 60 },
    );
    // Premise: the walks were not vacuous; most crossed several pages and scan windows.
    expect(walked.filter((n) => n >= 40).length).toBeGreaterThan(20);
  });

  it('walks every alert exactly once, in order, with equal creation times and a text filter (seeded)', async () => {
    const alert = fc.record({
      pipeline: fc.constantFrom('orders', 'billing', 'disk:data'),
      kind: fc.constantFrom('failure', 'recovery', 'low_disk', 'stale'),
      status: fc.constantFrom('sent', 'suppressed', 'failed'),
      second: fc.integer({ min: 0, max: 20 }),
    });
    const filterSpec = fc.record({
      pipeline: sometimes(fc.constantFrom('orders', 'billing', 'disk:data')),
      text: sometimes(
        fc.record({ text: fc.constantFrom('orders', 'FAIL', 'disk', 'sent'), invert: fc.boolean() }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(alert, { minLength: 20, maxLength: 200, size: 'max' }),
        filterSpec,
        fc.integer({ min: 1, max: 30 }),
        async (alerts, spec, pageSize) => {
          const store = backend.open(await backend.fresh());
          const rows = alerts.map((a, i) =>
            store.recordAlert({
              pipeline: a.pipeline,
              kind: a.kind,
              runId: a.pipeline.startsWith('disk:') ? null : `${a.pipeline}-${i + 1}`,
              status: a.status,
              recipients: 'ops@example.com',
              subject: `[etld] ${a.pipeline} ${a.kind}`,
              detail: null,
              // Out of order and mostly equal: the listing orders by time, then id.
              createdAt: new Date(Date.parse('2026-03-01T00:00:00Z') + a.second * 1000).toISOString(),
            }),
          );
          const filter: Omit<AlertFilter, 'limit' | 'beforeId'> = {
            ...(spec.pipeline === undefined ? {} : { pipeline: spec.pipeline }),
            ...(spec.text === undefined ? {} : { text: spec.text }),
          };
          const expected = rows
            .filter(
              (row) =>
                (filter.pipeline === undefined || row.pipeline === filter.pipeline) &&
                (filter.text === undefined ||
                  containsText(alertTextFields(row), filter.text.text) !== filter.text.invert),
            )
            .sort((x, y) =>
              x.createdAt !== y.createdAt ? (x.createdAt < y.createdAt ? 1 : -1) : y.id - x.id,
            )
            .map((row) => row.id);
          const seen: number[] = [];
          let beforeId: number | undefined;
          // Bounded: a store that repeats records must fail the test, not hang it.
          for (let pages = 0; pages < 1000; pages++) {
            const page = store.findAlerts({
              ...filter,
              limit: pageSize,
              ...(beforeId === undefined ? {} : { beforeId }),
            });
            seen.push(...page.map((row) => row.id));
            beforeId = page.at(-1)?.id;
            if (page.length < pageSize || beforeId === undefined) break;
          }
          expect(seen).toEqual(expected);
          store.close();
        },
      ),
      { seed: 20260522, numRuns: 60 },
    );
  });
});
