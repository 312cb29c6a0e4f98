/**
 * The parts of one attempt (run-attempt.ts) that differ for a files source: the batch's files as
 * extraction tasks (one part per file, read by file-read-session.ts), the files the commit records
 * in the ledger, and the run's notes. Everything else — typing, transforms, checks, the
 * destination's two-phase load and exactly-once commit — is the database sources' path.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EtlError } from '../../shared/errors.js';
import type { PipelineConfig } from '../../shared/config/pipeline-schema.js';
import { parseTypeName, typeToString, type ColumnSchema, type RunKind } from '../../shared/types.js';
import type { ReadSession } from '../sources/source.js';
import type { StateStore } from '../state/store.js';
import { findCommittedPlan, recordPlannedFiles } from './committed-plan.js';
import type { RunOutcome, RunRequest, SourceGovernor } from './engine.js';
import { extractAll, type ExtractTask, type PartTotals } from './extractor.js';
import type { FileBatch, QuarantinedFile } from './file-batch.js';
import { FILES_SHARD, openFileReadSession, partStatement } from './file-read-session.js';
import type { LoadPlan } from './load-plan.js';
import type { ProgressTracker } from './progress-tracker.js';
import type { RangeReading } from './range-reader.js';
import { fileReadersFor } from './run-memory.js';
import type { PlanRecord } from './watermarks.js';

/** Which files a run of this kind takes: every matching one (full, full refresh) or the new ones. */
export function fileSelection(config: PipelineConfig, kind: RunKind): 'new' | 'all' {
  if (kind === 'backfill') {
    throw new EtlError(
      'CONFIG_INVALID',
      `pipeline ${config.name}: a files source has no cursor range to backfill; \`etlctl files forget\` makes files load again, \`start --full-refresh\` reloads every file`,
    );
  }
  return config.load.mode === 'full' || kind === 'full_refresh' ? 'all' : 'new';
}

/** The store's listing as the run's reading: no ranges, the plan's figures as notes. */
export function fileReading(batch: FileBatch): RangeReading {
  const { plan } = batch;
  const notes: string[] = [];
  const skipped = [
    plan.alreadyLoaded > 0 ? `${plan.alreadyLoaded} loaded before` : '',
    plan.quarantined > 0 ? `${plan.quarantined} quarantined before` : '',
    plan.changedIgnored > 0
      ? `${plan.changedIgnored} changed after loading, ignored (on_changed_file: ignore)`
      : '',
    plan.tooNew > 0 ? `${plan.tooNew} younger than min_age, left for a later run` : '',
  ].filter((part) => part !== '');
  notes.push(
    `files: ${plan.matched} of ${plan.listed} listed match ${batch.options.pattern}; ${plan.files.length} to load (${plan.bytes} bytes)` +
      (skipped.length > 0 ? `; ${skipped.join(', ')}` : ''),
  );
  if (plan.truncated)
    notes.push(
      `files: more new files than max_files_per_run (${batch.options.maxFilesPerRun}); the rest load in the next runs`,
    );
  const changed = plan.files.filter((f) => f.reason === 'changed').length;
  if (changed > 0)
    notes.push(`files: ${changed} changed after loading, loaded again (on_changed_file: reload)`);
  return { ranges: [], excluded: 0, notes };
}

/** Files a part reads at most, and bytes after which a part takes no further file. */
const PART_FILES = 200;
const PART_BYTES = 64 * 1024 * 1024;

/** Consecutive files (key order) grouped into parts of at most PART_FILES files or about PART_BYTES. */
export function groupFiles<T extends { readonly size: number }>(files: readonly T[]): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length > 0 && (current.length >= PART_FILES || bytes >= PART_BYTES)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** One part per group of files, in key order. */
export async function fileTasks(
  batch: FileBatch,
  stagingColumns: readonly ColumnSchema[],
  loadPlan: LoadPlan,
  tempDir: string,
  tracker: ProgressTracker,
): Promise<ExtractTask[]> {
  const spoolDir = join(tempDir, 'spool');
  await mkdir(spoolDir, { recursive: true });
  return groupFiles(batch.files).map((group, index) => {
    const id = `files-${index + 1}`;
    tracker.addPart(id, null, index, null);
    return {
      id,
      shard: FILES_SHARD,
      hostKey: `files:${batch.store.displayUrl}`,
      sql: partStatement(group.map((file) => file.key)),
      columns: stagingColumns,
      spoolPath: join(spoolDir, id),
      consumers: loadPlan.consumers(FILES_SHARD, id, undefined),
    };
  });
}

export interface FileExtractDeps {
  readonly governor: SourceGovernor;
  readonly defaultParallelism: number;
  readonly consumerSlots: number;
}

