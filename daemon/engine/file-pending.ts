/**
 * `etlctl files PIPELINE --pending`: the files a `files` source's next run would take, from the
 * store's listing compared with the file ledger, writing nothing (no ledger entry, no download).
 *
 * Decisions:
 * - The listing is planned as a run plans it (file-listing.ts), with the pipeline's pattern,
 *   `min_age` and selection (every file in full mode), so what is shown is what a run would see.
 * - Changed files are always listed (`reload` to the planner) and marked `changed`, with the
 *   pipeline's own `on_changed_file` beside them: under `fail` the planner would throw at the
 *   first one, and under `ignore` they would vanish, yet an operator asking what is pending most
 *   needs to see exactly those.
 * - `limit` replaces `max_files_per_run`: the operator asks how far to look, not what one run
 *   takes; listing stops at the first file past the limit (`truncated`), so memory stays bounded.
 * - Nothing here imports DuckDB: listing a store needs none.
 */
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import { fileSourceOptions } from '../../shared/config/files-source-schema.js';
import { EtlError } from '../../shared/errors.js';
import type { PendingFiles } from '../../shared/protocol-files.js';
import type { SecretEnvironment } from '../config/secrets.js';
import { compileGlob } from '../sources/files/file-glob.js';
import { planFiles } from '../sources/files/file-listing.js';
import type { StateStore } from '../state/store.js';
import { openObjectStore } from '../storage/open-store.js';

export interface PendingFilesDeps {
  readonly store: Pick<StateStore, 'lookupSourceFiles'>;
  readonly secrets?: SecretEnvironment;
  readonly now: () => Date;
}

/** Lists the files the pipeline's next run would take (at most `limit`), writing nothing. */
export async function pendingFiles(
  deps: PendingFilesDeps,
  pipeline: LoadedPipeline,
  limit: number,
  signal?: AbortSignal,
): Promise<PendingFiles> {
  const config = pipeline.config;
  if (config.source.type !== 'files') {
    throw new EtlError(
      'USAGE',
      `pipeline ${pipeline.name} has no files source (it reads ${config.source.type}): only a files source has pending files`,
    );
  }
  const options = fileSourceOptions(config.source);
  const store = await openObjectStore(options.url, config.source.storage, {
    baseDir: '/',
    secrets: deps.secrets ?? { env: {}, credentialsDirectory: undefined },
  });
  try {
    const plan = await planFiles({
      store,
      glob: compileGlob(options.pattern),
      lookup: (keys) => deps.store.lookupSourceFiles(pipeline.name, keys),
      onChangedFile: 'reload',
      maxFiles: limit,
      minAgeMs: options.minAgeMs,
      now: deps.now(),
      select: config.load.mode === 'full' ? 'all' : 'new',
      ...(signal === undefined ? {} : { signal }),
    });
    return {
      pipeline: pipeline.name,
      files: plan.files.map((file) => ({
        key: file.key,
        size: file.size,
        modified_at: file.lastModified.toISOString(),
        reason: file.reason,
      })),
      truncated: plan.truncated,
      listed: plan.listed,
      matched: plan.matched,
      already_loaded: plan.alreadyLoaded,
      quarantined: plan.quarantined,
      too_new: plan.tooNew,
      changed_policy: options.onChangedFile,
    };
  } finally {
    await store.close();
  }
}
