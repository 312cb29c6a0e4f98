import { isDeepStrictEqual } from 'node:util';
import type {
  InvalidPipelineFile,
  LoadedPipeline,
  PipelineDirectory,
} from '../../shared/config/pipeline-files.js';

export type InvalidPipeline = InvalidPipelineFile;

export interface ReloadDiff {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
  readonly invalid: string[];
  /** Every problem of the files that did not load, and of connections.yaml. */
  readonly problems: string[];
  /** The warnings of the pipelines now loaded. */
  readonly warnings: string[];
}

/**
 * The pipelines the daemon runs. A file that breaks after it once loaded keeps its last good
 * version running (reported as a problem); a file that never loaded is listed as invalid.
 */
export class PipelineRegistry {
  #active = new Map<string, LoadedPipeline>();
  /** Problems per pipeline name (for files that are broken now, whether or not a good version runs). */
  #problems = new Map<string, InvalidPipeline>();
  #connections: PipelineDirectory['connections'] | null = null;

  get active(): readonly LoadedPipeline[] {
    return [...this.#active.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get invalid(): readonly InvalidPipeline[] {
    return [...this.#problems.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): LoadedPipeline | undefined {
    return this.#active.get(name);
  }

  problemsOf(name: string): readonly string[] {
    return this.#problems.get(name)?.problems ?? [];
  }

  /** Whether `name` runs the last good version of a file that is invalid now. */
  runsLastGood(name: string): boolean {
    const broken = this.#problems.get(name);
    return broken !== undefined && this.#active.get(name)?.file === broken.file;
  }

  /** connections.yaml and its own problems, as last read. */
  get connections(): PipelineDirectory['connections'] | null {
    return this.#connections;
  }

  /** Applies a fresh read of the pipelines directory and says what changed. */
  apply(directory: PipelineDirectory): ReloadDiff {
    const diff: ReloadDiff = {
      added: [],
      changed: [],
      removed: [],
      invalid: [],
      problems: [...directory.connections.problems],
      warnings: directory.valid.flatMap((p) => p.warnings ?? []),
    };
    const next = new Map<string, LoadedPipeline>();
    for (const pipeline of directory.valid) {
      const before = this.#active.get(pipeline.name);
      if (!before) diff.added.push(pipeline.name);
      else if (!isDeepStrictEqual(before.config, pipeline.config) || before.file !== pipeline.file)
        diff.changed.push(pipeline.name);
      next.set(pipeline.name, pipeline);
    }
    const problems = new Map<string, InvalidPipeline>();
    for (const broken of directory.invalid) {
      problems.set(broken.name, broken);
      diff.invalid.push(broken.name);
      diff.problems.push(...broken.problems);
      // Keep the last good version of a file that broke in an edit.
      const lastGood = this.#active.get(broken.name);
      if (lastGood && lastGood.file === broken.file && !next.has(broken.name))
        next.set(broken.name, lastGood);
    }
    for (const name of this.#active.keys()) if (!next.has(name)) diff.removed.push(name);
    this.#active = next;
    this.#problems = problems;
    this.#connections = directory.connections;
    return diff;
  }
}
