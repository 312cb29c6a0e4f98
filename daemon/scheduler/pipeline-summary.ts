/** The `list`/`status` view of one pipeline (PipelineSummary in shared/protocol.ts). */
import type { Schedule } from '../../shared/config/schedule.js';
import type { PipelineFreshness, PipelineSummary } from '../../shared/protocol.js';
import type { PipelineState } from '../../shared/types.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { RunRecord } from '../../shared/protocol.js';
import { describeDestination, describeSchedule, describeSource } from './pipeline-text.js';
import type { RunSequence } from './run-sequence.js';

export interface SummaryInput {
  readonly pipeline: LoadedPipeline;
  readonly schedule: Schedule;
  readonly zone: string;
  readonly active: RunSequence | null;
  readonly paused: boolean;
  readonly nextRunAt: string | null;
  readonly lastRun: RunRecord | null;
  readonly freshness?: PipelineFreshness | null;
  /** The problems of its file when it is invalid now and this (its last good version) keeps running. */
  readonly lastGoodProblems?: readonly string[];
}

export function pipelineSummary(input: SummaryInput): PipelineSummary {
  const { pipeline, schedule, zone, lastRun } = input;
  const config = pipeline.config;
  return {
    name: pipeline.name,
    state: pipelineState(input.active, input.paused, lastRun),
    paused: input.paused,
    schedule: schedule.kind === 'manual' ? null : schedule.text,
    schedule_human: describeSchedule(schedule, zone),
    timezone: zone,
    next_run_at: input.nextRunAt,
    last_run: lastRun,
    description: config.description ?? null,
    source: describeSource(config),
    destination: describeDestination(config),
    mode: config.load.mode,
    file: pipeline.file,
    problems: [...(input.lastGoodProblems ?? [])],
    file_status: (input.lastGoodProblems ?? []).length > 0 ? 'last_good' : 'ok',
    warnings: [...(pipeline.warnings ?? [])],
    freshness: input.freshness ?? null,
  };
}

export function invalidSummary(
  broken: { readonly name: string; readonly file: string; readonly problems: readonly string[] },
  paused: boolean,
  lastRun: RunRecord | null,
  timezone: string,
): PipelineSummary {
  return {
    name: broken.name,
    state: 'invalid',
    paused,
    schedule: null,
    schedule_human: null,
    timezone,
    next_run_at: null,
    last_run: lastRun,
    description: null,
    source: null,
    destination: null,
    mode: null,
    file: broken.file,
    problems: [...broken.problems],
    file_status: 'invalid',
    warnings: [],
    freshness: null,
  };
}

/** `waiting`: the run is queued behind the per-source governor. */
function pipelineState(
  active: RunSequence | null,
  paused: boolean,
  lastRun: RunRecord | null,
): PipelineState {
  if (active && active.phase === 'running')
    return active.progress?.phase === 'waiting' ? 'waiting' : 'running';
  if (active && active.phase === 'retrying') return 'retrying';
  // No run here, but an unfinished newest run: in a fleet, another host is running it.
  if (lastRun?.status === 'running' || lastRun?.status === 'queued') return 'running';
  if (lastRun?.status === 'retrying') return 'retrying';
  if (paused) return 'paused';
  if (lastRun?.status === 'failed') return 'failed';
  return 'idle';
}
