/**
 * One attempt of one run (RunEngine.execute), in named phases:
 *  1. settle: the destination and the state store agree on what is committed (destination-settle.ts);
 *  2. prepare (`prepareLoad`): connect and describe the source, plan the schema change, read the ranges, store the
 *     plan, and begin the destination load;
 *  3. extract and load (`streamAndSettle`, with 4), in one pass: shards × chunks in parallel, each part's CSV typed,
 *     transformed and written by the destination (files nobody sees yet) while it is extracted
 *     (load-plan.ts says what each part feeds);
 *  4. settle the batch: reconcile rows extracted with rows taken per part, the watermark boundary
 *     (append: the rows around the watermarks were kept aside; those not loaded before are written
 *     now), merge keys; record the planned watermarks;
 *     With data quality checks, the batch is judged here, from the check rows filed while it
 *     streamed or from the staged batch (load-plan.ts): a failing check stops the run before the
 *     commit, and quarantined rows are kept out of the load;
 *  5. commit (`commitBatch`): the quarantine (when rows were quarantined) and then the destination make every
 *     part visible with the run sequence, then the watermarks go to the state store. A failure
 *     before the commit removes what was written.
 * The run's temp directory is removed in `finally`, always. A run's kind (run-kinds.ts) changes
 * only which ranges phase 2 reads, the destination's load mode, and which watermarks phase 5
 * commits: a full refresh's replace every stored one, a backfill commits none.
 *
 * Reconciliation: per part, the rows extracted must equal the rows its consumers took (minus the
 * rows kept aside for the boundary): a difference fails the run with RECONCILIATION_FAILED before
 * anything is committed. After the commit, the rows the destination reports loaded are compared
 * with what it should have loaded — the rows left after the boundary for full/incremental, the
 * distinct row identities of the batch for merge (key, plus `_etl_shard` for sharded sources) —
 * giving `match` or `mismatch`; a mismatch is logged as an error and recorded but does not fail
 * the run, because the data is committed by then and a retry would find it already committed.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cancelledError, EtlError } from '../../shared/errors.js';
import type { ColumnSchema } from '../../shared/types.js';
import { appendMissingRefused, type Destination, type DestinationLoad } from '../destinations/destination.js';
import type { ReadSession } from '../sources/source.js';
import type { StateStore } from '../state/store.js';
import {
  alreadyCommittedOutcome,
  settleWithDestination,
  writeState,
  type SettleContext,
} from './destination-settle.js';
import type { FailpointName, RunOutcome, RunRequest, SourceGovernor } from './engine.js';
import { extractAll, type ExtractTask, type PartTotals } from './extractor.js';
import { LoadPlan, type PlanChecks } from './load-plan.js';
import { BatchChecks, type CheckVerdict } from './quality-checks.js';
import { commitQuarantine, quarantineDestination, quarantineLabel } from './quarantine.js';
import { settleBoundaries } from './next-watermarks.js';
import { planChunks } from './planner.js';
import { ProgressTracker } from './progress-tracker.js';
import { flagColumns, rangeFlags, rangeWhere, summarise, type RangeReading } from './range-reader.js';
import { comparableKinds, loadModeFor, readRangesFor } from './run-kinds.js';
import { contentColumns } from './transforms.js';
import {
  openDestination,
  prepareFiles,
  prepareSource,
  staticChecks,
  type EngineDeps,
  type PreparedColumns,
  type PreparedFiles,
  type PreparedSource,
} from './run-setup.js';
import {
  extractFileParts,
  fileNotes,
  fileReading,
  fileSelection,
  fileTasks,
  nothingToLoad,
  plannedFiles,
  previousFileColumns,
  quarantinedSummary,
} from './file-attempt.js';
import { recordPlannedFiles } from './committed-plan.js';
import { Stager } from './stager.js';
import { PLAN_VERSION, usesWatermarks, type PlanRecord } from './watermarks.js';
import { StageClock, type CpuClock } from './stage-clock.js';
import { tempDirPrefix } from './temp-names.js';

export interface AttemptDeps extends EngineDeps {
  readonly store: StateStore;
  readonly governor: SourceGovernor;
  readonly tempRoot: string;
  readonly defaultParallelism: number;
  readonly now: () => Date;
  /** DuckDB's `memory_limit` of a run's staging database (run-memory.ts). */
  readonly stagingMemoryLimit: string;
  /** Statements reading parts while they are extracted, at most (run-memory.ts). */
  readonly consumerSlots: number;
  readonly stagingThreads: number;
  /** `defaults.bigquery_price_per_tib` (plan's cost estimate; see file-preview.ts). */
  readonly bigqueryPricePerTib: number;
  readonly cpuClock: CpuClock;
  /** Test hook (the chaos harness): called at named points of the commit; inert in production. */
  readonly failpoint?: (name: FailpointName) => void;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw cancelledError('the run');
}

