/**
 * The file ledger on the wire (`files` and `files_forget` of the protocol, `etlctl files`): the
 * files a `files` source's pipeline has loaded or quarantined, each loaded once, and the operator's
 * way to have some loaded again. Kept apart from protocol.ts, which imports these schemas into its
 * method table; keys are snake_case like every result.
 *
 * Decisions: a listing is one page in key order with the ledger's totals beside it, and
 * `next_after` says where the next page starts (null: this was the last). What is waiting to be
 * loaded needs the source's own listing: `files_pending` lists the store and compares it with the
 * ledger, writing nothing.
 */
import { z } from 'zod';

export const SOURCE_FILE_STATUSES = ['loaded', 'quarantined'] as const;

const isoTime = z.string().describe('An ISO-8601 time in UTC');

/** A file's key as a source names it; object stores allow 1,024 bytes, local paths more. */
export const sourceFileKey = z.string().min(1).max(4096);

export const sourceFileSchema = z.object({
  key: z.string().describe("The file's path under the source's directory or prefix"),
  size: z.number().int().describe('Its size in bytes when it was read'),
  version: z
    .string()
    .describe(
      "The store's identity of its content when it was read: an ETag, a generation, or a local file's size and modification time",
    ),
  modified_at: isoTime.describe('When the store says the file was last written (ISO-8601, UTC)'),
  status: z
    .enum(SOURCE_FILE_STATUSES)
    .describe('`loaded`: its rows were committed; `quarantined`: it could not be read and was set aside'),
  sequence: z.number().int().describe('The run sequence that committed the entry'),
  run_id: z
    .string()
    .describe('The attempt that loaded or quarantined it (`<pipeline>-<sequence>-<attempt>`)'),
  reason: z
    .string()
    .nullable()
    .describe("Why it was quarantined, naming the line or column but never a row's values; null when loaded"),
  recorded_at: isoTime.describe('When the entry was committed (ISO-8601, UTC)'),
});
export type SourceFile = z.infer<typeof sourceFileSchema>;

export const sourceFileListingSchema = z.object({
  pipeline: z.string().describe('The pipeline whose ledger this is'),
  files: z.array(sourceFileSchema).describe('One page of entries in key order'),
  totals: z
    .object({
      loaded: z.number().int().describe('Files loaded'),
      quarantined: z.number().int().describe('Files quarantined'),
      loaded_bytes: z.number().int().describe('The sizes of the loaded files added up'),
      last_recorded_at: isoTime
        .nullable()
        .describe("The newest entry's time (ISO-8601, UTC); null for an empty ledger"),
    })
    .describe("The whole ledger's figures, whatever the page and its filters"),
  next_after: z
    .string()
    .nullable()
    .describe('The `after` of the next page (the last key of this one); null when no entry follows'),
});
export type SourceFileListing = z.infer<typeof sourceFileListingSchema>;

export const sourceFileForgetSchema = z.object({
  pipeline: z.string().describe('The pipeline whose ledger changed'),
  forgotten: z
    .number()
    .int()
    .describe("Entries removed from the ledger: the pipeline's next run loads those files again"),
  not_recorded: z
    .array(z.string())
    .describe('Keys given that the ledger has no entry for (nothing to forget); empty with `all`'),
});
export type SourceFileForget = z.infer<typeof sourceFileForgetSchema>;

export const PENDING_FILE_REASONS = ['new', 'changed', 'retry-quarantined'] as const;

export const pendingFileSchema = z.object({
  key: z.string().describe("The file's path under the source's directory or prefix"),
  size: z.number().int().describe('Its size in bytes as listed now'),
  modified_at: isoTime.describe('When the store says the file was last written (ISO-8601, UTC)'),
  reason: z
    .enum(PENDING_FILE_REASONS)
    .describe(
      '`new`: not in the ledger; `changed`: rewritten since it was loaded (what a run does with it is `changed_policy`); `retry-quarantined`: quarantined before, replaced by a new version since',
    ),
});

export const pendingFilesSchema = z.object({
  pipeline: z.string().describe('The pipeline whose source was listed'),
  files: z
    .array(pendingFileSchema)
    .describe('The files its next run would take, in key order, at most `limit` of them'),
  truncated: z.boolean().describe('More files are pending than were listed: the listing stopped at `limit`'),
  listed: z.number().int().describe("Objects listed under the pattern's literal prefix"),
  matched: z.number().int().describe('Of which the pattern matched'),
  already_loaded: z
    .number()
    .int()
    .describe(
      'Matching files the ledger holds as loaded and unchanged since (0 in full mode, which takes every file)',
    ),
  quarantined: z
    .number()
    .int()
    .describe('Matching files the ledger holds as quarantined and unchanged since: not tried again'),
  too_new: z
    .number()
    .int()
    .describe(
      'Matching files modified less than `source.min_age` ago: counted, not listed, left for a later run',
    ),
  changed_policy: z
    .enum(['fail', 'ignore', 'reload'])
    .describe(
      "The pipeline's `source.on_changed_file`: what its next run does with the files listed as `changed` (fail the run, skip them, or load them again)",
    ),
});
export type PendingFiles = z.infer<typeof pendingFilesSchema>;
