/**
 * The `files_quarantined` alert: a run of a files source kept bad files out of its load
 * (`source.on_bad_file: skip`: a corrupt gzip, a value its column cannot take, a schema conflict)
 * and still succeeded. The on-call engineer learns which files, why, and how they get loaded.
 *
 * Decisions:
 *  - At most 20 files are listed, in the run's order, in the mail (and so in Slack) and in the
 *    webhook's `details`; a run can quarantine thousands and a mail is not the place for them.
 *    The rest are counted and `etlctl files PIPELINE --quarantined` named for them.
 *  - A reason is the engine's own text, which never holds row data; it is passed through as it
 *    is (only `redact`ed, as every text of a mail), and nothing else of a file is added.
 */
import { redact } from '../logging/redact.js';
import { footer, suppressedNote, table, type MailText, type MessageContext } from './alert-messages.js';

/** One file kept out of a load, with why (never a value of its rows). */
export interface QuarantinedFileNote {
  readonly key: string;
  readonly reason: string;
}

/** A run kept files out of its load (`source.on_bad_file: skip`); the run itself succeeded. */
export interface FilesQuarantinedAlert {
  readonly pipeline: string;
  readonly runId: string;
  /** Rows the run loaded from the other files. */
  readonly rows: number;
  /** Every file the run quarantined, in the run's order. */
  readonly files: readonly QuarantinedFileNote[];
}

/** Files named in one alert; the rest are counted. */
const LISTED_FILES = 20;

function plural(n: number): string {
  return `${n} file${n === 1 ? '' : 's'}`;
}

/** The alert's fields as a webhook's `details`: the files capped like the mail's list. */
export function filesQuarantinedDetails(alert: FilesQuarantinedAlert): object {
  return {
    pipeline: alert.pipeline,
    runId: alert.runId,
    rows: alert.rows,
    fileCount: alert.files.length,
    files: alert.files.slice(0, LISTED_FILES).map((f) => ({ key: f.key, reason: f.reason })),
    filesNotListed: Math.max(0, alert.files.length - LISTED_FILES),
  };
}

export function filesQuarantinedMail(alert: FilesQuarantinedAlert, ctx: MessageContext): MailText {
  const count = alert.files.length;
  const notListed = count - LISTED_FILES;
  const lines = [
    `Pipeline ${alert.pipeline}: run ${alert.runId} quarantined ${plural(count)} (source.on_bad_file: skip). The run succeeded; nothing of ${count === 1 ? 'this file' : 'these files'} was loaded.`,
    `${count === 1 ? 'It stays' : 'They stay'} out until a new version arrives (a changed file is tried again) or etlctl files forget ${alert.pipeline} KEY is run.`,
    '',
    table([
      ['Pipeline', alert.pipeline],
      ['Run', alert.runId],
      ['Quarantined', plural(count)],
      ['Rows loaded', String(alert.rows)],
      ['Host', ctx.host],
    ]),
    '',
    'Quarantined files:',
    ...alert.files.slice(0, LISTED_FILES).flatMap((f) => [`  ${f.key}`, `    ${redact(f.reason)}`]),
    ...(notListed > 0
      ? [`  and ${notListed} more; etlctl files ${alert.pipeline} --quarantined lists them all.`]
      : []),
    ...suppressedNote(ctx, 'quarantined-files alerts'),
    '',
    'To look further:',
    `  etlctl files ${alert.pipeline} --quarantined`,
    `  etlctl run ${alert.runId}`,
    `  journalctl -u ${ctx.unit} RUN_ID=${alert.runId}`,
    ...footer(ctx),
  ];
  return {
    subject: `[etld] ${alert.pipeline} FILES QUARANTINED: ${plural(count)} (run ${alert.runId})`,
    text: lines.join('\n'),
  };
}
