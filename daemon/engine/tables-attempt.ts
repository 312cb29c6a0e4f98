/**
 * One attempt of a multi-table run (docs/multi-table.md): discover the tables, then load each one
 * as a run of its own member pipeline (table-members.ts) — its own sequence, attempt rows, plan,
 * watermarks and exactly-once commit, through the same `executeAttempt` as any pipeline — at most
 * `table_parallelism` at once, all sharing the per-host source governor.
 *
 * The pipeline's run ties them together in `run_tables`: a retry of the run loads only the tables
 * that have not succeeded in it, each under the sequence it already had (so a table whose commit
 * reached the destination before a crash is recognised as committed, never loaded twice). A table
 * that fails fails itself: the others go on (`on_table_error: continue`) or stop
 * (`fail_run`: the tables not yet committed are cancelled); the attempt then fails with
 * TABLES_FAILED naming each table, retryable when one of them may pass with a retry.
 */
import { cancelledError, EtlError, toEtlError } from '../../shared/errors.js';
import { withoutRowData } from '../logging/row-data.js';
import type { RunTablePatch, RunTableRow } from '../state/store.js';
import type { ProgressSnapshot, RunOutcome, RunRequest } from './engine.js';
import type { AttemptDeps } from './run-attempt.js';
import { discoverTables } from './table-discovery.js';
import type { TableMember } from './table-members.js';

/** The table's label in the pipeline's run: the member name without `<pipeline>/`. */
function labelOf(pipeline: string, member: string): string {
  return member.slice(pipeline.length + 1);
}

/** Statuses a retry of the run loads again. */
const DONE: ReadonlySet<RunTableRow['status']> = new Set(['succeeded', 'gone']);

type LoadableMember = TableMember & { readonly loadable: { readonly pipeline: RunRequest['pipeline'] } };

function isLoadable(member: TableMember): member is LoadableMember {
  return 'pipeline' in member.loadable;
}

export type AttemptRunner = (deps: AttemptDeps, request: RunRequest) => Promise<RunOutcome>;

export async function executeTablesAttempt(
  deps: AttemptDeps,
  request: RunRequest,
  runAttempt: AttemptRunner,
): Promise<RunOutcome> {
  const { pipeline, signal, logger } = request;
  const { store } = deps;
  if (request.kind.kind === 'backfill')
    throw new EtlError(
      'USAGE',
      `pipeline ${pipeline.name} loads several tables: a backfill range belongs to one table's cursor, and backfills of multi-table pipelines are not supported`,
    );
  const discovery = await discoverTables(deps, pipeline, signal);
  const record = (table: string, member: string, patch: RunTablePatch): RunTableRow =>
    store.upsertRunTable(pipeline.name, request.sequence, table, member, patch);
  const notes: string[] = [];
  const earlier = store.latestRunTables(pipeline.name).filter((r) => r.sequence !== request.sequence);
  const current = new Set(discovery.members.map((m) => labelOf(pipeline.name, m.name)));
  for (const row of earlier) {
    if (current.has(row.table)) continue;
    record(row.table, row.member, { status: 'gone' });
    notes.push(
      `table ${row.table} is no longer in the source (or no longer selected); its destination is kept`,
    );
    if (row.status !== 'gone')
      logger.warning(
        `table ${row.table} is gone from the source: not loaded, its destination is kept as it is`,
      );
  }
  const earlierTables = new Set(earlier.map((r) => r.table));
  for (const member of discovery.members) {
    const label = labelOf(pipeline.name, member.name);
    if (earlier.length > 0 && !earlierTables.has(label)) {
      notes.push(`new table ${label} picked up`);
      logger.notice(`new table ${label} matches source.tables: loaded from this run on`);
    }
  }
  for (const text of discovery.missing) {
    record(text, `${pipeline.name}/${text}`, {
      status: 'refused',
      errorCode: 'CONFIG_INVALID',
      errorMessage: `source.tables names ${text}, which the source does not have (or the login cannot see)`,
      retryable: false,
    });
  }
  for (const text of discovery.unusedSettings)
    notes.push(`tables.${text} names no table source.tables selects: its settings are unused`);
  for (const member of discovery.members) {
    if ('problem' in member.loadable) {
      // A table that could not be described failed (as its error says); one set up wrong is refused.
      const error = member.loadable.error;
      record(labelOf(pipeline.name, member.name), member.name, {
        status: error === undefined ? 'refused' : 'failed',
        errorCode: error?.code ?? 'CONFIG_INVALID',
        errorMessage: withoutRowData(member.loadable.problem),
        retryable: error?.retryable ?? false,
      });
      logger.error(withoutRowData(member.loadable.problem));
    }
  }
  const before = new Map(store.listRunTables(pipeline.name, request.sequence).map((r) => [r.table, r]));
  const todo = discovery.members
    .filter(isLoadable)
    .filter((m) => !DONE.has(before.get(labelOf(pipeline.name, m.name))?.status ?? 'pending'));
  for (const member of todo) record(labelOf(pipeline.name, member.name), member.name, {});

  const run = new TableRun(deps, request, runAttempt, record, before);
  const unloadable = discovery.members.some((m) => 'problem' in m.loadable) || discovery.missing.length > 0;
  if (unloadable && pipeline.config.on_table_error === 'fail_run') {
    // A table already failed (or cannot load): under fail_run no other table starts.
    run.cancel(todo, 'not started: another table failed and on_table_error is fail_run');
  } else {
    await run.loadAll(todo);
  }
  if (signal.aborted) throw cancelledError('the run');
  return run.outcome(store.listRunTables(pipeline.name, request.sequence), notes);
}

