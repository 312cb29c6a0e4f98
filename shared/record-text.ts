/**
 * The text filter of the lists (`runs`, `alerts` and `files` of the protocol, the console's
 * `:runs` and `:alerts`), defined once: the daemon applies it in its state store query and the
 * console to the records it has loaded, so both agree on which records match. A record matches
 * when one of the fields its row shows contains the text, case-insensitively.
 */
import { runIdOf } from './run-ids.js';

/**
 * The first line of a message that may span several (stack traces, SQL errors with context), so
 * it fits one row of a list or the detail view; `more` says there is text beyond it.
 */
export function firstLine(text: string): { readonly line: string; readonly more: boolean } {
  const lines = text.split(/\r?\n/);
  const index = lines.findIndex((l) => l.trim() !== '');
  if (index === -1) return { line: '', more: false };
  const rest = lines.slice(index + 1).some((l) => l.trim() !== '');
  return { line: (lines[index] ?? '').trim(), more: rest };
}

/** Whether one of `fields` contains `text`, ignoring case. */
export function containsText(fields: readonly string[], text: string): boolean {
  const needle = text.toLowerCase();
  return fields.some((field) => field.toLowerCase().includes(needle));
}

/** What a run's row shows and a text filter looks at: id, pipeline, status, trigger, error code and the error's first line. */
export function runTextFields(run: {
  readonly pipeline: string;
  readonly sequence: number;
  readonly status: string;
  readonly trigger: string;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}): string[] {
  return [
    runIdOf(run.pipeline, run.sequence),
    run.pipeline,
    run.status,
    run.trigger,
    run.errorCode ?? '',
    run.errorMessage === null ? '' : firstLine(run.errorMessage).line,
  ];
}

/** What an alert's row shows and a text filter looks at: pipeline, kind, status, run and subject. */
export function alertTextFields(alert: {
  readonly pipeline: string;
  readonly kind: string;
  readonly status: string;
  readonly runId: string | null;
  readonly subject: string;
}): string[] {
  return [alert.pipeline, alert.kind, alert.status, alert.runId ?? '', alert.subject];
}

/** What a file ledger entry's row shows and a text filter looks at: its key and a quarantine's reason. */
export function sourceFileTextFields(file: {
  readonly key: string;
  readonly reason: string | null;
}): string[] {
  return [file.key, file.reason ?? ''];
}
