/**
 * Names of a run's temp directories. A table of a multi-table pipeline runs under a state name
 * holding `/`, quotes and spaces (`shop/public."Order Items"`); a directory name keeps only what is
 * safe in a file name.
 */
import { join } from 'node:path';

/** `mkdtemp` prefix under `tempRoot` for work of `what` (run, plan, preview…) on `pipeline`. */
export function tempDirPrefix(tempRoot: string, what: string, pipeline: string): string {
  return join(tempRoot, `etld-${what}-${pipeline.replace(/[^A-Za-z0-9_.-]+/g, '_')}-`);
}
