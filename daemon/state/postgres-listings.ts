/**
 * The filtered listings of the PostgreSQL state store: runs (`scanRuns`), alerts and the file
 * ledger. SQLite filters their text with JS functions registered in the database; PostgreSQL cannot
 * run the shared matcher (shared/record-text.ts), so these read rows in keyset order, a bounded
 * batch at a time, and match in JS until the page is full: the same records, in the same order, as
 * the SQLite store returns for the same data.
 */
import {
  alertTextFields,
  containsText,
  runTextFields,
  sourceFileTextFields,
} from '../../shared/record-text.js';
import type { SyncPgClient } from './pg-sync-client.js';
import { groupAttempts, toAlert, toRun, toSourceFile, type Row } from './row-mappers.js';
import type {
  AlertFilter,
  AlertRow,
  RunFilter,
  RunScan,
  SourceFileFilter,
  SourceFileRecord,
  TextFilter,
} from './store.js';

/** Rows one statement of a filtered listing reads: a few milliseconds of a round trip and matching. */
const BATCH = 500;

/** Builds a WHERE clause with `$n` placeholders numbered as conditions are added. */
class Conditions {
  readonly #parts: string[] = [];
  readonly params: unknown[] = [];

  /** `condition` uses `?` for each value, in order. */
  add(condition: string, ...values: unknown[]): void {
    let index = 0;
    this.#parts.push(
      condition.replaceAll('?', () => {
        this.params.push(values[index++]);
        return `$${this.params.length}`;
      }),
    );
  }

  /** The next placeholder, for a value after the conditions (a LIMIT). */
  next(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  where(): string {
    return this.#parts.length === 0 ? '' : `WHERE ${this.#parts.join(' AND ')}`;
  }
}

/** A logical run as the listing places it (its first attempt) and matches it (its latest). */
interface Candidate {
  readonly pipeline: string;
  readonly sequence: number;
  readonly created_at: string;
  readonly trigger: string;
  readonly status: string;
  readonly error_code: string | null;
  readonly error_message: string | null;
}

function runMatches(candidate: Candidate, filter: RunFilter): boolean {
  const statuses = filter.statuses ?? [];
  if (statuses.length > 0 && !(statuses as readonly string[]).includes(candidate.status)) return false;
  if (filter.text === undefined) return true;
  const fields = runTextFields({
    pipeline: candidate.pipeline,
    sequence: candidate.sequence,
    status: candidate.status,
    trigger: candidate.trigger,
    errorCode: candidate.error_code,
    errorMessage: candidate.error_message,
  });
  return containsText(fields, filter.text.text) !== filter.text.invert;
}

/** One batch of candidates after `after` (or after `filter.before`'s first attempt), in listing order. */
function runCandidates(
  client: SyncPgClient,
  filter: RunFilter,
  after: Candidate | undefined,
  count: number,
): Candidate[] {
  const conditions = new Conditions();
  conditions.add(
    'NOT EXISTS (SELECT 1 FROM runs AS earlier WHERE earlier.pipeline = first.pipeline AND earlier.sequence = first.sequence AND earlier.attempt < first.attempt)',
  );
  if (filter.pipeline !== undefined) conditions.add('first.pipeline = ?', filter.pipeline);
  if (filter.since !== undefined) conditions.add('first.created_at >= ?', filter.since);
  if (after !== undefined) {
    conditions.add(
      '(first.created_at, first.sequence, first.pipeline) < (?, ?::bigint, ?)',
      after.created_at,
      after.sequence,
      after.pipeline,
    );
  } else if (filter.before !== undefined) {
    // The run paged from must exist: without it the comparison is null and nothing is listed, as in SQLite.
    conditions.add(
      `(first.created_at, first.sequence, first.pipeline) < (
        SELECT created_at, sequence, pipeline FROM runs WHERE pipeline = ? AND sequence = ? ORDER BY attempt LIMIT 1)`,
      filter.before.pipeline,
      filter.before.sequence,
    );
  }
  const limit = conditions.next(count);
  return client.query<Candidate & Row>(
    `SELECT first.pipeline, first.sequence, first.created_at, first.trigger,
            last.status, last.error_code, last.error_message
       FROM runs AS first
       CROSS JOIN LATERAL (
         SELECT status, error_code, error_message FROM runs AS latest
          WHERE latest.pipeline = first.pipeline AND latest.sequence = first.sequence
          ORDER BY latest.attempt DESC LIMIT 1) AS last
      ${conditions.where()}
      ORDER BY first.created_at DESC, first.sequence DESC, first.pipeline DESC
      LIMIT ${limit}`,
    conditions.params,
  );
}

