/**
 * The few BigQuery REST calls the destination makes, over @google-cloud/bigquery. JSON calls go
 * through the client's authenticated `request` with bodies we build ourselves (so they are
 * exactly the REST reference's fields); file loads use `Table.createLoadJob`, the client's
 * multipart upload. With `apiEndpoint` the client talks to that endpoint without credentials
 * (PassThroughClient: no Authorization header, no metadata-server probe).
 */
import { BigQuery, type JobLoadMetadata, type Table } from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';
import type { BigQueryErrorProto } from './bigquery-errors.js';
import type { BigQueryField } from './bigquery-types.js';

export interface BigQueryClientSettings {
  readonly project: string;
  readonly location: string | undefined;
  /** Service-account key file; without it, application default credentials. */
  readonly keyFile: string | undefined;
  /** A local endpoint (tests, emulators): authentication is disabled. */
  readonly apiEndpoint: string | undefined;
}

export interface JobView {
  readonly jobId: string;
  readonly state: string;
  readonly errorResult: BigQueryErrorProto | undefined;
  readonly errors: readonly BigQueryErrorProto[];
  readonly outputRows: number | undefined;
  /** A DML query job's affected rows (INSERT, MERGE). */
  readonly dmlAffectedRows: number | undefined;
}

export interface TableView {
  readonly fields: readonly BigQueryField[];
  readonly numRows: number | undefined;
  /**
   * The table's logical (uncompressed) bytes outside the streaming buffer, as on-demand queries
   * bill them: what a query reading every column of the table processes.
   */
  readonly numBytes: number | undefined;
}

export interface LoadConfiguration {
  readonly sourceFormat: 'NEWLINE_DELIMITED_JSON' | 'PARQUET';
  readonly schema: { readonly fields: readonly BigQueryField[] };
  readonly writeDisposition: 'WRITE_TRUNCATE' | 'WRITE_APPEND';
  readonly createDisposition: 'CREATE_IF_NEEDED' | 'CREATE_NEVER';
  readonly schemaUpdateOptions?: readonly string[];
  readonly decimalTargetTypes?: readonly string[];
  readonly maxBadRecords: number;
}

export interface QueryConfiguration {
  readonly query: string;
  readonly useLegacySql: false;
  readonly destinationTable?: {
    readonly projectId: string;
    readonly datasetId: string;
    readonly tableId: string;
  };
  readonly writeDisposition?: 'WRITE_TRUNCATE' | 'WRITE_APPEND';
  readonly createDisposition?: 'CREATE_IF_NEEDED' | 'CREATE_NEVER';
  readonly schemaUpdateOptions?: readonly string[];
}

interface RawJob {
  jobReference?: { jobId?: string };
  status?: { state?: string; errorResult?: BigQueryErrorProto; errors?: BigQueryErrorProto[] };
  statistics?: { load?: { outputRows?: string }; query?: { numDmlAffectedRows?: string } };
}

function jobView(raw: RawJob, fallbackId: string): JobView {
  const rows = raw.statistics?.load?.outputRows;
  const affected = raw.statistics?.query?.numDmlAffectedRows;
  return {
    jobId: raw.jobReference?.jobId ?? fallbackId,
    state: raw.status?.state ?? 'PENDING',
    errorResult: raw.status?.errorResult,
    errors: raw.status?.errors ?? [],
    outputRows: rows === undefined ? undefined : Number(rows),
    dmlAffectedRows: affected === undefined ? undefined : Number(affected),
  };
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 404;
}

export class BigQueryApi {
  readonly project: string;
  readonly location: string | undefined;
  readonly #client: BigQuery;

  constructor(settings: BigQueryClientSettings) {
    this.project = settings.project;
    this.location = settings.location;
    this.#client =
      settings.apiEndpoint !== undefined
        ? new BigQuery({
            projectId: settings.project,
            apiEndpoint: settings.apiEndpoint,
            authClient: new PassThroughClient(),
          })
        : new BigQuery({ projectId: settings.project, keyFilename: settings.keyFile });
  }

