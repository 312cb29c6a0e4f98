/**
 * How the daemon reads its pipelines, at start-up, on every reload, for `etlctl validate` and for
 * `etld --check-config`: the shared loader (shared/config/pipeline-files.ts) over the pipelines
 * directory and the connections.yaml beside it, given what only the daemon knows — which file
 * defined each pipeline before (its state store) and its own secrets (for the load warnings).
 */
import {
  loadPipelineDirectory,
  type LoadedPipeline,
  type PipelineDirectory,
} from '../../shared/config/pipeline-files.js';
import { secretProbe, type SecretEnvironment } from './secrets.js';

/** The record of which file defines each pipeline (the state store's `pipelines.file`). */
export interface PipelineFileRecord {
  pipelineFiles(): ReadonlyMap<string, string>;
  setPipelineFiles(pipelines: readonly { readonly name: string; readonly file: string }[]): void;
}

export interface PipelineLoaderOptions {
  readonly pipelinesDir: string;
  readonly record: PipelineFileRecord;
  readonly secrets: SecretEnvironment;
  /** The timezone of pipelines without one: `defaults.timezone`, else the host's. */
  readonly defaultTimezone: string;
  readonly now: () => Date;
}

export class PipelineLoader {
  readonly #o: PipelineLoaderOptions;

  constructor(options: PipelineLoaderOptions) {
    this.#o = options;
  }

  /** Reads the directory; a name several files claim stays with the file the record names. */
  load(): Promise<PipelineDirectory> {
    const { pipelinesDir, record, secrets, defaultTimezone, now } = this.#o;
    return loadPipelineDirectory(pipelinesDir, {
      owners: record.pipelineFiles(),
      checks: { now: now(), defaultTimezone, secrets: secretProbe(secrets) },
    });
  }

  /** Records the files of the pipelines now running, so they keep their names next time. */
  remember(active: readonly LoadedPipeline[]): void {
    this.#o.record.setPipelineFiles(active.map((p) => ({ name: p.name, file: p.file })));
  }
}
