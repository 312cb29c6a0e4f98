import { EtlError } from '../shared/errors.js';
import type { MethodResult } from '../shared/protocol.js';
import { resolveTablePath } from './destinations/delta/delta-paths.js';
import type { LoadedPipeline } from '../shared/config/pipeline-files.js';

/**
 * `etlctl vacuum <pipeline>`: removes data files no snapshot references any more (orphans of failed
 * or cancelled runs, files removed by overwrites) once they are older than the retention period.
 * Only Delta tables keep such files; the other destinations delete inside their own transactions.
 */
export async function vacuumPipeline(
  pipeline: LoadedPipeline,
  options: { readonly lakeDir: string; readonly dryRun: boolean; readonly now: Date },
): Promise<MethodResult<'vacuum'>> {
  const destination = pipeline.config.destination;
  if (destination.type !== 'delta') {
    throw new EtlError(
      'ILLEGAL_STATE',
      `vacuum applies to Delta destinations; ${pipeline.name} loads into ${destination.type}, which leaves no unreferenced files`,
    );
  }
  // Vacuum reads checkpoints with DuckDB: imported on the first vacuum, not by every idle daemon.
  const { vacuumDeltaTable } = await import('./destinations/delta/delta-vacuum.js');
  const result = await vacuumDeltaTable(resolveTablePath(destination.path, options.lakeDir), {
    dryRun: options.dryRun,
    now: options.now.getTime(),
  });
  return { files: result.files, bytes: result.bytes };
}