  async #call<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    uri: string,
    json?: object,
    qs?: Record<string, string>,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#client.request(
        { method, uri, json: json ?? (method === 'GET' || method === 'DELETE' ? undefined : {}), qs },
        (error, body) => {
          if (error) reject(error);
          else resolve(body as T);
        },
      );
    });
  }

  #locationQuery(): Record<string, string> | undefined {
    return this.location === undefined ? undefined : { location: this.location };
  }

  async datasetExists(dataset: string): Promise<boolean> {
    try {
      await this.#call('GET', `/datasets/${dataset}`);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async createDataset(dataset: string): Promise<void> {
    await this.#call('POST', `/datasets`, {
      datasetReference: { projectId: this.project, datasetId: dataset },
      ...(this.location === undefined ? {} : { location: this.location }),
    });
  }

  async getTable(dataset: string, table: string): Promise<TableView | undefined> {
    try {
      // int64 figures travel as JSON strings.
      const raw = await this.#call<{
        schema?: { fields?: BigQueryField[] };
        numRows?: string;
        numBytes?: string;
      }>('GET', `/datasets/${dataset}/tables/${table}`);
      return {
        fields: raw.schema?.fields ?? [],
        numRows: raw.numRows === undefined ? undefined : Number(raw.numRows),
        numBytes: raw.numBytes === undefined ? undefined : Number(raw.numBytes),
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async createTable(
    dataset: string,
    table: string,
    fields: readonly BigQueryField[],
    expirationTime?: Date,
  ): Promise<void> {
    await this.#call('POST', `/datasets/${dataset}/tables`, {
      tableReference: { projectId: this.project, datasetId: dataset, tableId: table },
      schema: { fields },
      ...(expirationTime === undefined ? {} : { expirationTime: String(expirationTime.getTime()) }),
    });
  }

  /** Replaces the schema with `fields` (existing fields first): adds nullable columns. */
  async patchFields(dataset: string, table: string, fields: readonly BigQueryField[]): Promise<void> {
    await this.#call('PATCH', `/datasets/${dataset}/tables/${table}`, { schema: { fields } });
  }

  async deleteTable(dataset: string, table: string): Promise<void> {
    try {
      await this.#call('DELETE', `/datasets/${dataset}/tables/${table}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Uploads `file` as a load job; a 409 `duplicate` rejects with the ApiError (the caller attaches). */
  async insertLoadJob(
    jobId: string,
    dataset: string,
    table: string,
    file: string,
    load: LoadConfiguration,
  ): Promise<JobView> {
    // The Table is created without a location on purpose: the client would copy it into
    // configuration.load, which is not a JobConfigurationLoad field. BigQuery takes the job's
    // location from the destination dataset; jobs.get passes it explicitly.
    const target: Table = this.#client.dataset(dataset).table(table);
    // Our readonly arrays and string-typed precision are the REST shapes the client passes through.
    const metadata = { ...load, jobId } as unknown as JobLoadMetadata;
    const [job] = await target.createLoadJob(file, metadata);
    return jobView((job.metadata ?? {}) as RawJob, jobId);
  }

  async insertQueryJob(jobId: string, query: QueryConfiguration): Promise<JobView> {
    const raw = await this.#call<RawJob>('POST', `/jobs`, {
      jobReference: {
        projectId: this.project,
        jobId,
        ...(this.location === undefined ? {} : { location: this.location }),
      },
      configuration: { query },
    });
    return jobView(raw, jobId);
  }

  async getJob(jobId: string): Promise<JobView | undefined> {
    try {
      const raw = await this.#call<RawJob>('GET', `/jobs/${jobId}`, undefined, this.#locationQuery());
      return jobView(raw, jobId);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** A small read query (jobs.query); rows come back as arrays of text values. */
  async queryRows(sql: string, signal?: AbortSignal): Promise<(string | null)[][]> {
    type QueryAnswer = {
      jobComplete?: boolean;
      jobReference?: { jobId?: string; location?: string };
      rows?: { f: { v: string | null }[] }[];
      pageToken?: string;
    };
    let answer = await this.#call<QueryAnswer>('POST', `/queries`, {
      query: sql,
      useLegacySql: false,
      ...(this.location === undefined ? {} : { location: this.location }),
    });
    const jobId = answer.jobReference?.jobId;
    while (answer.jobComplete !== true) {
      if (jobId === undefined) throw new Error('jobs.query answered without a job reference');
      signal?.throwIfAborted();
      answer = await this.#call<QueryAnswer>('GET', `/queries/${jobId}`, undefined, {
        ...this.#locationQuery(),
        timeoutMs: '10000',
      });
    }
    return (answer.rows ?? []).map((row) => row.f.map((cell) => cell.v));
  }

  /**
   * tables.testIamPermissions: the subset of `permissions` (table-level ones, no wildcards) the
   * caller holds on the table. Reads no data; 404 when the table does not exist.
   */
  async testTablePermissions(
    dataset: string,
    table: string,
    permissions: readonly string[],
  ): Promise<string[]> {
    const answer = await this.#call<{ permissions?: string[] }>(
      'POST',
      `/datasets/${dataset}/tables/${encodeURIComponent(table)}:testIamPermissions`,
      { permissions },
    );
    // The API leaves the list out when the caller holds none of them.
    return answer.permissions ?? [];
  }

  /**
   * A dry-run query job (`configuration.dryRun`): BigQuery validates the query and checks the
   * caller's permissions (bigquery.jobs.create, and reading the tables it names) without running
   * or keeping a job.
   */
  async dryRunQuery(jobId: string, sql: string): Promise<void> {
    await this.#call('POST', `/jobs`, {
      jobReference: {
        projectId: this.project,
        jobId,
        ...(this.location === undefined ? {} : { location: this.location }),
      },
      configuration: { dryRun: true, query: { query: sql, useLegacySql: false } },
    });
  }
}