class TableRun {
  readonly #deps: AttemptDeps;
  readonly #request: RunRequest;
  readonly #runAttempt: AttemptRunner;
  readonly #record: (table: string, member: string, patch: RunTablePatch) => RunTableRow;
  readonly #before: ReadonlyMap<string, RunTableRow>;
  /** Aborted by the run's signal, and by the first failing table under `fail_run`. */
  readonly #controller = new AbortController();
  readonly #progress = new Map<string, ProgressSnapshot>();
  readonly #stages: Record<string, number> = {};

  constructor(
    deps: AttemptDeps,
    request: RunRequest,
    runAttempt: AttemptRunner,
    record: (table: string, member: string, patch: RunTablePatch) => RunTableRow,
    before: ReadonlyMap<string, RunTableRow>,
  ) {
    this.#deps = deps;
    this.#request = request;
    this.#runAttempt = runAttempt;
    this.#record = record;
    this.#before = before;
  }

  async loadAll(members: readonly LoadableMember[]): Promise<void> {
    const { signal } = this.#request;
    const forward = (): void => this.#controller.abort(signal.reason);
    if (signal.aborted) forward();
    signal.addEventListener('abort', forward, { once: true });
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < members.length && !this.#controller.signal.aborted) {
          const member = members[next++] as LoadableMember;
          await this.#loadTable(member);
        }
      };
      const parallel = Math.min(this.#request.pipeline.config.table_parallelism, members.length);
      await Promise.all(Array.from({ length: parallel }, worker));
      // Tables never started (a stopped run, or fail_run) are cancelled in this attempt.
      this.cancel(members.slice(next), 'not started: the run stopped before this table');
    } finally {
      signal.removeEventListener('abort', forward);
    }
  }

  /** Records tables that will not start in this attempt as cancelled (a retry loads them). */
  cancel(members: readonly LoadableMember[], why: string): void {
    for (const member of members) {
      this.#record(labelOf(this.#request.pipeline.name, member.name), member.name, {
        status: 'cancelled',
        errorCode: 'CANCELLED',
        errorMessage: why,
        retryable: true,
      });
    }
  }

  /** Loads one table as its member pipeline's attempt; records the outcome, never throws. */
  async #loadTable(member: LoadableMember): Promise<void> {
    const { store, now } = this.#deps;
    const request = this.#request;
    const label = labelOf(request.pipeline.name, member.name);
    const previous = this.#before.get(label);
    const sequence = previous?.memberSequence ?? store.nextSequence(member.name);
    const attempt = (previous?.attempts ?? 0) + 1;
    const row = store.insertRun({
      pipeline: member.name,
      sequence,
      attempt,
      trigger: request.trigger,
      kind: request.kind,
      requestedBy: null,
      status: 'running',
    });
    store.updateRun(row.id, { startedAt: now().toISOString() });
    this.#record(label, member.name, { memberSequence: sequence, attempts: attempt, status: 'running' });
    const logger = request.logger.child({ table: label, runId: row.id });
    logger.info(`table ${label}: run ${row.id} started (attempt ${attempt})`);
    try {
      const outcome = await this.#runAttempt(this.#deps, {
        ...request,
        pipeline: member.loadable.pipeline,
        runId: row.id,
        sequence,
        attempt,
        signal: this.#controller.signal,
        logger,
        onProgress: (progress) => this.#onProgress(label, progress),
      });
      store.updateRun(row.id, {
        status: 'succeeded',
        finishedAt: now().toISOString(),
        rowsExtracted: outcome.rowsExtracted,
        rowsLoaded: outcome.rowsLoaded,
        rowsExcluded: outcome.rowsExcluded,
        notes: outcome.notes,
        stages: outcome.stages,
        bytes: outcome.bytes,
        verdict: outcome.verdict,
      });
      for (const [stage, seconds] of Object.entries(outcome.stages))
        this.#stages[stage] = (this.#stages[stage] ?? 0) + (seconds ?? 0);
      this.#record(label, member.name, {
        status: 'succeeded',
        rowsExtracted: outcome.rowsExtracted,
        rowsLoaded: outcome.rowsLoaded,
        bytes: outcome.bytes,
        verdict: outcome.verdict,
        errorCode: null,
        errorMessage: null,
        retryable: false,
      });
      logger.notice(`table ${label}: run ${row.id} succeeded: ${outcome.rowsLoaded} rows loaded`);
    } catch (thrown) {
      const error = toEtlError(thrown);
      const message = withoutRowData(error.message);
      const cancelled = this.#controller.signal.aborted;
      const status = cancelled ? 'cancelled' : 'failed';
      store.updateRun(row.id, {
        status,
        finishedAt: now().toISOString(),
        errorCode: error.code,
        errorMessage: message,
        firstFailureAt: now().toISOString(),
      });
      this.#record(label, member.name, {
        status,
        errorCode: error.code,
        errorMessage: message,
        retryable: error.retryable || cancelled,
      });
      logger.error(`table ${label}: run ${row.id} ${status}: ${error.code}: ${message}`);
      if (!cancelled && request.pipeline.config.on_table_error === 'fail_run')
        this.#controller.abort(
          new EtlError('CANCELLED', `table ${label} failed and on_table_error is fail_run`),
        );
    } finally {
      this.#progress.delete(label);
    }
  }

  #onProgress(label: string, progress: ProgressSnapshot): void {
    this.#progress.set(label, progress);
    const tables = [...this.#progress.entries()];
    const sum = (pick: (p: ProgressSnapshot) => number): number =>
      tables.reduce((total, [, p]) => total + pick(p), 0);
    this.#request.onProgress({
      phase: tables.some(([, p]) => p.phase === 'extracting') ? 'extracting' : progress.phase,
      rows: sum((p) => p.rows),
      bytes: sum((p) => p.bytes),
      rowsPerSecond: sum((p) => p.rowsPerSecond),
      parts: tables.flatMap(([table, p]) => p.parts.map((part) => ({ ...part, id: `${table}: ${part.id}` }))),
    });
  }

  /** The run's outcome over every table of it (earlier attempts' successes included). */
  outcome(rows: readonly RunTableRow[], notes: readonly string[]): RunOutcome {
    const failed = rows.filter(
      (r) => r.status === 'failed' || r.status === 'cancelled' || r.status === 'refused',
    );
    const succeeded = rows.filter((r) => r.status === 'succeeded');
    if (failed.length > 0) {
      const listed = failed
        .map(
          (r) =>
            `${r.table} (${r.status}${r.errorCode === null ? '' : `, ${r.errorCode}`}: ${r.errorMessage ?? ''})`,
        )
        .join('; ');
      throw new EtlError(
        'TABLES_FAILED',
        `${failed.length} of ${rows.filter((r) => r.status !== 'gone').length} tables did not load: ${listed}; ${succeeded.length} committed`,
        { retryable: failed.some((r) => r.retryable) },
      );
    }
    const total = (pick: (r: RunTableRow) => number): number =>
      succeeded.reduce((sum, r) => sum + pick(r), 0);
    const verdicts = succeeded.map((r) => r.verdict);
    return {
      rowsExtracted: total((r) => r.rowsExtracted),
      rowsLoaded: total((r) => r.rowsLoaded),
      rowsExcluded: 0,
      notes: [`${succeeded.length} tables loaded`, ...notes],
      bytes: total((r) => r.bytes),
      verdict: verdicts.includes('mismatch')
        ? 'mismatch'
        : verdicts.length > 0 && verdicts.every((v) => v === 'skipped')
          ? 'skipped'
          : 'match',
      alreadyCommitted: false,
      watermarkFrom: null,
      watermarkTo: null,
      stages: this.#stages,
      checks: [],
    };
  }
}