/** Reads every file of the batch into its consumers; returns the rows extracted and each part's totals. */
export async function extractFileParts(
  deps: FileExtractDeps,
  request: RunRequest,
  batch: FileBatch,
  tasks: readonly ExtractTask[],
  tracker: ProgressTracker,
  sessions: Map<string, ReadSession>,
  tempDir: string,
): Promise<{ rows: number; totals: Map<string, PartTotals> }> {
  const parallelism = request.pipeline.config.source.parallelism ?? deps.defaultParallelism;
  tracker.phase = 'extracting';
  const workDir = join(tempDir, 'file-csv');
  await mkdir(workDir, { recursive: true });
  const readers = Math.max(1, Math.min(tasks.length, fileReadersFor(batch.memoryLimit, parallelism)));
  sessions.set(FILES_SHARD, await openFileReadSession(batch, readers, workDir));
  const totals = await extractAll(tasks, sessions, {
    parallelism: readers,
    governor: deps.governor,
    signal: request.signal,
    tracker,
    onWait: () => (tracker.phase = 'waiting'),
    consumerSlots: deps.consumerSlots,
  });
  let rows = 0;
  for (const part of totals.values()) rows += part.rows;
  return { rows, totals };
}

function entry(
  file: { key: string; size: number; version: string; lastModified: Date },
  reason: string | null,
) {
  return {
    key: file.key,
    size: file.size,
    version: file.version,
    modifiedAt: file.lastModified.toISOString(),
    reason,
  };
}

/** The files the commit records: the batch's loaded files and its quarantined ones. */
export function plannedFiles(
  batch: FileBatch,
  request: RunRequest,
  config: PipelineConfig,
): NonNullable<PlanRecord['files']> {
  return {
    runId: request.runId,
    replaceLoaded: fileSelection(config, request.kind.kind) === 'all',
    loaded: batch.files.map((f) => entry(f, null)),
    quarantined: batch.quarantined.map((f: QuarantinedFile) => entry(f, f.reason)),
    columns: batch.columns.map((c) => ({ name: c.name, type: typeToString(c.type) })),
  };
}

export function fileNotes(batch: FileBatch): string[] {
  const notes = [`files: ${batch.files.length} loaded`];
  if (batch.quarantined.length > 0)
    notes.push(
      `files: ${batch.quarantined.length} quarantined (on_bad_file: skip): ${batch.quarantined
        .slice(0, 5)
        .map((f) => f.key)
        .join(', ')}${batch.quarantined.length > 5 ? ', …' : ''}`,
    );
  return notes;
}

/**
 * A files run with nothing to load (no new files, or every new one quarantined): nothing goes to
 * the destination; quarantined files are recorded in the ledger under the committed sequence.
 * A full load with no file fails instead: replacing the table with nothing is never what a
 * missing or emptied directory means.
 */
export function nothingToLoad(
  store: StateStore,
  request: RunRequest,
  batch: FileBatch,
  reading: RangeReading,
): RunOutcome {
  const config = request.pipeline.config;
  if (fileSelection(config, request.kind.kind) === 'all') {
    throw new EtlError(
      'SOURCE_DATA',
      `${batch.store.displayUrl}: no file to load matches ${batch.options.pattern}${batch.quarantined.length > 0 ? ` (${batch.quarantined.length} quarantined)` : ''}; a full load would empty the table, so it keeps its rows`,
    );
  }
  if (batch.quarantined.length > 0) {
    // Under the sequence already committed: nothing new reaches the destination.
    const committed = store.getRuntime(config.name).committedSequence;
    recordPlannedFiles(store, config.name, committed, plannedFiles(batch, request, config));
  }
  return {
    rowsExtracted: 0,
    rowsLoaded: 0,
    rowsExcluded: 0,
    bytes: 0,
    verdict: 'skipped',
    alreadyCommitted: false,
    watermarkFrom: null,
    watermarkTo: null,
    notes: [
      ...reading.notes,
      ...(batch.quarantined.length > 0 ? fileNotes(batch) : []),
      'files: nothing new to load',
    ],
    stages: {},
    checks: [],
    ...(batch.quarantined.length > 0 ? { quarantinedFiles: quarantinedSummary(batch) } : {}),
  };
}

export function quarantinedSummary(batch: FileBatch): readonly { key: string; reason: string }[] {
  return batch.quarantined.map((f) => ({ key: f.key, reason: f.reason }));
}

/** The source columns the pipeline's last committed files batch loaded (none before the first). */
export function previousFileColumns(store: StateStore, config: PipelineConfig): ColumnSchema[] {
  const committed = store.getRuntime(config.name).committedSequence;
  if (committed === 0) return [];
  const plan = findCommittedPlan(store, config.name, committed);
  return (plan?.files?.columns ?? []).map((column) => ({
    name: column.name,
    type: parseTypeName(column.type) ?? { kind: 'text' },
    nullable: true,
    sourceType: 'loaded before',
  }));
}
