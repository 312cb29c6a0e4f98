/**
 * The `/` filter (k9s-style): plain text is a case-insensitive substring, text with regular
 * expression syntax is a case-insensitive regex, and a leading `!` inverts either.
 */
import type { PipelineSummary } from '../../../shared/protocol.js';
import { containsText } from '../../../shared/record-text.js';

export type FilterResult =
  | { readonly ok: true; readonly test: (pipeline: PipelineSummary) => boolean; readonly description: string }
  | { readonly ok: false; readonly error: string };

const REGEX_SYNTAX = /[\\^$.*+?()[\]{}|]/;

/**
 * The fields a filter looks at: what the table shows, so a match is always visible. Each is
 * matched on its own, so `^orders$` means a pipeline named exactly `orders`.
 */
export function filterFields(pipeline: PipelineSummary): string[] {
  return [
    pipeline.name,
    pipeline.paused ? 'paused' : pipeline.state,
    pipeline.source ?? '',
    pipeline.destination ?? '',
  ].map((field) => field.toLowerCase());
}

/** A filter over any record's fields: what `/` does in the pipeline table and the `:runs`/`:alerts` views. */
export type MatcherResult =
  | {
      readonly ok: true;
      readonly test: (fields: readonly string[]) => boolean;
      readonly description: string;
    }
  | { readonly ok: false; readonly error: string };

/** Whether a filter is plain text (or its `!` inverse): a substring, not a regular expression. */
export function isPlainFilter(text: string): boolean {
  return !REGEX_SYNTAX.test(text.startsWith('!') ? text.slice(1) : text);
}

export function compileMatcher(text: string): MatcherResult {
  const inverse = text.startsWith('!');
  const body = inverse ? text.slice(1) : text;
  // A lone `!` is a filter still being typed: show everything rather than blank the table.
  if (body === '') return { ok: true, test: () => true, description: 'everything' };
  let matches: (fields: readonly string[]) => boolean;
  let description: string;
  if (REGEX_SYNTAX.test(body)) {
    let regex: RegExp;
    try {
      regex = new RegExp(body, 'i');
    } catch (error) {
      const reason =
        error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
      return { ok: false, error: `invalid regular expression "${body}": ${reason}` };
    }
    matches = (fields) => fields.some((field) => regex.test(field));
    description = `regex /${body}/`;
  } else {
    // The daemon's text filter, so what it sends and what the console keeps agree.
    matches = (fields) => containsText(fields, body);
    description = `"${body}"`;
  }
  return {
    ok: true,
    test: (fields) => matches(fields) !== inverse,
    description: inverse ? `not ${description}` : description,
  };
}

export function compileFilter(text: string): FilterResult {
  const matcher = compileMatcher(text);
  if (!matcher.ok) return matcher;
  return {
    ok: true,
    test: (pipeline) => matcher.test(filterFields(pipeline)),
    description: matcher.description,
  };
}
