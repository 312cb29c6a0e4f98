/**
 * The daemon as the control socket sees it: every protocol method mapped onto the parts.
 * Throws EtlError with stable codes (NOT_FOUND for an unknown pipeline or run, ILLEGAL_STATE …).
 */
import { EtlError } from '../../shared/errors.js';
import type {
  AlertRecord,
  MethodParams,
  MethodResult,
  PipelineStats,
  Resources,
} from '../../shared/protocol.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { PIPELINE_STATES } from '../../shared/types.js';
import type { DaemonApi } from './api.js';
import { loadPipelineDirectory } from '../../shared/config/pipeline-files.js';
import type { PipelineRegistry } from '../config/pipeline-registry.js';
import type { Daemon } from '../daemon.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { RunEngine } from '../engine/engine.js';
import type { EventBus } from '../events/event-bus.js';
import type { DaemonPaths } from '../host/paths.js';
import type { LogReaderPort, SupervisorPort } from '../ports.js';
import { findRunAttempts, toRunDetail, toRunRecord } from '../scheduler/run-records.js';
import { watermarkCommand } from '../engine/watermark-operations.js';
import type { Logger } from '../logging/logger.js';
import type { AlertRow, StateStore } from '../state/store.js';
import { readPipelineFile } from './pipeline-file.js';

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

  list(): Promise<MethodResult<'list'>> {
    return Promise.resolve(this.#parts.supervisor.summaries());
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
    return Promise.resolve({
      ...summary,
      current_run: supervisor.currentRun(params.pipeline),
      stats: this.#parts.stats(params.pipeline),
      config: pipeline ? (JSON.parse(JSON.stringify(pipeline.config)) as Record<string, unknown>) : null,
      why: pipeline ? supervisor.why(params.pipeline).lines : [...registry.problemsOf(params.pipeline)],
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
    });
  }

  start(params: MethodParams<'start'>): Promise<MethodResult<'start'>> {
    this.#pipeline(params.pipeline);
    if (this.#parts.daemon().state !== 'running') {
      throw new EtlError('ILLEGAL_STATE', `the daemon is ${this.#parts.daemon().state}: no new runs`);
    }
    const { runId } = this.#parts.supervisor.trigger(params.pipeline, 'manual');
    return Promise.resolve({ run_id: runId, pipeline: params.pipeline });
  }

  stop(params: MethodParams<'stop'>): Promise<MethodResult<'stop'>> {
    this.#pipeline(params.pipeline);
    const result = this.#parts.supervisor.stop(params.pipeline);
    return Promise.resolve({ run_id: result.runId, stopped: result.stopped });
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
    const known =
      this.#parts.registry.get(params.pipeline) !== undefined ||
      this.#parts.registry.invalid.some((p) => p.name === params.pipeline) ||
      this.#parts.store.listRuns(params.pipeline, 1).length > 0;
    if (!known)
      throw new EtlError(
        'NOT_FOUND',
        `no pipeline named "${params.pipeline}" (etlctl list shows the pipelines)`,
      );
    return Promise.resolve(this.#parts.store.listRunAttempts(params.pipeline, params.limit).map(toRunRecord));
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
    if (params.pipeline !== undefined && !this.#parts.registry.get(params.pipeline))
      this.#pipeline(params.pipeline);
    const lines = await this.#parts.logReader.read(params);
    return { lines, following: params.follow };
  }

  async reload(): Promise<MethodResult<'reload'>> {
    return this.#parts.daemon().reload();
  }

  async validate(params: MethodParams<'validate'>): Promise<MethodResult<'validate'>> {
    const directory = await loadPipelineDirectory(this.#parts.paths.pipelinesDir);
    const problems = directory.invalid.flatMap((p) => p.problems);
    const valid: string[] = [];
    for (const pipeline of directory.valid) {
      // One source at a time: validation must not crowd the sources the running pipelines read.
      const found = params.sources ? await this.#parts.engine.validateAgainstSource(pipeline) : [];
      if (found.length === 0) valid.push(pipeline.name);
      problems.push(...found);
    }
    return { valid, problems };
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
    return this.#parts.engine.preview(this.#pipeline(params.pipeline), params.limit);
  }

  async watermark(params: MethodParams<'watermark'>): Promise<MethodResult<'watermark'>> {
    const pipeline = this.#pipeline(params.pipeline);
    const { store, engine, supervisor } = this.#parts;
    const result = await watermarkCommand(
      { store, engine, busy: (name) => supervisor.isBusy(name) },
      pipeline,
      params,
    );
    if (params.action !== 'show')
      this.#parts.logger.notice(`watermark ${params.action}: ${result.changes[0]?.detail ?? ''}`, {
        pipeline: pipeline.name,
      });
    return result;
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

  recent_runs(params: MethodParams<'recent_runs'>): Promise<MethodResult<'recent_runs'>> {
    return Promise.resolve(this.#parts.store.recentRunAttempts(params.limit).map(toRunRecord));
  }

  alerts(params: MethodParams<'alerts'>): Promise<MethodResult<'alerts'>> {
    const { store } = this.#parts;
    const rows =
      params.pipeline === undefined
        ? store.recentAlerts(params.limit)
        : store.listAlerts(params.pipeline, new Date(0).toISOString()).slice(0, params.limit);
    return Promise.resolve(rows.map(toAlertRecord));
  }
}