function partId(shard: string, chunk: number | null): string {
  return chunk === null ? shard : `${shard}/${chunk}`;
}

/** Everything an attempt opens, so `finally` can close it whatever phase failed. */
interface AttemptResources {
  prepared?: PreparedSource | PreparedFiles;
  tempDir?: string;
  stager?: Stager;
  /** The destination load until it is committed: aborted (its files removed) if the attempt fails. */
  load?: DestinationLoad;
  totals: Map<string, PartTotals>;
  readonly sessions: Map<string, ReadSession>;
}

export async function executeAttempt(deps: AttemptDeps, request: RunRequest): Promise<RunOutcome> {
  const { pipeline, signal } = request;
  staticChecks(pipeline.config);
  const tracker = new ProgressTracker(request.runId, deps.store, deps.now);
  const stopTicker = tracker.startTicker((snapshot) => request.onProgress(snapshot));
  const destination = await openDestination(pipeline.config, deps, request.logger);
  const open: AttemptResources = { sessions: new Map(), totals: new Map() };
  const context: SettleContext = { store: deps.store, pipeline };
  try {
    throwIfAborted(signal);
    const committed = await settleWithDestination(context, destination, signal, {
      readsEverything: request.kind.kind === 'full_refresh',
    });
    if (committed !== null && committed >= request.sequence) {
      const outcome = alreadyCommittedOutcome(context, request.sequence, committed, {});
      request.logger.notice(outcome.notes.join('; '));
      return outcome;
    }
    return await loadBatch(deps, request, destination, tracker, open, context, new StageClock(deps.cpuClock));
  } catch (error) {
    if (signal.aborted && !(error instanceof EtlError && error.code === 'CANCELLED'))
      throw cancelledError('the run');
    throw error;
  } finally {
    stopTicker();
    await closeSessions(open.sessions);
    if (open.prepared !== undefined) await closePrepared(open.prepared);
    await open.load?.abort();
    open.stager?.close();
    await destination
      .close()
      .catch((error: unknown) => request.logger.warning(`closing ${destination.label}: ${String(error)}`));
    if (open.tempDir !== undefined) await rm(open.tempDir, { recursive: true, force: true });
  }
}

/** One attempt's context, passed from phase to phase. */
interface Attempt {
  readonly deps: AttemptDeps;
  readonly request: RunRequest;
  readonly destination: Destination;
  readonly tracker: ProgressTracker;
  readonly open: AttemptResources;
  readonly context: SettleContext;
  readonly clock: StageClock;
}

/** What phase 2 (prepare) leaves for the others. */
interface PreparedLoad {
  readonly prepared: PreparedSource | PreparedFiles;
  readonly reading: RangeReading;
  readonly plan: PlanRecord;
  readonly stagingColumns: ColumnSchema[];
  /** The attempt's temp directory (spool files, staging, destination work files). */
  readonly tempDir: string;
  readonly stager: Stager;
  readonly workDir: string;
  readonly load: DestinationLoad;
  readonly loadPlan: LoadPlan;
  /** Set by the checks' judgement in phase 4 (none: no checks). */
  readonly judged: { verdict?: CheckVerdict };
}

