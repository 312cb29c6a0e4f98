/**
 * `etlctl validate --sources`: what only the source can tell about a valid pipeline file. The
 * table is introspected as a run does (`prepareSource`: it exists, `columns:` and the transforms
 * name real columns), then the data quality checks are tried on an empty table of the batch's
 * columns and staging types, exactly as a run tries them before extracting: an unknown column,
 * SQL that does not bind or a bound of the wrong type is named now, not at the next run. Reads no
 * row and writes nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { bigQueryNameProblem } from '../../shared/column-names.js';
import { EtlError } from '../../shared/errors.js';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import { BatchChecks } from './quality-checks.js';
import type { PreviewDeps } from './run-preview.js';
import { prepareSource, type PreparedSource } from './run-setup.js';
import { FINAL_TABLE, Stager } from './stager.js';
import { tempDirPrefix } from './temp-names.js';

/** The problems found (none: the file fits its source), each naming the file. */
export async function validateAgainstSource(
  deps: PreviewDeps,
  pipeline: LoadedPipeline,
  signal?: AbortSignal,
): Promise<string[]> {
  let prepared: PreparedSource;
  try {
    prepared = await prepareSource(pipeline.config, deps, signal);
  } catch (error) {
    return [`${pipeline.file}: source: ${error instanceof Error ? error.message : String(error)}`];
  }
  try {
    const names = loadedNameProblems(pipeline, prepared);
    if (pipeline.config.checks.length === 0) return names;
    return [...names, ...(await tryChecks(deps, pipeline, prepared))];
  } finally {
    await prepared.source.close();
  }
}

/** Loaded column names the destination cannot take (BigQuery's charset under `column_names: keep`). */
function loadedNameProblems(pipeline: LoadedPipeline, prepared: PreparedSource): string[] {
  if (pipeline.config.destination.type !== 'bigquery') return [];
  return prepared.transforms.columns.flatMap((column) => {
    const problem = bigQueryNameProblem(column.name);
    return problem === undefined ? [] : [`${pipeline.file}: destination: ${problem}`];
  });
}

async function tryChecks(
  deps: PreviewDeps,
  pipeline: LoadedPipeline,
  prepared: PreparedSource,
): Promise<string[]> {
  const dir = await mkdtemp(tempDirPrefix(deps.tempRoot, 'validate', pipeline.name));
  let stager: Stager | undefined;
  try {
    stager = await Stager.open(dir, prepared.columns, { memoryLimit: deps.stagingMemoryLimit, threads: 1 });
    const columns = prepared.transforms.columns;
    await stager.createFinal(columns);
    await new BatchChecks(pipeline.config.checks, columns, prepared.transforms.loadedName).prepare(
      stager.connection,
      FINAL_TABLE,
      false,
    );
    return [];
  } catch (error) {
    if (error instanceof EtlError && error.code === 'CHECK_INVALID')
      return [`${pipeline.file}: ${error.message}`];
    throw error;
  } finally {
    stager?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
