/**
 * Multi-table runs on the wire (`tables` of the protocol, `etlctl status P --tables`, the
 * console's table view, the `tables` block of a plan). Each table of a multi-table pipeline loads
 * as a run of its own under its state name (`<pipeline>/<table>`); these schemas show the tables of
 * one run of the pipeline. Kept apart from protocol.ts, which imports them into its method table.
 */
import { z } from 'zod';
import { ERROR_CODES } from './errors.js';

export const RUN_TABLE_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'refused',
  'gone',
] as const;

export const runTableSchema = z.object({
  table: z
    .string()
    .describe(
      'The table as the source names it (`public."Order Items"`; `<shard>/<table>` with {shard} templates)',
    ),
  state_name: z
    .string()
    .describe("The table's own state name (`<pipeline>/<table>`): its runs, sequence and watermarks"),
  sequence: z
    .number()
    .int()
    .nullable()
    .describe("The table's own run sequence in this run of the pipeline (null: not started)"),
  status: z
    .enum(RUN_TABLE_STATUSES)
    .describe(
      'pending, running, succeeded, failed, cancelled (the run stopped, or fail_run), refused (cannot load as configured), gone (no longer in the source; its destination is kept)',
    ),
  attempts: z.number().int().describe("The table's attempts in this run"),
  rows_extracted: z.number().int(),
  rows_loaded: z.number().int(),
  verdict: z.enum(['match', 'mismatch', 'skipped', 'already_committed']).nullable(),
  error: z
    .object({ code: z.enum(ERROR_CODES), message: z.string(), retryable: z.boolean() })
    .nullable()
    .describe('Why the table did not load (never row contents)'),
  updated_at: z.string().describe('When the row last changed (ISO-8601, UTC)'),
});
export type RunTable = z.infer<typeof runTableSchema>;

export const runTablesSchema = z.object({
  pipeline: z.string(),
  sequence: z
    .number()
    .int()
    .nullable()
    .describe("The pipeline's run these tables belong to (null: the pipeline has no multi-table run yet)"),
  tables: z.array(runTableSchema),
});
export type RunTables = z.infer<typeof runTablesSchema>;