/** What phase 4 (settle the batch) leaves for the commit. */
interface SettledBatch {
  readonly rowsExtracted: number;
  /** Rows the destination should report loaded. */
  readonly expected: number;
  readonly boundaries: Awaited<ReturnType<typeof settleBoundaries>>;
  /** A files run: the files recorded in the plan, which the commit puts in the ledger. */
  readonly files: PlanRecord['files'];
}

async function loadBatch(
  deps: AttemptDeps,
  request: RunRequest,
  destination: Destination,
  tracker: ProgressTracker,
  open: AttemptResources,
  context: SettleContext,
  clock: StageClock,
): Promise<RunOutcome> {
  const attempt: Attempt = { deps, request, destination, tracker, open, context, clock };
  const ready = await prepareLoad(attempt);
  if ('outcome' in ready) return ready.outcome;
  const settled = await streamAndSettle(attempt, ready);
  return commitBatch(attempt, ready, settled);
}

/** Phase 2: the source described, the schema change planned, the ranges read, the load begun. */
async function prepareLoad(attempt: Attempt): Promise<PreparedLoad | { readonly outcome: RunOutcome }> {
  const { deps, request, destination, open } = attempt;
  const { pipeline, signal } = request;
  const config = pipeline.config;
  const tempDir = await mkdtemp(tempDirPrefix(deps.tempRoot, 'run', pipeline.name));
  open.tempDir = tempDir;
  const { prepared, reading } = await prepareReading(attempt, tempDir);
  if ('files' in prepared && prepared.files.files.length === 0)
    return { outcome: nothingToLoad(deps.store, request, prepared.files, reading) };
  const changes = await destination.planSchema(prepared.transforms.columns, config.schema_evolution, signal);
  for (const change of changes)
    request.logger.info(`schema: ${change.change} ${change.column}: ${change.detail}`);
  for (const note of reading.notes) request.logger.notice(note);
  const plan: PlanRecord = {
    version: PLAN_VERSION,
    sequence: request.sequence,
    mode: config.load.mode,
    kind: request.kind.kind,
    ranges: reading.ranges,
    watermarks: null,
  };
  writeState('recording the run plan', () =>
    deps.store.updateRun(request.runId, { planJson: JSON.stringify(plan) }),
  );
  const stagingColumns = [...prepared.columns, ...flagColumns(config)];
  open.stager = await Stager.open(tempDir, stagingColumns, {
    memoryLimit: deps.stagingMemoryLimit,
    threads: deps.stagingThreads,
    infiniteDates: config.source.infinite_dates,
  });
  const stager = open.stager;
  const workDir = join(tempDir, 'destination');
  await mkdir(workDir);
  const mode = loadModeFor(config, request.kind);
  // Checked here as well as by the destination: appending a backfill's rows blindly would duplicate them.
  if (mode === 'append_missing' && !destination.appendsMissing) throw appendMissingRefused(destination.label);
  const load = await destination.beginLoad({
    pipeline: pipeline.name,
    runId: request.runId,
    sequence: request.sequence,
    mode,
    key:
      config.load.mode === 'merge'
        ? prepared.rowKey
        : config.source.key?.map((k) => prepared.transforms.loadedName(k)),
    cursor: prepared.loadedCursor,
    ...(mode === 'append_missing' ? { compare: contentColumns(prepared.transforms.columns) } : {}),
    schemaEvolution: config.schema_evolution,
    columns: prepared.transforms.columns,
    workDir,
    duckdb: { memoryLimit: deps.stagingMemoryLimit, threads: deps.stagingThreads },
    signal,
  });
  open.load = load;
  const meta = { runId: request.runId, pipeline: pipeline.name, loadedAt: deps.now() };
  const judged: { verdict?: CheckVerdict } = {};
  const batchChecks = new BatchChecks(
    config.checks,
    prepared.transforms.columns,
    prepared.transforms.loadedName,
  );
  const checks: PlanChecks = {
    checks: batchChecks,
    judge: async (table) => {
      judged.verdict = await judgeBatch(deps, request, stager, batchChecks, table, open);
      return judged.verdict.quarantined;
    },
  };
  const loadPlan = new LoadPlan(config, mode, prepared, stager, load, meta, checks);
  await loadPlan.prepare();
  return { prepared, reading, plan, stagingColumns, tempDir, stager, workDir, load, loadPlan, judged };
}

