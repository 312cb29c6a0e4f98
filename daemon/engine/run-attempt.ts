/**
 * One attempt of one run (RunEngine.execute): plan shards × chunks, extract in parallel while
 * staging into DuckDB (extractor.ts: parts stream through FIFOs), transform in DuckDB, commit to the destination with the run sequence,
 * then commit watermarks. The run's temp directory is removed in `finally`, always.
 *
 * Reconciliation: rows extracted must equal rows staged, per part (checked before the destination is
 * touched: a difference fails the run with RECONCILIATION_FAILED). After the commit, rows the
 * destination reports loaded are compared with what it should have loaded — the staged rows for
 * full/incremental, the distinct keys of the batch for merge — giving `match` or `mismatch`; a
 * mismatch is logged as an error and recorded but does not fail the run, because the data is
 * committed by then and a retry would find it already committed.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EtlError } from '../../shared/errors.js';
import type { ReadSession } from '../sources/source.js';
import type { StateStore } from '../state/store.js';
import type { RunOutcome, RunRequest, SourceGovernor } from './engine.js';
import { cancelledRun, extractAll, type ExtractTask } from './extractor.js';
import { planChunks } from './planner.js';
import { ProgressTracker } from './progress-tracker.js';
import { rangeWhere, readRanges, summarise } from './range-reader.js';
import { openDestination, prepareSource, staticChecks, type EngineDeps, type PreparedSource } from './run-setup.js';
import { FINAL_TABLE, Stager, rowIdentityExpression } from './stager.js';
import { commitPlannedWatermarks, findCommittedPlan } from './committed-plan.js';
import { usesWatermarks, type FinalWatermark, type PlanRecord, type ShardRange } from './watermarks.js';

export interface AttemptDeps extends EngineDeps {
  readonly store: StateStore;
  readonly governor: SourceGovernor;
  readonly tempRoot: string;
  readonly defaultParallelism: number;
  readonly now: () => Date;
  readonly stagingMemoryLimit: string;
  readonly stagingThreads: number;
}

/**
 * Parts staged while extracted, at most, per run: each holds a libuv pool thread (4 by default)
 * for its INSERT, and the spooled parts beyond these still need pool threads for file writes.
 */
const MAX_STREAMED_PARTS = 2;

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw cancelledRun('the run');
}

function partId(shard: string, chunk: number | null): string {
  return chunk === null ? shard : `${shard}/${chunk}`;
}

