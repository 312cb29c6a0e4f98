import type { Logger } from '../logging/logger.js';
import type { PipelineRegistry } from './pipeline-registry.js';

/**
 * Logs what the last load found wrong: each invalid file's problems (saying whether the last good
 * version keeps running), connections.yaml's own problems, and the loaded pipelines' warnings.
 */
export function logLoadProblems(registry: PipelineRegistry, logger: Logger): void {
  for (const problem of registry.connections?.problems ?? [])
    logger.error(`invalid connections file (its broken connections cannot be used): ${problem}`);
  for (const broken of registry.invalid) {
    const effect = registry.runsLastGood(broken.name) ? 'the last good version keeps running' : 'not loaded';
    for (const problem of broken.problems)
      logger.error(`invalid pipeline file (${effect}): ${problem}`, { pipeline: broken.name });
  }
  for (const pipeline of registry.active)
    for (const warning of pipeline.warnings ?? [])
      logger.warning(`pipeline file warning: ${warning}`, { pipeline: pipeline.name });
}