/**
 * Phases 3 and 4: every part extracted and written in one pass, then the batch settled: rows
 * reconciled per part, the watermark boundary applied, the checks judged, the planned
 * watermarks recorded.
 */
async function streamAndSettle(attempt: Attempt, ready: PreparedLoad): Promise<SettledBatch> {
  const { deps, request, tracker, open, clock } = attempt;
  const { prepared, reading, stager, loadPlan } = ready;
  const config = request.pipeline.config;
  const tasks =
    'files' in prepared
      ? await fileTasks(prepared.files, ready.stagingColumns, loadPlan, ready.tempDir, tracker)
      : await planTasks(
          config,
          prepared,
          reading,
          ready.stagingColumns,
          loadPlan,
          ready.tempDir,
          tracker,
          request,
          request.signal,
        );
  clock.enter('stream');
  const rowsExtracted =
    'files' in prepared
      ? await extractFiles(deps, request, prepared, tasks, tracker, open, ready.tempDir)
      : await extract(deps, request, prepared, tasks, tracker, open);
  clock.enter('settle');

  throwIfAborted(request.signal);
  tracker.phase = 'staging';
  let kept = 0;
  for (const task of tasks) kept += await loadPlan.reconcile(task.id, open.totals.get(task.id));
  // A backfill reads below the watermarks and leaves them (and their boundaries) as they are.
  const boundaries =
    request.kind.kind === 'backfill' || 'files' in prepared
      ? { watermarks: [], dropped: 0 }
      : await settleBoundaries(config, prepared.columns, stager, reading.ranges, request.logger);
  const expected = await loadPlan.finish(kept - boundaries.dropped);
  const planned: PlanRecord = {
    ...ready.plan,
    watermarks: boundaries.watermarks,
    ...('files' in prepared ? { files: plannedFiles(prepared.files, request, config) } : {}),
  };
  writeState('recording the planned watermarks', () =>
    deps.store.updateRun(request.runId, { planJson: JSON.stringify(planned) }),
  );
  return { rowsExtracted, expected, boundaries, files: planned.files };
}

/**
 * Phase 5: the quarantine (when rows were quarantined), then the destination, with the run
 * sequence; then the watermarks to the state store; and the run's outcome.
 */