export async function executeAttempt(deps: AttemptDeps, request: RunRequest): Promise<RunOutcome> {
  const { pipeline, signal } = request;
  const config = pipeline.config;
  staticChecks(config);
  const tracker = new ProgressTracker(request.runId, deps.store, deps.now);
  const stopTicker = tracker.startTicker((snapshot) => request.onProgress(snapshot));
  const destination = await openDestination(config, deps, request.logger);
  let prepared: PreparedSource | undefined;
  let tempDir: string | undefined;
  let stager: Stager | undefined;
  const sessions = new Map<string, ReadSession>();
  try {
    throwIfAborted(signal);
    const committed = await destination.committedSequence(pipeline.name, signal);
    if (committed !== null && committed >= request.sequence) {
      return alreadyCommitted(deps, request, committed);
    }
    prepared = await prepareSource(config, deps, signal);
    const changes = await destination.planSchema(prepared.transforms.columns, config.schema_evolution, signal);
    for (const change of changes) request.logger.info(`schema: ${change.change} ${change.column}: ${change.detail}`);

    const ranges = await readRanges(config, prepared, deps.store.getWatermarks(pipeline.name), signal);
    const plan: PlanRecord = { version: 1, sequence: request.sequence, mode: config.load.mode, ranges, watermarks: null };
    deps.store.updateRun(request.runId, { planJson: JSON.stringify(plan) });

    tempDir = await mkdtemp(join(deps.tempRoot, `etld-run-${pipeline.name}-`));
    const spoolDir = join(tempDir, 'spool');
    await mkdir(spoolDir);
    stager = await Stager.open(tempDir, prepared.columns, { memoryLimit: deps.stagingMemoryLimit, threads: deps.stagingThreads });
    const staging = stager;
    const parallelism = config.source.parallelism ?? deps.defaultParallelism;
    const tasksByShard = new Map<string, ExtractTask[]>();
    for (const shard of prepared.source.shards) {
      const chunks = await planChunks(config, shard, prepared.source.adapter, prepared.source.relation, prepared.columns, signal);
      for (const note of chunks.notes) request.logger.debug(note);
      const range = rangeWhere(prepared, ranges.find((r) => r.shard === shard.name));
      const tasks = chunks.chunks.map((chunk) => {
        const id = partId(shard.name, chunk.index);
        tracker.addPart(id, prepared?.source.sharded === true ? shard.name : null, chunk.index, chunk.estimatedRows);
        const sql = prepared!.source.adapter.buildSelect({ relation: prepared!.source.relation, columns: prepared!.columns, where: [...range, ...chunk.where] });
        return { id, shard: shard.name, hostKey: shard.hostKey, sql, spoolPath: join(spoolDir, `${id.replace('/', '-')}.csv`) };
      });
      tasksByShard.set(shard.name, tasks);
    }

    tracker.phase = 'extracting';
    // Phase timings at debug level: where a slow run spends its time, without a profiler.
    let phaseStart = Date.now();
    const phaseDone = (what: string): void => {
      const now = Date.now();
      request.logger.debug(`${what} in ${((now - phaseStart) / 1000).toFixed(2)} s`);
      phaseStart = now;
    };
    await Promise.all(
      prepared.source.shards.map(async (shard) => {
        const readers = Math.max(1, Math.min(tasksByShard.get(shard.name)?.length ?? 1, parallelism));
        sessions.set(shard.name, await shard.driver.openReadSession(readers, signal));
      }),
    );
    for (const [name, session] of sessions) {
      if (!session.consistent && (tasksByShard.get(name)?.length ?? 0) > 1) {
        request.logger.warning(`shard ${name}: chunks are read without a shared snapshot (the source does not allow one)`);
      }
    }
    const interleaved = interleave([...tasksByShard.values()]);
    const totals = await extractAll(interleaved, sessions, prepared.columns, {
      parallelism,
      governor: deps.governor,
      signal,
      tracker,
      onWait: () => (tracker.phase = 'waiting'),
      stage: (task) => staging.loadPart(task.shard, task.id, task.spoolPath),
      maxStreams: MAX_STREAMED_PARTS,
    });
    tracker.phase = 'staging';
    phaseDone('extracted (and streamed into staging)');
    await closeSessions(sessions);
    await prepared.source.close();

    let rowsExtracted = 0;
    for (const task of interleaved) {
      const part = totals.get(task.id);
      const extracted = part?.rows ?? 0;
      const staged = part?.staged ?? (await stager.loadPart(task.shard, task.id, task.spoolPath));
      if (staged !== extracted) {
        throw new EtlError('RECONCILIATION_FAILED', `part ${task.id}: ${extracted} rows extracted but ${staged} rows staged; nothing was loaded`, {
          retryable: false,
        });
      }
      rowsExtracted += extracted;
    }
    throwIfAborted(signal);
    const watermarks = await nextWatermarks(request, prepared, stager, ranges);
    await stager.checkCasts(prepared.transforms);
    const loadedAt = deps.now();
    const meta = { runId: request.runId, pipeline: pipeline.name, loadedAt };
    let rowCount: number;
    let expected: number;
    if (config.load.mode === 'merge') {
      rowCount = await stager.buildFinal(prepared.transforms, meta);
      expected = await stager.distinctKeys(config.source.key ?? []);
      await stager.dropRaw();
    } else {
      rowCount = await stager.defineFinalView(prepared.transforms, meta);
      expected = rowCount;
    }
    deps.store.updateRun(request.runId, { planJson: JSON.stringify({ ...plan, watermarks }) });

    throwIfAborted(signal);
    phaseDone('staged, transformed and checked');
    tracker.phase = 'committing';
    const workDir = join(tempDir, 'destination');
    await mkdir(workDir);
    const result = await destination.commit({
      pipeline: pipeline.name,
      runId: request.runId,
      sequence: request.sequence,
      mode: config.load.mode,
      key: config.source.key,
      cursor: config.load.cursor,
      schemaEvolution: config.schema_evolution,
      batch: { connection: stager.connection, relation: FINAL_TABLE, columns: prepared.transforms.columns, rowCount, workDir },
      signal,
    });
    phaseDone(`committed to ${destination.label}`);
    if (result.alreadyCommitted) return alreadyCommitted(deps, request, request.sequence);
    if (usesWatermarks(config)) deps.store.commitWatermarks(pipeline.name, request.sequence, watermarks ?? []);
    else deps.store.setCommittedSequence(pipeline.name, request.sequence);

    const verdict = result.rowsLoaded === expected ? 'match' : 'mismatch';
    if (verdict === 'mismatch') {
      request.logger.error(`reconciliation mismatch: ${rowsExtracted} rows extracted, ${expected} expected in the destination, ${result.rowsLoaded} loaded`);
    }
    request.logger.info(`committed sequence ${request.sequence}: ${rowsExtracted} rows extracted, ${result.rowsLoaded} loaded (${verdict})`, {
      ...result.details,
    });
    return {
      rowsExtracted,
      rowsLoaded: result.rowsLoaded,
      bytes: tracker.bytes,
      verdict,
      alreadyCommitted: false,
      watermarkFrom: summarise(ranges, (r) => r.from),
      watermarkTo: summarise(ranges, (r) => r.to),
    };
  } catch (error) {
    if (signal.aborted && !(error instanceof EtlError && error.code === 'CANCELLED')) throw cancelledRun('the run');
    throw error;
  } finally {
    stopTicker();
    await closeSessions(sessions);
    if (prepared !== undefined) await prepared.source.close();
    stager?.close();
    await destination.close().catch((error: unknown) => request.logger.warning(`closing ${destination.label}: ${String(error)}`));
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  }
}

