/**
 * The daemon as the control socket sees it: every protocol method mapped onto the parts.
 * Throws EtlError with stable codes (NOT_FOUND for an unknown pipeline or run, ILLEGAL_STATE …).
 */
import { EtlError } from '../../shared/errors.js';
import { DAEMON_LOG_DIR } from '../../shared/logs/log-files.js';
import type {
  AlertRecord,
  MethodParams,
  MethodResult,
  PipelineStats,
  PipelineSummary,
  Resources,
} from '../../shared/protocol.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { PIPELINE_STATES } from '../../shared/types.js';
import { describeCaller, type Caller, type DaemonApi } from './api.js';
import type { PipelineLoader } from '../config/pipeline-loader.js';
import type { PipelineRegistry } from '../config/pipeline-registry.js';
import { configBrief, configProblems } from './config-problems.js';
import type { Daemon } from '../daemon.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { RunEngine } from '../engine/engine.js';
import type { EventBus } from '../events/event-bus.js';
import type { DaemonPaths } from '../../shared/paths.js';
import type { LogReaderPort, SupervisorPort } from '../ports.js';
import { findRunAttempts, toRunDetail, toRunRecord } from '../scheduler/run-records.js';
import { runTablesOf, tableStateName } from './table-commands.js';
import { fleetHosts, withRunHosts } from './fleet-commands.js';
import type { FleetCoordinator } from '../fleet/coordinator.js';
import type { StopForwarder } from '../fleet/fleet-control.js';
import { toStateChange, watermarkCommand } from '../engine/watermark-operations.js';
import type { RunOrder } from '../scheduler/run-sequence.js';
import type { Logger } from '../logging/logger.js';
import type { AlertRow, StateStore } from '../state/store.js';
import { findRunsInSteps } from '../state/run-listing.js';
import { readPipelineFile } from './pipeline-file.js';
import { fileLedgerPage, forgetLedgerFiles, forgetNotice } from './file-ledger-commands.js';

function toAlertRecord(row: AlertRow): AlertRecord {
  return {
    id: row.id,
    pipeline: row.pipeline,
    kind: row.kind,
    run_id: row.runId,
    created_at: row.createdAt,
    status: row.status,
    recipients: row.recipients,
    subject: row.subject,
    detail: row.detail,
  };
}

export interface DaemonApiParts {
  readonly daemon: () => Daemon;
  readonly events: EventBus;
  readonly paths: DaemonPaths;
  readonly registry: PipelineRegistry;
  readonly loader: PipelineLoader;
  readonly supervisor: SupervisorPort;
  readonly store: StateStore;
  readonly engine: RunEngine;
  readonly logReader: LogReaderPort;
  readonly latestResources: () => Resources | null;
  readonly stats: (pipeline: string) => PipelineStats;
  readonly vacuum: (pipeline: LoadedPipeline, dryRun: boolean) => Promise<MethodResult<'vacuum'>>;
  readonly identity: { readonly version: string; readonly host: string; readonly pid: number };
  readonly now: () => Date;
  readonly logger: Logger;
  /** The fleet this daemon belongs to (a host alone is a fleet of one): `hosts`, and who runs what. */
  readonly fleet: FleetCoordinator;
  /** Fleet mode: sends a stop to the host running the pipeline (absent with a host alone). */
  readonly forwarder?: StopForwarder;
}

export class DaemonApiImpl implements DaemonApi {
  readonly events: EventBus;
  readonly #parts: DaemonApiParts;

  constructor(parts: DaemonApiParts) {
    this.#parts = parts;
    this.events = parts.events;
  }