/**
 * `scanRuns`: examines at most `window` runs after `filter.before`, a batch at a time, and returns
 * the first `filter.limit` that match with every attempt, in listing order.
 */
export function scanRuns(client: SyncPgClient, filter: RunFilter, window: number): RunScan {
  const picked: Candidate[] = [];
  let examined = 0;
  let last: Candidate | undefined;
  let ended = false;
  while (picked.length < filter.limit && examined < window) {
    const count = Math.min(BATCH, window - examined);
    const batch = runCandidates(client, filter, last, count);
    for (const candidate of batch) {
      examined++;
      last = candidate;
      if (runMatches(candidate, filter)) picked.push(candidate);
      if (picked.length >= filter.limit) break;
    }
    if (batch.length < count) {
      ended = true;
      break;
    }
  }
  const runs = attemptsOfRuns(client, picked);
  if (runs.length >= filter.limit || ended || last === undefined) return { runs, scannedTo: null };
  // The window was used up before the page was full: the next step goes on after the last run examined.
  return { runs, scannedTo: { pipeline: last.pipeline, sequence: last.sequence } };
}

/** Every attempt of the picked runs, grouped by run in the order they were picked. */
function attemptsOfRuns(
  client: SyncPgClient,
  picked: readonly Candidate[],
): ReturnType<typeof groupAttempts> {
  if (picked.length === 0) return [];
  const rows = client
    .query(
      `SELECT runs.* FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS picked (pipeline, sequence, position)
         JOIN runs ON runs.pipeline = picked.pipeline AND runs.sequence = picked.sequence
        ORDER BY picked.position, runs.attempt`,
      [picked.map((c) => c.pipeline), picked.map((c) => c.sequence)],
    )
    .map(toRun);
  return groupAttempts(rows);
}

/**
 * Reads rows in batches (`read(after, count)`, keyset order) and keeps those `keep` accepts until
 * `limit` are kept or the rows end.
 */
function collect<T>(
  read: (after: T | undefined, count: number) => T[],
  keep: (row: T) => boolean,
  limit: number,
): T[] {
  const kept: T[] = [];
  let after: T | undefined;
  while (kept.length < limit) {
    const batch = read(after, BATCH);
    for (const row of batch) {
      if (keep(row)) kept.push(row);
      if (kept.length >= limit) break;
    }
    after = batch.at(-1);
    if (batch.length < BATCH) break;
  }
  return kept;
}

function alertMatches(alert: AlertRow, text: TextFilter | undefined): boolean {
  return text === undefined || containsText(alertTextFields(alert), text.text) !== text.invert;
}

/** `findAlerts`: newest first (creation, then id), keyset paged by `beforeId`. */
export function findAlerts(client: SyncPgClient, filter: AlertFilter): AlertRow[] {
  const read = (after: AlertRow | undefined, count: number): AlertRow[] => {
    const conditions = new Conditions();
    if (filter.pipeline !== undefined) conditions.add('pipeline = ?', filter.pipeline);
    if (after !== undefined) conditions.add('(created_at, id) < (?, ?::bigint)', after.createdAt, after.id);
    else if (filter.beforeId !== undefined)
      conditions.add('(created_at, id) < (SELECT created_at, id FROM alerts WHERE id = ?)', filter.beforeId);
    const limit = conditions.next(count);
    return client
      .query(
        `SELECT * FROM alerts ${conditions.where()} ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
        conditions.params,
      )
      .map(toAlert);
  };
  if (filter.text === undefined) return read(undefined, filter.limit);
  return collect(read, (alert) => alertMatches(alert, filter.text), filter.limit);
}

/** `listSourceFiles`: keyset paging in key order (byte order: the columns are COLLATE "C"). */
export function listSourceFiles(
  client: SyncPgClient,
  pipeline: string,
  filter: SourceFileFilter,
): SourceFileRecord[] {
  const read = (after: SourceFileRecord | undefined, count: number): SourceFileRecord[] => {
    const conditions = new Conditions();
    conditions.add('pipeline = ?', pipeline);
    if (filter.status !== undefined) conditions.add('status = ?', filter.status);
    const from = after?.key ?? filter.after;
    if (from !== undefined) conditions.add('key > ?', from);
    const limit = conditions.next(count);
    return client
      .query(
        `SELECT * FROM source_files ${conditions.where()} ORDER BY key LIMIT ${limit}`,
        conditions.params,
      )
      .map(toSourceFile);
  };
  const text = filter.text;
  if (text === undefined) return read(undefined, filter.limit);
  return collect(read, (file) => containsText(sourceFileTextFields(file), text), filter.limit);
}
