/**
 * The configuration's problems as operators see them (`etlctl problems`, `info`): each file that
 * does not load, each pipeline running its last good version, connections.yaml's own problems,
 * and the loaded pipelines' warnings — from what the registry holds since the last load.
 */
import type { ConfigProblemEntry, DaemonInfo } from '../../shared/protocol.js';
import type { PipelineRegistry } from '../config/pipeline-registry.js';

export function configProblems(registry: PipelineRegistry): ConfigProblemEntry[] {
  const entries: ConfigProblemEntry[] = [];
  const connections = registry.connections;
  if (connections !== null && connections.problems.length > 0)
    entries.push({
      severity: 'error',
      pipeline: null,
      file: connections.file,
      effect: null,
      problems: [...connections.problems],
    });
  for (const broken of registry.invalid)
    entries.push({
      severity: 'error',
      pipeline: broken.name,
      file: broken.file,
      effect: registry.runsLastGood(broken.name) ? 'last_good' : 'not_running',
      problems: [...broken.problems],
    });
  for (const pipeline of registry.active) {
    const warnings = pipeline.warnings ?? [];
    if (warnings.length > 0)
      entries.push({
        severity: 'warning',
        pipeline: pipeline.name,
        file: pipeline.file,
        effect: 'running',
        problems: [...warnings],
      });
  }
  return entries;
}

/** `info`'s brief: counts, and the first problem of each pipeline running its last good version. */
export function configBrief(registry: PipelineRegistry): NonNullable<DaemonInfo['config']> {
  const entries = configProblems(registry);
  return {
    invalid_files: entries.filter((e) => e.severity === 'error' && e.effect !== 'last_good').length,
    warnings: entries.filter((e) => e.severity === 'warning').length,
    last_good: entries
      .filter((e) => e.effect === 'last_good')
      .map((e) => ({ pipeline: e.pipeline ?? '', problem: e.problems[0] ?? '' })),
  };
}
