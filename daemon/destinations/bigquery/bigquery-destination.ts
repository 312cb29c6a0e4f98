/**
 * The BigQuery destination (design in README.md of this folder). Every run changes the
 * target table with exactly one job, `etld_<pipeline>_<dataset>_<table>_<sequence>_commit` (a load job when the run
 * fits one file, else a query job over a per-run staging table): that job id is the record of the
 * commit, and `_etld_commits` in the dataset is the index read by `committedSequence`.
 */
import { randomUUID } from 'node:crypto';
import { bigQueryNameProblem } from '../../../shared/column-names.js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DestinationConfig } from '../../../shared/config/pipeline-schema.js';
import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import type { Logger } from '../../logging/logger.js';
import type {
  CommitResult,
  CommittedSequence,
  Destination,
  DestinationContext,
  DestinationDialect,
  DestinationLoad,
  LoadMode,
  LoadRequest,
  SchemaChange,
} from '../destination.js';
import { BigQueryApi, type JobView, type LoadConfiguration, type TableView } from './bigquery-api.js';
import { estimateLoadQueries, type LoadQueryEstimate } from './bigquery-cost.js';
import { toBigQueryError } from './bigquery-errors.js';
import { exportPart, parquetRelation, type ExportedFiles, type LoadFormat } from './bigquery-export.js';
import { findSucceededJob, runJob, type PollSettings } from './bigquery-jobs.js';
import { diffSchema } from '../schema-diff.js';
import { BIGQUERY_SCHEMA_RULES, incomingFields } from './bigquery-schema.js';
import {
  COMMITS_FIELDS,
  COMMITS_TABLE,
  appendMissingSql,
  mergeSql,
  quoteName,
  recordCommitSql,
  stringLiteral,
  tablePath,
} from './bigquery-sql.js';
import { parquetAllows, type BigQueryField } from './bigquery-types.js';
import { withoutRowData } from '../../logging/row-data.js';
import type { AccessCheck, AccessCheckRequest } from '../access-check.js';
import { checkBigQueryAccess } from './bigquery-access.js';

type BigQueryDestinationConfig = Extract<DestinationConfig, { type: 'bigquery' }>;

export interface BigQueryTuning {
  /**
   * Largest load file. The client uploads each file in one multipart request that it never
   * resumes or retries, so files stay well under the API's limits; a run larger than
   * one file loads its files into a staging table, and the target still sees one job per run.
   */
  readonly maxFileBytes: number;
  readonly poll: PollSettings;
  /** Staging tables expire on their own if a crash leaves one behind. */
  readonly stagingTtlMs: number;
}

export const DEFAULT_TUNING: BigQueryTuning = {
  maxFileBytes: 512 * 1024 * 1024,
  poll: { pollMs: 500, maxPollMs: 10_000 },
  stagingTtlMs: 24 * 3_600_000,
};

export class BigQueryDestination implements Destination {
  readonly label: string;
  /** Load jobs append or truncate; comparing with the table first is not built (yet). */
  readonly appendsMissing = true;
  readonly #config: BigQueryDestinationConfig;
  readonly #api: BigQueryApi;
  readonly #tuning: BigQueryTuning;
  readonly #logger: Logger;