async function commitBatch(
  attempt: Attempt,
  ready: PreparedLoad,
  settled: SettledBatch,
): Promise<RunOutcome> {
  const { deps, request, tracker, open, context, clock } = attempt;
  const { pipeline, signal } = request;
  const config = pipeline.config;
  const { reading, judged, load } = ready;
  const { rowsExtracted, expected, boundaries } = settled;
  throwIfAborted(signal);
  tracker.phase = 'committing';
  clock.enter('commit');
  if ((judged.verdict?.quarantined ?? 0) > 0) {
    const quarantined = await commitQuarantineTable(
      deps,
      request,
      ready.stager,
      ready.prepared,
      ready.workDir,
    );
    deps.failpoint?.('after-quarantine-commit');
    request.logger.notice(
      quarantined.alreadyCommitted
        ? `the quarantine ${quarantineLabel(config.destination)} already held sequence ${request.sequence}: nothing written there again`
        : `${quarantined.rows} row(s) quarantined in ${quarantineLabel(config.destination)}`,
    );
  }
  deps.failpoint?.('before-destination-commit');
  const result = await load.commit();
  open.load = undefined;
  const stages = clock.snapshot();
  if (result.alreadyCommitted) {
    // Another attempt's commit reached the destination after this one settled: never this
    // attempt's plan, which was written just now.
    const outcome = alreadyCommittedOutcome(context, request.sequence, request.sequence, {
      runId: result.committedRunId ?? null,
      notRunId: request.runId,
    });
    request.logger.notice(outcome.notes.join('; '));
    return outcome;
  }
  deps.failpoint?.('after-destination-commit');
  const files = 'files' in ready.prepared ? ready.prepared.files : undefined;
  writeState(`recording sequence ${request.sequence}`, () => {
    if (settled.files !== undefined) {
      recordPlannedFiles(deps.store, pipeline.name, request.sequence, settled.files);
    } else if (usesWatermarks(config))
      deps.store.commitWatermarks(pipeline.name, request.sequence, boundaries.watermarks ?? [], {
        replaceAll: request.kind.kind === 'full_refresh',
      });
    else deps.store.setCommittedSequence(pipeline.name, request.sequence);
  });
  deps.failpoint?.('after-state-commit');

  // An append_missing load leaves out the rows the destination held: they count as accounted for.
  const skipped = result.rowsSkipped ?? 0;
  const verdict = result.rowsLoaded + skipped === expected ? 'match' : 'mismatch';
  if (verdict === 'mismatch') {
    request.logger.error(
      `reconciliation mismatch: ${rowsExtracted} rows extracted, ${expected} expected in the destination, ${result.rowsLoaded} loaded${skipped > 0 ? `, ${skipped} held already` : ''}`,
    );
  }
  const notes = [...reading.notes, ...(files === undefined ? [] : fileNotes(files))];
  if (boundaries.dropped > 0)
    notes.push(`${boundaries.dropped} row(s) read again at the watermark were loaded already and skipped`);
  if (skipped > 0)
    notes.push(
      `${skipped} row(s) of the backfill range were in the destination already and were not appended again`,
    );
  request.logger.info(
    `committed sequence ${request.sequence}: ${rowsExtracted} rows extracted, ${result.rowsLoaded} loaded (${verdict})`,
    { ...result.details, ...Object.fromEntries(Object.entries(stages).map(([k, v]) => [`cpu_${k}_s`, v])) },
  );
  return {
    rowsExtracted,
    rowsLoaded: result.rowsLoaded,
    rowsExcluded: reading.excluded,
    bytes: tracker.bytes,
    verdict,
    alreadyCommitted: false,
    watermarkFrom: summarise(reading.ranges, (r) => r.from),
    watermarkTo: summarise(reading.ranges, (r) => r.to),
    notes,
    stages,
    checks: judged.verdict?.results ?? [],
    ...(result.maintenanceFailure === undefined ? {} : { maintenanceFailure: result.maintenanceFailure }),
    ...(files !== undefined && files.quarantined.length > 0
      ? { quarantinedFiles: quarantinedSummary(files) }
      : {}),
  };
}

/**
 * Judges the checks on the complete batch, records the results in the run's row (a failed run
 * keeps them too), and stops the run with CHECK_FAILED naming every failed check.
 */
async function judgeBatch(
  deps: AttemptDeps,
  request: RunRequest,
  stager: Stager,
  checks: BatchChecks,
  table: string | undefined,
  open: AttemptResources,
): Promise<CheckVerdict> {
  const { pipeline } = request;
  let rowsExtracted = 0;
  for (const totals of open.totals.values()) rowsExtracted += totals.rows;
  const verdict = await checks.judge(
    {
      connection: stager.connection,
      rowsExtracted,
      previousRowsExtracted:
        deps.store.lastSuccess(pipeline.name, comparableKinds(pipeline.config, request.kind))
          ?.rowsExtracted ?? null,
      now: deps.now(),
    },
    table,
  );
  writeState('recording the check results', () =>
    deps.store.updateRun(request.runId, { checks: verdict.results }),
  );
  for (const result of verdict.results) {
    if (result.status === 'pass') request.logger.info(result.detail);
    else if (result.status === 'fail') request.logger.error(result.detail);
    else request.logger.warning(result.detail);
  }
  if (verdict.failed.length > 0) {
    throw new EtlError(
      'CHECK_FAILED',
      `${verdict.failed.map((r) => r.detail).join('; ')}; nothing was committed`,
    );
  }
  return verdict;
}

