/**
 * What the daemon core needs of its parts, as interfaces: the composition root (`compose.ts`)
 * plugs in the real scheduler, control server, resource monitor and log reader; lifecycle tests
 * can plug in small doubles.
 */
import type {
  MethodParams,
  MethodResult,
  PipelineSummary,
  Resources,
  RunDetail,
} from '../shared/protocol.js';
import type { LoadedPipeline } from '../shared/config/pipeline-files.js';
import type { RunOrder } from './scheduler/run-sequence.js';

export interface SupervisorPort {
  setPipelines(
    valid: readonly LoadedPipeline[],
    invalid: readonly { name: string; file: string; problems: readonly string[] }[],
  ): void;
  start(): void;
  /** Starts a run now (a normal one, a full refresh or a backfill); ILLEGAL_STATE while one is active. */
  trigger(name: string, trigger: 'manual', order?: RunOrder): { runId: string };
  /**
   * Keeps runs of the pipeline from starting while an operator changes its `what` (watermark);
   * ILLEGAL_STATE while a run is active. Returns the release.
   */
  hold(name: string, what: string): () => void;
  /** Cancels the active run of the pipeline; `requestedBy` names the operator in the log. */
  stop(name: string, requestedBy?: string): { runId: string | null; stopped: boolean };
  pause(name: string): void;
  resume(name: string): void;
  why(name: string): { next_run_at: string | null; lines: string[] };
  summaries(): PipelineSummary[];
  currentRun(name: string): RunDetail | null;
  /** A run of the pipeline is running or waiting to retry. */
  isBusy(name: string): boolean;
  /** Stops firing, waits up to `graceMs` for active runs, then cancels them; resolves when all settled. */
  drain(graceMs: number): Promise<void>;
}

export interface ControlServerPort {
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface ResourceMonitorPort {
  sample(): Promise<Resources>;
  start(onSample: (resources: Resources) => void): void;
  stop(): void;
}

export interface LogReaderPort {
  read(params: MethodParams<'logs'>): Promise<MethodResult<'logs'>['lines']>;
}