  constructor(
    config: BigQueryDestinationConfig,
    context: DestinationContext,
    tuning: Partial<BigQueryTuning> = {},
  ) {
    this.#config = config;
    this.#tuning = { ...DEFAULT_TUNING, ...tuning };
    this.#logger = context.logger;
    this.#api = new BigQueryApi({
      project: config.project,
      location: config.location,
      keyFile: config.key_file,
      apiEndpoint: config.api_endpoint,
    });
    this.label = `bigquery ${config.project}.${config.dataset}.${config.table}`;
  }

  get #tableLabel(): string {
    return `${this.#config.project}.${this.#config.dataset}.${this.#config.table}`;
  }

  async #targetTable(): Promise<TableView | undefined> {
    try {
      return await this.#api.getTable(this.#config.dataset, this.#config.table);
    } catch (error) {
      throw toBigQueryError(error, `${this.label}: tables.get`);
    }
  }

  async #currentFields(): Promise<BigQueryField[] | undefined> {
    const table = await this.#targetTable();
    return table === undefined ? undefined : [...table.fields];
  }

  async planSchema(
    incoming: readonly ColumnSchema[],
    policy: 'add_columns' | 'strict',
    signal?: AbortSignal,
  ): Promise<SchemaChange[]> {
    signal?.throwIfAborted();
    for (const column of incoming) {
      const problem = bigQueryNameProblem(column.name);
      if (problem !== undefined) throw new EtlError('SCHEMA_MISMATCH', `${this.#tableLabel}: ${problem}`);
    }
    return diffSchema({
      target: this.#tableLabel,
      existing: await this.#currentFields(),
      incoming,
      policy,
      rules: BIGQUERY_SCHEMA_RULES,
    });
  }

  /**
   * Job ids are unique per project, so they name the destination table too: two datasets of one
   * project (staging and production, say) fed by same-named pipelines must not see each other's
   * commits. Characters outside a job id's `[A-Za-z0-9_-]` (a `$` decorator, the `.` of a
   * quarantine's `<pipeline>.quarantine`) become `_`.
   */
  #jobBase(pipeline: string, sequence: number): string {
    const target = `${this.#config.dataset}_${this.#config.table}`;
    return `etld_${pipeline}_${target}_${sequence}`.replace(/[^A-Za-z0-9_-]/g, '_');
  }

  #commitJobBase(pipeline: string, sequence: number): string {
    return `${this.#jobBase(pipeline, sequence)}_commit`;
  }

  /**
   * The newest sequence in `_etld_commits`, then the commit jobs of the sequences after it: a
   * crash between the commit job and its `_etld_commits` row leaves the newest commit unrecorded,
   * and its job id still says it happened. Probing waits for a commit job that is still running,
   * so an attempt that starts after this answer never races an earlier attempt's job.
   */
  async committedSequence(
    pipeline: string,
    signal: AbortSignal = new AbortController().signal,
  ): Promise<CommittedSequence | null> {
    let committed: CommittedSequence | null = null;
    try {
      const commits = await this.#api.getTable(this.#config.dataset, COMMITS_TABLE);
      if (commits !== undefined) {
        const rows = await this.#api.queryRows(
          `SELECT sequence, run_id FROM ${tablePath(this.#config.project, this.#config.dataset, COMMITS_TABLE)} ` +
            `WHERE pipeline = ${stringLiteral(pipeline)} ORDER BY sequence DESC LIMIT 1`,
          signal,
        );
        const [sequence, runId] = rows[0] ?? [];
        if (sequence !== null && sequence !== undefined)
          committed = { sequence: Number(sequence), runId: runId ?? null };
      }
    } catch (error) {
      throw toBigQueryError(error, `${this.label}: reading ${COMMITS_TABLE}`);
    }
    for (let next = (committed?.sequence ?? 0) + 1; ; next++) {
      const job = await findSucceededJob(
        this.#api,
        this.#commitJobBase(pipeline, next),
        this.label,
        this.#tuning.poll,
        signal,
      );
      if (job === undefined) return committed;
      committed = { sequence: next, runId: null };
    }
  }

  beginLoad(request: LoadRequest): Promise<DestinationLoad> {
    if (request.mode === 'append_missing' && (request.compare ?? []).length === 0) {
      return Promise.reject(
        new EtlError('INTERNAL', `${this.label}: append_missing without the columns to compare`),
      );
    }
    if (request.mode === 'merge' && (request.key === undefined || request.key.length === 0)) {
      return Promise.reject(new EtlError('CONFIG_INVALID', `${this.label}: merge needs a key`));
    }
    const format = this.#format(request.columns);
    const parts: ExportedFiles[] = [];
    const filesOfPart = new Map<string, readonly string[]>();
    const removeFiles = async (): Promise<void> => {
      filesOfPart.clear();
      const files = parts.splice(0).flatMap((p) => p.files);
      await Promise.all(files.map((f) => rm(f, { force: true })));
    };
    // Parquet files hold a part's rows as staged; NDJSON is text, and a merge part is de-duplicated.
    const readBack =
      format === 'parquet' && request.mode !== 'merge'
        ? (id: string): string | null => {
            const files = filesOfPart.get(id);
            return files === undefined ? null : parquetRelation(request.columns, files);
          }
        : undefined;
    return Promise.resolve({
      writePart: async (part) => {
        const dir = join(request.workDir, `bigquery-${request.sequence}`, String(parts.length + 1));
        const exported = await exportPart(part, request.columns, {
          format,
          maxFileBytes: this.#tuning.maxFileBytes,
          dedupe: request.mode === 'merge' ? { key: request.key ?? [], cursor: request.cursor } : undefined,
          dir,
        }).catch((error: unknown) => {
          throw new EtlError(
            'DESTINATION_WRITE',
            `${this.label}: writing ${format} load files of part ${part.id} in ${dir}: ${withoutRowData(error instanceof Error ? error.message : String(error))}`,
            { cause: error, retryable: false },
          );
        });
        parts.push(exported);
        filesOfPart.set(part.id, exported.files);
        return exported.rows;
      },
      readBack,
      commit: async () => {
        try {
          return await this.#commit(request, format, parts);
        } finally {
          await removeFiles();
        }
      },
      abort: removeFiles,
    });
  }

  async #commit(
    request: LoadRequest,
    format: LoadFormat,
    parts: readonly ExportedFiles[],
  ): Promise<CommitResult> {
    const { signal } = request;
    const base = this.#commitJobBase(request.pipeline, request.sequence);
    const earlier = await findSucceededJob(this.#api, base, this.label, this.#tuning.poll, signal);
    if (earlier !== undefined) {
      await this.#recordCommit(request, earlier);
      return { rowsLoaded: 0, alreadyCommitted: true, details: { jobId: earlier.jobId } };
    }
    await this.#ensureDataset();
    const existing = await this.#currentFields();
    const changes = diffSchema({
      target: this.#tableLabel,
      existing,
      incoming: request.columns,
      policy: request.schemaEvolution,
      rules: BIGQUERY_SCHEMA_RULES,
    });
    const added = new Set(changes.filter((c) => c.change === 'add').map((c) => c.column));
    // Existing fields keep their definitions (a wider NUMERIC, say); new ones come last.
    const fields: BigQueryField[] =
      existing === undefined
        ? incomingFields(request.columns)
        : [...existing, ...incomingFields(request.columns.filter((c) => added.has(c.name)))];
    // Parts without rows left an empty file each; one is enough, and only when no part has rows.
    const withRows = parts.filter((p) => p.rows > 0);
    const files = (withRows.length > 0 ? withRows : parts.slice(0, 1)).flatMap((p) => p.files);
    const rows = parts.reduce((sum, p) => sum + p.rows, 0);
    const bytes = parts.reduce((sum, p) => sum + p.bytes, 0);
    const direct = (request.mode === 'full' || request.mode === 'incremental') && files.length === 1;
    const job =
      direct && files[0] !== undefined
        ? await this.#loadDirect(request, base, files[0], fields, format, added.size > 0)
        : await this.#loadViaStaging(request, base, files, fields, format, existing === undefined, added);
    // append_missing inserts only the rows the table lacked; the DML statistics say how many.
    const appended = request.mode === 'append_missing' ? appendedRows(job, this.label) : rows;
    // An attached job is this attempt's own: the run engine asked `committedSequence` first,
    // which waits out any earlier attempt's commit job, so a 409 here means an insert whose
    // answer was lost had in fact created the job. It commits this attempt's batch.
    await this.#recordCommit(request, job, appended);
    return {
      rowsLoaded: appended,
      alreadyCommitted: false,
      ...(request.mode === 'append_missing' ? { rowsSkipped: rows - appended } : {}),
      details: { jobId: job.jobId, files: files.length, bytes, format, columnsAdded: added.size },
    };
  }

  #format(columns: readonly ColumnSchema[]): LoadFormat {
    if (this.#config.format === 'parquet') {
      const blocking = columns.find((c) => !parquetAllows(c.type));
      if (blocking === undefined) return 'parquet';
      this.#logger.notice(
        `${this.label}: loading NDJSON instead of Parquet because column "${blocking.name}" is ${blocking.type.kind}`,
      );
    }
    return 'ndjson';
  }

  #loadConfig(
    fields: readonly BigQueryField[],
    format: LoadFormat,
    write: LoadConfiguration['writeDisposition'],
    create: LoadConfiguration['createDisposition'],
    allowAdd: boolean,
  ): LoadConfiguration {
    return {
      sourceFormat: format === 'ndjson' ? 'NEWLINE_DELIMITED_JSON' : 'PARQUET',
      schema: { fields },
      writeDisposition: write,
      createDisposition: create,
      maxBadRecords: 0,
      ...(allowAdd ? { schemaUpdateOptions: ['ALLOW_FIELD_ADDITION'] } : {}),
      ...(format === 'parquet' ? { decimalTargetTypes: ['NUMERIC', 'BIGNUMERIC'] } : {}),
    };
  }

  /** One file: one load job straight into the target, atomic at job completion. */
  async #loadDirect(
    request: LoadRequest,
    base: string,
    file: string,
    fields: readonly BigQueryField[],
    format: LoadFormat,
    allowAdd: boolean,
  ): Promise<JobView & { attached: boolean }> {
    const { dataset, table } = this.#config;
    const write = request.mode === 'full' ? 'WRITE_TRUNCATE' : 'WRITE_APPEND';
    const load = this.#loadConfig(
      fields,
      format,
      write,
      'CREATE_IF_NEEDED',
      allowAdd && write === 'WRITE_APPEND',
    );
    const what = `${this.label}: load job for run ${request.runId}`;
    return runJob(
      this.#api,
      base,
      what,
      (jobId) => this.#api.insertLoadJob(jobId, dataset, table, file, load),
      this.#tuning.poll,
      request.signal,
    );
  }

  /**
   * Several files, or a merge: the files load into a per-attempt staging table (its own load
   * quota), then one query job changes the target: SELECT into it (WRITE_TRUNCATE / WRITE_APPEND)
   * or MERGE. Staging job ids carry an attempt nonce: staged rows of an abandoned attempt are
   * never mixed into a new attempt's staging table.
   */
  async #loadViaStaging(
    request: LoadRequest,
    base: string,
    files: readonly string[],
    fields: readonly BigQueryField[],
    format: LoadFormat,
    targetMissing: boolean,
    added: ReadonlySet<string>,
  ): Promise<JobView & { attached: boolean }> {
    const { project, dataset, table } = this.#config;
    const nonce = randomUUID().slice(0, 8);
    const stagingTable = `${table.split('$')[0] ?? table}__etld_stg_${request.sequence}_${nonce}`;
    const merge = request.mode === 'merge';
    const stagingFields: BigQueryField[] = fields.map((f) => ({ ...f, mode: 'NULLABLE' }));
    const what = `${this.label}: run ${request.runId}`;
    try {
      await this.#api
        .createTable(dataset, stagingTable, stagingFields, new Date(Date.now() + this.#tuning.stagingTtlMs))
        .catch((e: unknown) => {
          throw toBigQueryError(e, `${what}: creating staging table ${stagingTable}`);
        });
      const load = this.#loadConfig(stagingFields, format, 'WRITE_APPEND', 'CREATE_NEVER', false);
      for (const [index, file] of files.entries()) {
        await runJob(
          this.#api,
          `${this.#jobBase(request.pipeline, request.sequence)}_${nonce}_b${index}`,
          `${what}: staging load ${index + 1}/${files.length}`,
          (jobId) => this.#api.insertLoadJob(jobId, dataset, stagingTable, file, load),
          this.#tuning.poll,
          request.signal,
        );
      }
      const staging = tablePath(project, dataset, stagingTable);
      const target = tablePath(project, dataset, table);
      const columns = fields.map((f) => f.name);
      if (merge || request.mode === 'append_missing') {
        await this.#prepareMergeTarget(fields, targetMissing, added);
        const compare = new Set(request.compare ?? []);
        const sql = merge
          ? mergeSql({ target, staging, columns, key: request.key ?? [] })
          : appendMissingSql({
              target,
              staging,
              columns,
              compare: fields.filter((f) => compare.has(f.name)),
            });
        return await runJob(
          this.#api,
          base,
          `${what}: ${merge ? 'MERGE into' : 'append of the missing rows to'} ${this.#tableLabel}`,
          (jobId) => this.#api.insertQueryJob(jobId, { query: sql, useLegacySql: false }),
          this.#tuning.poll,
          request.signal,
        );
      }
      const query = {
        query: `SELECT ${columns.map(quoteName).join(', ')} FROM ${staging}`,
        useLegacySql: false as const,
        destinationTable: { projectId: project, datasetId: dataset, tableId: table },
        writeDisposition: request.mode === 'full' ? ('WRITE_TRUNCATE' as const) : ('WRITE_APPEND' as const),
        createDisposition: 'CREATE_IF_NEEDED' as const,
        ...(request.mode === 'incremental' && added.size > 0
          ? { schemaUpdateOptions: ['ALLOW_FIELD_ADDITION'] }
          : {}),
      };
      return await runJob(
        this.#api,
        base,
        `${what}: copy from staging into ${this.#tableLabel}`,
        (jobId) => this.#api.insertQueryJob(jobId, query),
        this.#tuning.poll,
        request.signal,
      );
    } finally {
      await this.#api.deleteTable(dataset, stagingTable).catch((error: unknown) => {
        this.#logger.warning(
          `${this.label}: could not drop staging table ${stagingTable} (it expires on its own): ${toBigQueryError(error, 'tables.delete').message}`,
        );
      });
    }
  }

  /** DML cannot create a table or add columns: tables.insert / tables.patch do (metadata, no load quota). */
  async #prepareMergeTarget(
    fields: readonly BigQueryField[],
    targetMissing: boolean,
    added: ReadonlySet<string>,
  ): Promise<void> {
    const { dataset, table } = this.#config;
    try {
      if (targetMissing) await this.#api.createTable(dataset, table, fields);
      else if (added.size > 0) await this.#api.patchFields(dataset, table, fields);
    } catch (error) {
      throw toBigQueryError(error, `${this.label}: preparing the table for MERGE`);
    }
  }

  async #ensureDataset(): Promise<void> {
    const { dataset } = this.#config;
    try {
      if (!(await this.#api.datasetExists(dataset))) {
        this.#logger.info(`${this.label}: creating dataset ${this.#config.project}.${dataset}`);
        await this.#api.createDataset(dataset);
      }
    } catch (error) {
      // Another daemon may have created it meanwhile.
      if ((error as { code?: unknown }).code === 409) return;
      throw toBigQueryError(error, `${this.label}: creating dataset ${dataset}`);
    }
  }

  /** Indexes the commit in `_etld_commits` under a deterministic DML job id, so it is written once. */
  async #recordCommit(request: LoadRequest, job: JobView, rows?: number): Promise<void> {
    const { project, dataset, table } = this.#config;
    try {
      await this.#ensureDataset();
      if ((await this.#api.getTable(dataset, COMMITS_TABLE)) === undefined) {
        await this.#api.createTable(dataset, COMMITS_TABLE, COMMITS_FIELDS).catch((error: unknown) => {
          if ((error as { code?: unknown }).code !== 409) throw error;
        });
      }
    } catch (error) {
      throw toBigQueryError(error, `${this.label}: creating ${COMMITS_TABLE}`);
    }
    const recordBase = `${this.#jobBase(request.pipeline, request.sequence)}_record`;
    // Already recorded (a retried run whose commit was done): skip the DML insert altogether.
    if (
      (await findSucceededJob(this.#api, recordBase, this.label, this.#tuning.poll, request.signal)) !==
      undefined
    )
      return;
    const sql = recordCommitSql(tablePath(project, dataset, COMMITS_TABLE), {
      pipeline: request.pipeline,
      sequence: request.sequence,
      runId: request.runId,
      table,
      jobId: job.jobId,
      rows,
    });
    await runJob(
      this.#api,
      recordBase,
      `${this.label}: recording sequence ${request.sequence} in ${COMMITS_TABLE}`,
      (jobId) => this.#api.insertQueryJob(jobId, { query: sql, useLegacySql: false }),
      this.#tuning.poll,
      request.signal,
    );
  }

  close(): Promise<void> {
    // The client holds no connections beyond keep-alive sockets that close on their own.
    return Promise.resolve();
  }

  /** `etlctl test`: dataset, table, IAM permissions and a dry-run job, touching no data (bigquery-access.ts). */
  checkAccess(request: AccessCheckRequest): Promise<AccessCheck[]> {
    const { project, dataset, table } = this.#config;
    return checkBigQueryAccess({ api: this.#api, project, dataset, table }, request);
  }

  /**
   * `etlctl plan`: the bytes the queries of a load would process, by the path `#commit` takes
   * (bigquery-cost.ts). `loadBytes` is the files' size in the store, so the figure is an estimate
   * (compressed files hold more once loaded); merge and append_missing add the target's numBytes,
   * read with tables.get. Reads only.
   */
  async estimateQueryBytes(
    mode: LoadMode,
    loadBytes: number,
    loadFiles: number,
    signal?: AbortSignal,
  ): Promise<LoadQueryEstimate> {
    signal?.throwIfAborted();
    const readsTarget = (mode === 'merge' || mode === 'append_missing') && loadFiles > 0;
    const target = readsTarget ? await this.#targetTable() : undefined;
    return estimateLoadQueries(
      { mode, loadBytes, loadFiles, maxFileBytes: this.#tuning.maxFileBytes },
      target,
    );
  }
}

export const bigqueryDestination: DestinationDialect<'bigquery'> = {
  kind: 'bigquery',
  create: (config, context) => new BigQueryDestination(config, context),
};

/** The rows an append_missing INSERT job added, from its DML statistics. */
function appendedRows(job: JobView, label: string): number {
  if (job.dmlAffectedRows === undefined) {
    throw new EtlError(
      'DESTINATION_WRITE',
      `${label}: the append job ${job.jobId} finished without DML statistics (numDmlAffectedRows)`,
      { retryable: false },
    );
  }
  return job.dmlAffectedRows;
}