/** Commits the staged quarantine rows to the pipeline's quarantine destination (quarantine.ts). */
async function commitQuarantineTable(
  deps: AttemptDeps,
  request: RunRequest,
  stager: Stager,
  prepared: PreparedColumns,
  workDir: string,
): Promise<{ rows: number; alreadyCommitted: boolean }> {
  const config = request.pipeline.config;
  const destination = await openDestination(
    { ...config, destination: quarantineDestination(config.destination) },
    deps,
    request.logger,
  );
  try {
    const quarantineWorkDir = join(workDir, 'quarantine');
    await mkdir(quarantineWorkDir);
    return await commitQuarantine(
      destination,
      {
        pipeline: request.pipeline.name,
        runId: request.runId,
        sequence: request.sequence,
        schemaEvolution: config.schema_evolution,
        columns: prepared.transforms.columns,
        workDir: quarantineWorkDir,
        duckdb: { memoryLimit: deps.stagingMemoryLimit, threads: deps.stagingThreads },
        signal: request.signal,
      },
      stager.connection,
    );
  } finally {
    await destination
      .close()
      .catch((error: unknown) => request.logger.warning(`closing ${destination.label}: ${String(error)}`));
  }
}

/** The source prepared and its reading: ranges of a database source, the planned files of a files source. */
async function prepareReading(
  attempt: Attempt,
  tempDir: string,
): Promise<{ prepared: PreparedSource | PreparedFiles; reading: RangeReading }> {
  const { deps, request, open } = attempt;
  const { pipeline, signal } = request;
  const config = pipeline.config;
  if (config.source.type === 'files') {
    const prepared = await prepareFiles(
      config,
      {
        store: deps.store,
        secrets: deps.secrets,
        tempDir,
        parallelism: config.source.parallelism ?? deps.defaultParallelism,
        memoryLimit: deps.stagingMemoryLimit,
        threads: deps.stagingThreads,
        now: deps.now(),
        previousColumns: previousFileColumns(deps.store, config),
      },
      fileSelection(config, request.kind.kind),
      signal,
    );
    open.prepared = prepared;
    return { prepared, reading: fileReading(prepared.files) };
  }
  const prepared = await prepareSource(config, deps, signal);
  open.prepared = prepared;
  const reading = await readRangesFor(
    request.kind,
    config,
    prepared,
    deps.store.getWatermarks(pipeline.name),
    signal,
  );
  return { prepared, reading };
}

async function closePrepared(prepared: PreparedSource | PreparedFiles): Promise<void> {
  if ('files' in prepared) await prepared.files.close();
  else await prepared.source.close();
}

/** Reads the batch's files (file-attempt.ts), each loading as it is read. */
async function extractFiles(
  deps: AttemptDeps,
  request: RunRequest,
  prepared: PreparedFiles,
  tasks: readonly ExtractTask[],
  tracker: ProgressTracker,
  open: AttemptResources,
  tempDir: string,
): Promise<number> {
  const started = Date.now();
  const { rows, totals } = await extractFileParts(
    deps,
    request,
    prepared.files,
    tasks,
    tracker,
    open.sessions,
    tempDir,
  );
  open.totals = totals;
  request.logger.debug(
    `read ${prepared.files.files.length} file(s) in ${tasks.length} part(s) and loaded them in ${((Date.now() - started) / 1000).toFixed(2)} s`,
  );
  await closeSessions(open.sessions);
  return rows;
}

