/**
 * Runs BigQuery jobs under deterministic ids. Inserting an id that exists answers 409 `duplicate`:
 * the runner then attaches to that job and waits for it instead of running the work twice. A job
 * that is DONE with an `errorResult` can never be reused, so when an attached job had
 * failed in an earlier attempt, the work runs again under `<id>_r2`, `<id>_r3`…; a job this call
 * inserted itself that fails is the run's failure.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cancelledError, EtlError } from '../../../shared/errors.js';
import type { BigQueryApi, JobView } from './bigquery-api.js';
import { apiErrorParts, jobFailure, toBigQueryError } from './bigquery-errors.js';

export interface PollSettings {
  /** First wait between jobs.get calls; doubles up to `maxPollMs`. */
  readonly pollMs: number;
  readonly maxPollMs: number;
}

/** Ids tried for one piece of work before giving up: the original and four re-runs. */
const MAX_ATTEMPT_IDS = 5;

export function attemptIds(base: string): string[] {
  return Array.from({ length: MAX_ATTEMPT_IDS }, (_, i) => (i === 0 ? base : `${base}_r${i + 1}`));
}

function isDuplicate(error: unknown): boolean {
  const { status, proto } = apiErrorParts(error);
  return status === 409 || proto?.reason === 'duplicate';
}

function cancelled(what: string, jobId: string): EtlError {
  // The job itself may still finish on BigQuery's side; a retried run finds it by its id.
  return cancelledError(`${what}: waiting for job ${jobId}`);
}

export async function waitForJob(
  api: BigQueryApi,
  job: JobView,
  what: string,
  poll: PollSettings,
  signal: AbortSignal,
): Promise<JobView> {
  let current = job;
  let delay = poll.pollMs;
  while (current.state !== 'DONE') {
    if (signal.aborted) throw cancelled(what, current.jobId);
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      throw cancelled(what, current.jobId);
    }
    delay = Math.min(delay * 2, poll.maxPollMs);
    let next: JobView | undefined;
    try {
      next = await api.getJob(current.jobId);
    } catch (error) {
      throw toBigQueryError(error, `${what}: jobs.get ${current.jobId}`);
    }
    if (next === undefined)
      throw new EtlError('DESTINATION_WRITE', `${what}: job ${current.jobId} vanished while running`);
    current = next;
  }
  return current;
}

/** Insert attempts under one id after a transient failure (the upload itself is never retried by the client). */
const INSERT_ATTEMPTS = 3;

/**
 * Inserts the job, repeating the insert under the same id after a transient failure: when the
 * lost answer had in fact created the job, the repeat answers 409 and the caller attaches to it.
 */
async function insertWithRetries(
  jobId: string,
  what: string,
  start: (jobId: string) => Promise<JobView>,
  poll: PollSettings,
  signal: AbortSignal,
): Promise<JobView> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(jobId);
    } catch (error) {
      if (isDuplicate(error) || attempt >= INSERT_ATTEMPTS || !toBigQueryError(error, what).retryable)
        throw error;
      try {
        await sleep(poll.pollMs * attempt, undefined, { signal });
      } catch {
        throw cancelled(what, jobId);
      }
    }
  }
}

/**
 * Runs `start(jobId)` under the first usable id of `base` and waits for it. Returns the DONE job
 * (which may be one an earlier attempt started); throws the job's failure as an EtlError.
 */
export async function runJob(
  api: BigQueryApi,
  base: string,
  what: string,
  start: (jobId: string) => Promise<JobView>,
  poll: PollSettings,
  signal: AbortSignal,
): Promise<JobView & { attached: boolean }> {
  for (const jobId of attemptIds(base)) {
    if (signal.aborted) throw cancelled(what, jobId);
    let job: JobView;
    let attached = false;
    try {
      job = await insertWithRetries(jobId, what, start, poll, signal);
    } catch (error) {
      if (!isDuplicate(error)) throw toBigQueryError(error, `${what} (job ${jobId})`);
      const existing = await api.getJob(jobId).catch((e: unknown) => {
        throw toBigQueryError(e, `${what}: jobs.get ${jobId}`);
      });
      if (existing === undefined)
        throw new EtlError('DESTINATION_WRITE', `${what}: job ${jobId} reported as duplicate but not found`);
      job = existing;
      attached = true;
    }
    const done = await waitForJob(api, job, what, poll, signal);
    if (done.errorResult === undefined) return { ...done, attached };
    if (!attached) throw jobFailure(`${what} (job ${jobId})`, done.errorResult, done.errors);
  }
  throw new EtlError(
    'DESTINATION_WRITE',
    `${what}: jobs ${base} … ${base}_r${MAX_ATTEMPT_IDS} all failed in earlier attempts`,
    {
      retryable: false,
    },
  );
}

/** The successful job among `base`'s attempt ids (waiting for one still running), if any. */
export async function findSucceededJob(
  api: BigQueryApi,
  base: string,
  what: string,
  poll: PollSettings,
  signal: AbortSignal,
): Promise<JobView | undefined> {
  for (const jobId of attemptIds(base)) {
    let job: JobView | undefined;
    try {
      job = await api.getJob(jobId);
    } catch (error) {
      throw toBigQueryError(error, `${what}: jobs.get ${jobId}`);
    }
    if (job === undefined) return undefined;
    const done = await waitForJob(api, job, what, poll, signal);
    if (done.errorResult === undefined) return done;
  }
  return undefined;
}
