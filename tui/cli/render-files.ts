/**
 * Human renderings of the file ledger (`etlctl files`): one line per file, the ledger's totals,
 * and the command that lists the next page; `files forget`'s outcome; the pending files
 * (`files --pending`) with their summary line.
 *
 * Decisions: the REASON column appears only when a listed file was quarantined (as `runs` adds
 * its optional columns); the next-page command repeats the filters and quotes the key for a
 * POSIX shell, so it can be pasted as it is.
 */
import { formatBytes } from '../../shared/format-bytes.js';
import type { PendingFiles, SourceFileForget, SourceFileListing } from '../../shared/protocol-files.js';
import { formatCount, formatTime, renderTable, type Style } from './format.js';

/** A word a POSIX shell reads back unchanged: as it is when it is plain, else single-quoted. */
export function shellWord(text: string): string {
  return /^[\w./@%+:=,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

function totalsLine(listing: SourceFileListing): string {
  const { loaded, quarantined, loaded_bytes, last_recorded_at } = listing.totals;
  const last = last_recorded_at === null ? '' : `; last recorded ${formatTime(last_recorded_at)}`;
  return `${formatCount(loaded)} loaded (${formatBytes(loaded_bytes)}), ${formatCount(quarantined)} quarantined${last}`;
}

/** The listing, its totals and, when more entries follow, the command that lists them. */
export function renderFiles(
  listing: SourceFileListing,
  style: Style,
  nextPage: (after: string) => string,
): string {
  const empty = listing.totals.loaded + listing.totals.quarantined === 0;
  if (empty) return `no files recorded for ${listing.pipeline}: none loaded or quarantined yet\n`;
  const withReason = listing.files.some((f) => f.status === 'quarantined');
  const rows = listing.files.map((f) => [
    f.key,
    formatBytes(f.size),
    f.status === 'quarantined' ? style.red(f.status) : style.green(f.status),
    String(f.sequence),
    formatTime(f.recorded_at),
    ...(withReason ? [f.reason ?? ''] : []),
  ]);
  const table =
    rows.length === 0
      ? 'no files match\n'
      : renderTable(
          ['KEY', 'SIZE', 'STATUS', 'SEQ', 'RECORDED', ...(withReason ? ['REASON'] : [])],
          rows,
          style,
        );
  const next =
    listing.next_after === null ? '' : `${style.dim(`next page: ${nextPage(listing.next_after)}`)}\n`;
  return `${table}${totalsLine(listing)}\n${next}`;
}

export function renderForget(result: SourceFileForget): string {
  const lines = [
    result.forgotten === 0
      ? `nothing forgotten from the ledger of ${result.pipeline}`
      : `forgot ${formatCount(result.forgotten)} file(s) of ${result.pipeline}: its next run loads them again`,
  ];
  if (result.not_recorded.length > 0)
    lines.push(`not in the ledger (nothing to forget): ${result.not_recorded.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** What the next run does with a file changed since it was loaded, by `on_changed_file`. */
const CHANGED_OUTCOME: Record<PendingFiles['changed_policy'], string> = {
  fail: 'the next run fails on them (on_changed_file: fail)',
  ignore: 'the next run skips them (on_changed_file: ignore)',
  reload: 'the next run loads them again (on_changed_file: reload)',
};

/** The pending files in key order, then one summary line. */
export function renderPending(pending: PendingFiles, style: Style): string {
  const rows = pending.files.map((f) => [
    f.key,
    formatBytes(f.size),
    formatTime(f.modified_at),
    f.reason === 'new' ? f.reason : style.yellow(f.reason),
  ]);
  const table = rows.length === 0 ? '' : renderTable(['KEY', 'SIZE', 'MODIFIED', 'REASON'], rows, style);
  const parts = [
    pending.files.length === 0
      ? `nothing pending for ${pending.pipeline}`
      : `${formatCount(pending.files.length)} pending`,
  ];
  if (pending.truncated) parts.push('more not listed (raise -n to see them)');
  if (pending.too_new > 0)
    parts.push(
      `${formatCount(pending.too_new)} too new (younger than source.min_age; a later run takes them)`,
    );
  const changed = pending.files.filter((f) => f.reason === 'changed').length;
  if (changed > 0)
    parts.push(`${formatCount(changed)} changed since loaded: ${CHANGED_OUTCOME[pending.changed_policy]}`);
  const summary = `${parts.join('; ')}\n`;
  const counts = style.dim(
    `${formatCount(pending.matched)} matching file(s): ${formatCount(pending.already_loaded)} loaded, ${formatCount(pending.quarantined)} quarantined and unchanged\n`,
  );
  return `${table}${summary}${counts}`;
}
