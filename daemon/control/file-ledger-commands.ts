/**
 * `etlctl files` and `etlctl files forget`: the file ledger of a `files` source as the protocol
 * shows and changes it (shared/protocol-files.ts). The daemon's API (daemon-api.ts) checks the
 * pipeline and holds its runs off around a forget; this module maps the store's entries.
 *
 * Decisions: a page is read one entry longer than asked, so `next_after` is null exactly when no
 * entry follows. A forget by keys looks the keys up first, so the operator learns which ones the
 * ledger never had (a typo forgets nothing and says so); both happen in one turn of the event
 * loop, with the pipeline held, so no run commits in between.
 */
import type { MethodParams } from '../../shared/protocol.js';
import type { SourceFile, SourceFileForget, SourceFileListing } from '../../shared/protocol-files.js';
import type { SourceFileRecord, StateStore } from '../state/store.js';

type LedgerStore = Pick<
  StateStore,
  'listSourceFiles' | 'sourceFileTotals' | 'lookupSourceFiles' | 'forgetSourceFiles'
>;

function toSourceFile(record: SourceFileRecord): SourceFile {
  return {
    key: record.key,
    size: record.size,
    version: record.version,
    modified_at: record.modifiedAt,
    status: record.status,
    sequence: record.sequence,
    run_id: record.runId,
    reason: record.reason,
    recorded_at: record.recordedAt,
  };
}

export function fileLedgerPage(store: LedgerStore, params: MethodParams<'files'>): SourceFileListing {
  const found = store.listSourceFiles(params.pipeline, {
    limit: params.limit + 1,
    ...(params.status === undefined ? {} : { status: params.status }),
    ...(params.after === undefined ? {} : { after: params.after }),
    ...(params.text === undefined ? {} : { text: params.text }),
  });
  const page = found.slice(0, params.limit);
  const totals = store.sourceFileTotals(params.pipeline);
  return {
    pipeline: params.pipeline,
    files: page.map(toSourceFile),
    totals: {
      loaded: totals.loaded,
      quarantined: totals.quarantined,
      loaded_bytes: totals.loadedBytes,
      last_recorded_at: totals.lastRecordedAt,
    },
    next_after: found.length > params.limit ? (page.at(-1)?.key ?? null) : null,
  };
}

/** Removes the entries; the caller holds the pipeline's runs off meanwhile. */
export function forgetLedgerFiles(
  store: LedgerStore,
  params: MethodParams<'files_forget'>,
): SourceFileForget {
  if (params.all) {
    return {
      pipeline: params.pipeline,
      forgotten: store.forgetSourceFiles(params.pipeline),
      not_recorded: [],
    };
  }
  const keys = [...new Set(params.keys ?? [])];
  const recorded = store.lookupSourceFiles(params.pipeline, keys);
  return {
    pipeline: params.pipeline,
    forgotten: recorded.size === 0 ? 0 : store.forgetSourceFiles(params.pipeline, [...recorded.keys()]),
    not_recorded: keys.filter((key) => !recorded.has(key)),
  };
}

/** The log line of a forget: who, how many, which (the first few keys; file names, never rows). */
export function forgetNotice(
  result: SourceFileForget,
  params: MethodParams<'files_forget'>,
  actor: string,
): string {
  const shown = 5;
  const keys = params.keys ?? [];
  const which = params.all
    ? 'every entry'
    : `${keys.slice(0, shown).join(', ')}${keys.length > shown ? ` and ${keys.length - shown} more` : ''}`;
  return `files forget by ${actor}: ${result.forgotten} ledger entr${result.forgotten === 1 ? 'y' : 'ies'} removed (${which}); the next run loads those files again`;
}