/** One extraction task per shard × chunk, in round-robin shard order so every shard starts early. */
async function planTasks(
  config: RunRequest['pipeline']['config'],
  prepared: PreparedSource,
  reading: RangeReading,
  stagingColumns: PreparedSource['columns'],
  loadPlan: LoadPlan,
  tempDir: string,
  tracker: ProgressTracker,
  request: RunRequest,
  signal: AbortSignal,
): Promise<ExtractTask[]> {
  const spoolDir = join(tempDir, 'spool');
  await mkdir(spoolDir);
  const byShard: ExtractTask[][] = [];
  for (const shard of prepared.source.shards) {
    const chunks = await planChunks(
      config,
      shard,
      prepared.source.adapter,
      prepared.source.relation,
      prepared.columns,
      signal,
    );
    for (const note of chunks.notes) request.logger.debug(note);
    const range = reading.ranges.find((r) => r.shard === shard.name);
    const where = rangeWhere(config, prepared, range, request.kind.kind);
    const flags = rangeFlags(config, prepared, range);
    byShard.push(
      chunks.chunks.map((chunk) => {
        const id = partId(shard.name, chunk.index);
        tracker.addPart(id, prepared.source.sharded ? shard.name : null, chunk.index, chunk.estimatedRows);
        const sql = prepared.source.adapter.buildSelect({
          relation: prepared.source.relation,
          columns: prepared.columns,
          where: [...where, ...chunk.where],
          flags,
        });
        return {
          id,
          shard: shard.name,
          hostKey: shard.hostKey,
          sql,
          columns: stagingColumns,
          spoolPath: join(spoolDir, id.replace('/', '-')),
          consumers: loadPlan.consumers(shard.name, id, range),
        };
      }),
    );
  }
  return interleave(byShard);
}

/** Opens the read sessions, runs the tasks (each loading as it extracts), closes the source. */
async function extract(
  deps: AttemptDeps,
  request: RunRequest,
  prepared: PreparedSource,
  tasks: readonly ExtractTask[],
  tracker: ProgressTracker,
  open: AttemptResources,
): Promise<number> {
  const { pipeline, signal } = request;
  const parallelism = pipeline.config.source.parallelism ?? deps.defaultParallelism;
  tracker.phase = 'extracting';
  const started = Date.now();
  await Promise.all(
    prepared.source.shards.map(async (shard) => {
      const count = tasks.filter((t) => t.shard === shard.name).length;
      const readers = Math.max(1, Math.min(count, parallelism));
      const session = await shard.driver.openReadSession(readers, signal);
      open.sessions.set(shard.name, session);
      if (session.readers < readers) {
        request.logger.notice(
          `shard ${shard.name}: reading ${count} chunks through ${session.readers} connection(s) instead of ${readers}, to keep one consistent snapshot`,
        );
      }
    }),
  );
  for (const [name, session] of open.sessions) {
    if (!session.consistent && tasks.filter((t) => t.shard === name).length > 1) {
      request.logger.warning(
        `shard ${name}: chunks are read without a shared snapshot (the source does not allow one)`,
      );
    }
  }
  open.totals = await extractAll(tasks, open.sessions, {
    parallelism,
    governor: deps.governor,
    signal,
    tracker,
    onWait: () => (tracker.phase = 'waiting'),
    consumerSlots: deps.consumerSlots,
  });
  request.logger.debug(`extracted and loaded in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  await closeSessions(open.sessions);
  await prepared.source.close();
  let rowsExtracted = 0;
  for (const totals of open.totals.values()) rowsExtracted += totals.rows;
  return rowsExtracted;
}

async function closeSessions(sessions: Map<string, ReadSession>): Promise<void> {
  const open = [...sessions.values()];
  sessions.clear();
  await Promise.allSettled(open.map((s) => s.close()));
}

function interleave<T>(lists: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++)
    for (const list of lists) if (list[i] !== undefined) out.push(list[i] as T);
  return out;
}