  #pipeline(name: string): LoadedPipeline {
    const pipeline = this.#parts.registry.get(name);
    if (pipeline) return pipeline;
    const broken = this.#parts.registry.invalid.find((p) => p.name === name);
    if (broken) {
      throw new EtlError('CONFIG_INVALID', `pipeline ${name} is invalid: ${broken.problems.join('; ')}`);
    }
    throw new EtlError('NOT_FOUND', `no pipeline named "${name}" (etlctl list shows the pipelines)`);
  }

  /** A pipeline that is, or was, known: a valid or invalid file, or runs in the history. */
  #known(name: string): void {
    const known =
      this.#parts.registry.get(name) !== undefined ||
      this.#parts.registry.invalid.some((p) => p.name === name) ||
      this.#parts.store.listRuns(name, 1).length > 0;
    if (!known)
      throw new EtlError('NOT_FOUND', `no pipeline named "${name}" (etlctl list shows the pipelines)`);
  }

  #refuseUnlessRunning(): void {
    if (this.#parts.daemon().state !== 'running') {
      throw new EtlError('ILLEGAL_STATE', `the daemon is ${this.#parts.daemon().state}: no new runs`);
    }
  }

  #watermarks(pipeline: string): MethodResult<'status'>['watermarks'] {
    return this.#parts.store.getWatermarks(pipeline).map((w) => ({
      shard: w.shard,
      value: w.value,
      sequence: w.sequence,
      updated_at: w.updatedAt,
    }));
  }

  /** The summaries with the host running each one's current run. */
  #withHosts(summaries: readonly PipelineSummary[]): PipelineSummary[] {
    const { supervisor, fleet } = this.#parts;
    return withRunHosts(summaries, fleet, (name) => supervisor.isBusy(name));
  }

  list(): Promise<MethodResult<'list'>> {
    return Promise.resolve(this.#withHosts(this.#parts.supervisor.summaries()));
  }

  hosts(): Promise<MethodResult<'hosts'>> {
    return Promise.resolve(fleetHosts(this.#parts.fleet));
  }

  status(params: MethodParams<'status'>): Promise<MethodResult<'status'>> {
    const { supervisor, registry } = this.#parts;
    const summary = supervisor.summaries().find((s) => s.name === params.pipeline);
    if (!summary)
      throw new EtlError(
        'NOT_FOUND',
        `no pipeline named "${params.pipeline}" (etlctl list shows the pipelines)`,
      );
    const pipeline = registry.get(params.pipeline);
    const [withHost] = this.#withHosts([summary]);
    return Promise.resolve({
      ...(withHost ?? summary),
      current_run: supervisor.currentRun(params.pipeline),
      stats: this.#parts.stats(params.pipeline),
      config: pipeline ? (JSON.parse(JSON.stringify(pipeline.config)) as Record<string, unknown>) : null,
      why: pipeline ? supervisor.why(params.pipeline).lines : [...registry.problemsOf(params.pipeline)],
      watermarks: this.#watermarks(params.pipeline),
    });
  }

  info(): Promise<MethodResult<'info'>> {
    const daemon = this.#parts.daemon();
    const counts: Record<string, number> = Object.fromEntries(PIPELINE_STATES.map((s) => [s, 0]));
    for (const summary of this.#parts.supervisor.summaries())
      counts[summary.state] = (counts[summary.state] ?? 0) + 1;
    const now = this.#parts.now();
    return Promise.resolve({
      version: this.#parts.identity.version,
      protocol: PROTOCOL_VERSION,
      host: this.#parts.identity.host,
      pid: this.#parts.identity.pid,
      started_at: daemon.startedAt.toISOString(),
      uptime_s: Math.round((now.getTime() - daemon.startedAt.getTime()) / 1000),
      state: daemon.state,
      home: this.#parts.paths.home,
      pipelines: counts,
      resources: this.#parts.latestResources(),
      config: configBrief(this.#parts.registry),
      watermarks: this.#parts.registry.active.flatMap((p) =>
        this.#watermarks(p.name).map((w) => ({ pipeline: p.name, ...w })),
      ),
    });
  }

  start(params: MethodParams<'start'>, caller: Caller): Promise<MethodResult<'start'>> {
    this.#pipeline(params.pipeline);
    this.#refuseUnlessRunning();
    const requestedBy = describeCaller(caller);
    const order: RunOrder = {
      run: params.full_refresh ? { kind: 'full_refresh' } : { kind: 'normal' },
      requestedBy,
    };
    const { runId } = this.#parts.supervisor.trigger(params.pipeline, 'manual', order);
    if (params.full_refresh)
      this.#parts.logger.notice(`full refresh ${runId} requested by ${requestedBy}`, {
        pipeline: params.pipeline,
      });
    return Promise.resolve({ run_id: runId, pipeline: params.pipeline, kind: order.run.kind });
  }

  async backfill(params: MethodParams<'backfill'>, caller: Caller): Promise<MethodResult<'backfill'>> {
    const pipeline = this.#pipeline(params.pipeline);
    this.#refuseUnlessRunning();
    // Checked first, before the source is asked anything: it is the likeliest refusal.
    if (this.#parts.supervisor.isBusy(pipeline.name)) {
      throw new EtlError(
        'ILLEGAL_STATE',
        `pipeline ${pipeline.name} has a run in progress; wait for it (etlctl wait ${pipeline.name}), then backfill`,
      );
    }
    const range = await this.#parts.engine.checkBackfill(pipeline, {
      from: params.from,
      to: params.to,
      shard: params.shard ?? null,
    });
    const requestedBy = describeCaller(caller);
    const { runId } = this.#parts.supervisor.trigger(pipeline.name, 'manual', {
      run: { kind: 'backfill', range },
      requestedBy,
    });
    this.#parts.logger.notice(
      `backfill ${runId} of [${range.from}, ${range.to})${range.shard === null ? '' : ` on shard ${range.shard}`} requested by ${requestedBy}`,
      { pipeline: pipeline.name },
    );
    return { run_id: runId, pipeline: pipeline.name, from: range.from, to: range.to, shard: range.shard };
  }

  async stop(params: MethodParams<'stop'>, caller: Caller): Promise<MethodResult<'stop'>> {
    this.#pipeline(params.pipeline);
    const { supervisor, fleet, forwarder } = this.#parts;
    const requestedBy = describeCaller(caller);
    // Always stopped here first: that also drops a fire queued on this host.
    const local = supervisor.stop(params.pipeline, requestedBy);
    if (local.runId !== null || forwarder === undefined || !fleet.shared)
      return { run_id: local.runId, stopped: local.stopped };
    // Nothing runs here: in a fleet the run may be on the host holding the pipeline's run lease.
    const holder = fleet.leaseHolder(params.pipeline);
    if (holder === null || holder === fleet.host) return { run_id: null, stopped: false };
    const remote = await forwarder.forwardStop(holder, params.pipeline, requestedBy);
    return { run_id: remote.run_id, stopped: remote.stopped, forwarded_to: holder };
  }

  pause(params: MethodParams<'pause'>): Promise<MethodResult<'pause'>> {
    this.#pipeline(params.pipeline);
    this.#parts.supervisor.pause(params.pipeline);
    return Promise.resolve({ pipeline: params.pipeline, paused: true });
  }

  resume(params: MethodParams<'resume'>): Promise<MethodResult<'resume'>> {
    this.#pipeline(params.pipeline);
    this.#parts.supervisor.resume(params.pipeline);
    return Promise.resolve({ pipeline: params.pipeline, paused: false });
  }

  history(params: MethodParams<'history'>): Promise<MethodResult<'history'>> {
    this.#known(params.pipeline);
    const { table, ...rest } = params;
    // A table's runs are the runs of its state name (its own sequences).
    const pipeline =
      table === undefined ? rest.pipeline : tableStateName(this.#parts.store, rest.pipeline, table);
    return this.runs({ ...rest, pipeline, invert_text: false });
  }

  tables(params: MethodParams<'tables'>): Promise<MethodResult<'tables'>> {
    this.#known(params.pipeline);
    return Promise.resolve(runTablesOf(this.#parts.store, params.pipeline, params.sequence));
  }

  async runs(params: MethodParams<'runs'>): Promise<MethodResult<'runs'>> {
    const found = await findRunsInSteps(this.#parts.store, {
      limit: params.limit,
      ...(params.pipeline === undefined ? {} : { pipeline: params.pipeline }),
      ...(params.status === undefined ? {} : { statuses: params.status }),
      ...(params.since === undefined ? {} : { since: new Date(params.since).toISOString() }),
      ...(params.before === undefined ? {} : { before: this.#runKey(params.before) }),
      ...(params.text === undefined ? {} : { text: { text: params.text, invert: params.invert_text } }),
    });
    return found.map(toRunRecord);
  }

  /** The run a page ends with, for the next page; a run id the store does not know is refused. */
  #runKey(runId: string): { pipeline: string; sequence: number } {
    const first = findRunAttempts(this.#parts.store, runId)[0];
    if (first === undefined)
      throw new EtlError('NOT_FOUND', `no run with id "${runId}" to list the runs before it`);
    return { pipeline: first.pipeline, sequence: first.sequence };
  }

  changes(params: MethodParams<'changes'>): Promise<MethodResult<'changes'>> {
    this.#known(params.pipeline);
    const since = params.since === undefined ? undefined : new Date(params.since).toISOString();
    return Promise.resolve(
      this.#parts.store.listStateChanges(params.pipeline, params.limit, since).map(toStateChange),
    );
  }

  run(params: MethodParams<'run'>): Promise<MethodResult<'run'>> {
    const attempts = findRunAttempts(this.#parts.store, params.run_id);
    const last = attempts.at(-1);
    if (last === undefined)
      throw new EtlError(
        'NOT_FOUND',
        `no run with id "${params.run_id}" (etlctl history <pipeline> lists run ids)`,
      );
    return Promise.resolve(toRunDetail(attempts, this.#parts.store.listParts(last.id)));
  }

  async logs(params: MethodParams<'logs'>): Promise<MethodResult<'logs'>> {
    // `etld` names the daemon's own lines (its log directory), not a pipeline.
    if (
      params.pipeline !== undefined &&
      params.pipeline !== DAEMON_LOG_DIR &&
      !this.#parts.registry.get(params.pipeline)
    )
      this.#pipeline(params.pipeline);
    const lines = await this.#parts.logReader.read(params);
    return { lines, following: params.follow };
  }

  async reload(): Promise<MethodResult<'reload'>> {
    return this.#parts.daemon().reload();
  }

  async validate(params: MethodParams<'validate'>): Promise<MethodResult<'validate'>> {
    // The files as they are now (not as last reloaded), read the way a reload would read them.
    const directory = await this.#parts.loader.load();
    const problems = [...directory.connections.problems, ...directory.invalid.flatMap((p) => p.problems)];
    const warnings = directory.valid.flatMap((p) => p.warnings ?? []);
    const valid: string[] = [];
    for (const pipeline of directory.valid) {
      // One source at a time: validation must not crowd the sources the running pipelines read.
      const found = params.sources ? await this.#parts.engine.validateAgainstSource(pipeline) : [];
      if (found.length === 0) valid.push(pipeline.name);
      problems.push(...found);
    }
    return { valid, problems, warnings };
  }

  problems(): Promise<MethodResult<'problems'>> {
    return Promise.resolve(configProblems(this.#parts.registry));
  }

  why(params: MethodParams<'why'>): Promise<MethodResult<'why'>> {
    const { registry, supervisor } = this.#parts;
    if (!registry.get(params.pipeline)) {
      const broken = registry.invalid.find((p) => p.name === params.pipeline);
      if (!broken)
        throw new EtlError(
          'NOT_FOUND',
          `no pipeline named "${params.pipeline}" (etlctl list shows the pipelines)`,
        );
      return Promise.resolve({
        pipeline: params.pipeline,
        next_run_at: null,
        lines: ['it does not run: its file is invalid', ...broken.problems],
      });
    }
    const answer = supervisor.why(params.pipeline);
    const problems = registry.problemsOf(params.pipeline);
    const lines =
      problems.length > 0
        ? [
            ...answer.lines,
            'its file has errors since the last reload; the last good version keeps running:',
            ...problems,
          ]
        : answer.lines;
    return Promise.resolve({ pipeline: params.pipeline, next_run_at: answer.next_run_at, lines });
  }

  plan(params: MethodParams<'plan'>): Promise<MethodResult<'plan'>> {
    return this.#parts.engine.plan(this.#pipeline(params.pipeline));
  }

  preview(params: MethodParams<'preview'>): Promise<MethodResult<'preview'>> {
    return this.#parts.engine.preview(this.#pipeline(params.pipeline), params.limit, undefined, params.table);
  }

  async watermark(params: MethodParams<'watermark'>, caller: Caller): Promise<MethodResult<'watermark'>> {
    const pipeline = this.#pipeline(params.pipeline);
    const { store, engine, supervisor } = this.#parts;
    const actor = describeCaller(caller);
    if (params.action === 'show') return watermarkCommand({ store, engine }, pipeline, params, actor);
    // No run starts while the position changes, and none may be running (refused, not queued).
    const release = supervisor.hold(pipeline.name, 'watermark');
    try {
      const result = await watermarkCommand({ store, engine }, pipeline, params, actor);
      this.#parts.logger.notice(
        `watermark ${params.action} by ${actor}: ${result.changes[0]?.detail ?? ''}`,
        {
          pipeline: pipeline.name,
        },
      );
      return result;
    } finally {
      release();
    }
  }

  files(params: MethodParams<'files'>): Promise<MethodResult<'files'>> {
    // A pipeline removed from the configuration keeps its ledger, and its runs make it known.
    this.#known(params.pipeline);
    return Promise.resolve(fileLedgerPage(this.#parts.store, params));
  }

  files_pending(params: MethodParams<'files_pending'>): Promise<MethodResult<'files_pending'>> {
    return this.#parts.engine.pendingFiles(this.#pipeline(params.pipeline), params.limit);
  }

  files_forget(params: MethodParams<'files_forget'>, caller: Caller): Promise<MethodResult<'files_forget'>> {
    const pipeline = this.#pipeline(params.pipeline);
    // As for a watermark change: refused while a run is active (it may be committing these very
    // files), and no run starts until the entries are gone.
    const release = this.#parts.supervisor.hold(pipeline.name, 'file ledger');
    try {
      const result = forgetLedgerFiles(this.#parts.store, params);
      this.#parts.logger.notice(forgetNotice(result, params, describeCaller(caller)), {
        pipeline: pipeline.name,
      });
      return Promise.resolve(result);
    } finally {
      release();
    }
  }

  vacuum(params: MethodParams<'vacuum'>): Promise<MethodResult<'vacuum'>> {
    return this.#parts.vacuum(this.#pipeline(params.pipeline), params.dry_run);
  }

  pipeline_file(params: MethodParams<'pipeline_file'>): Promise<MethodResult<'pipeline_file'>> {
    // Invalid pipelines too: their file is what the operator needs to see.
    const summary = this.#parts.supervisor.summaries().find((s) => s.name === params.pipeline);
    if (!summary)
      throw new EtlError(
        'NOT_FOUND',
        `no pipeline named "${params.pipeline}" (etlctl list shows the pipelines)`,
      );
    return readPipelineFile(summary.name, summary.file);
  }

  alerts(params: MethodParams<'alerts'>): Promise<MethodResult<'alerts'>> {
    const rows = this.#parts.store.findAlerts({
      limit: params.limit,
      ...(params.pipeline === undefined ? {} : { pipeline: params.pipeline }),
      ...(params.before === undefined ? {} : { beforeId: params.before }),
      ...(params.text === undefined ? {} : { text: { text: params.text, invert: params.invert_text } }),
    });
    return Promise.resolve(rows.map(toAlertRecord));
  }

  /** `etlctl test`: a valid pipeline's source and destination checked, no row moved (connection-test.ts). */
  test(params: MethodParams<'test'>): Promise<MethodResult<'test'>> {
    return this.#parts.engine.testConnections(this.#pipeline(params.pipeline));
  }
}