async function closeSessions(sessions: Map<string, ReadSession>): Promise<void> {
  const open = [...sessions.values()];
  sessions.clear();
  await Promise.allSettled(open.map((s) => s.close()));
}

/** Round-robin over shards so every shard starts early. */
function interleave<T>(lists: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const list of lists) if (list[i] !== undefined) out.push(list[i] as T);
  return out;
}

/**
 * Drops rows already loaded at each shard's watermark and computes the watermarks this run
 * commits: the high-water mark with the identities of the rows at it (joined with the old
 * boundary when the mark did not move). Null when the mode keeps no watermarks.
 */
async function nextWatermarks(
  request: RunRequest,
  prepared: PreparedSource,
  stager: Stager,
  ranges: readonly ShardRange[],
): Promise<FinalWatermark[] | null> {
  const cursor = prepared.cursor;
  if (!usesWatermarks(request.pipeline.config) || cursor === undefined) return null;
  const identity = rowIdentityExpression(prepared.columns, request.pipeline.config.source.key);
  const out: FinalWatermark[] = [];
  for (const range of ranges) {
    if (range.watermark !== null && range.boundary.length > 0) {
      const dropped = await stager.dropBoundary(range.shard, cursor, range.watermark, range.boundary, identity);
      if (dropped > 0) request.logger.debug(`shard ${range.shard}: ${dropped} rows at the watermark were already loaded`);
    }
    const keep = range.watermark === null ? null : { shard: range.shard, value: range.watermark, boundary: range.boundary };
    if (range.to === null) {
      if (keep !== null) out.push(keep);
      continue;
    }
    const base = range.watermark ?? range.from;
    const order = base === null ? 1 : await stager.compare(range.to, base, cursor.type);
    if (order < 0) {
      if (keep !== null) out.push(keep);
    } else if (order === 0 && range.watermark !== null) {
      const atMark = await stager.identitiesAt(range.shard, cursor, range.watermark, identity);
      out.push({ shard: range.shard, value: range.watermark, boundary: [...new Set([...range.boundary, ...atMark])].sort() });
    } else {
      out.push({ shard: range.shard, value: range.to, boundary: await stager.identitiesAt(range.shard, cursor, range.to, identity) });
    }
  }
  return out;
}

function alreadyCommitted(deps: AttemptDeps, request: RunRequest, committed: number): RunOutcome {
  const config = request.pipeline.config;
  const plan = findCommittedPlan(deps.store, request.pipeline.name, committed);
  commitPlannedWatermarks(deps.store, config, committed, plan);
  request.logger.notice(`sequence ${request.sequence} is already committed in the destination (committed: ${committed}); nothing written`);
  return {
    rowsExtracted: 0,
    rowsLoaded: 0,
    bytes: 0,
    verdict: 'already_committed',
    alreadyCommitted: true,
    watermarkFrom: plan === null ? null : summarise(plan.ranges, (r) => r.from),
    watermarkTo: plan === null ? null : summarise(plan.ranges, (r) => r.to),
  };
}
