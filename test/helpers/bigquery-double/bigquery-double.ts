/**
 * A strict local double of the BigQuery v2 REST API for the endpoints etld uses: datasets
 * get/insert, tables get/insert/patch/delete (get answers numRows and numBytes, the logical bytes
 * of the rows held, sized per type as BigQuery does), tabledata.list, multipart upload of load jobs,
 * jobs.insert (query), jobs.get (RUNNING until polled `pollsUntilDone` times, then DONE with or
 * without `errorResult`), 409 `duplicate` for a reused job id, jobs.query, tables.testIamPermissions
 * and dry-run jobs (`configuration.dryRun`, answered DONE and never stored). A test denies a
 * permission by adding it to `deniedPermissions`: testIamPermissions leaves it out, a job insert
 * without bigquery.jobs.create is refused 403 `accessDenied`, and a job that writes a table
 * without bigquery.tables.updateData fails `accessDenied`. Request bodies are
 * validated against the REST reference (rest-schemas.ts) and refused with 400 `invalid` when they
 * carry unknown fields or wrong shapes. Every request is logged for assertions.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { DoubleError, DoubleStorage } from './double-storage.js';
import { readNdjson } from './ndjson-reader.js';
import {
  datasetInsertSchema,
  jobSchema,
  queryRequestSchema,
  schemaUpdateProblem,
  tableInsertSchema,
  testIamPermissionsSchema,
  tablePatchSchema,
  type Field,
  type JobRequest,
} from './rest-schemas.js';

export interface ErrorProto {
  reason: string;
  message: string;
  location?: string;
}

export interface DoubleJob {
  readonly id: string;
  readonly request: JobRequest;
  readonly data: Buffer | undefined;
  state: 'RUNNING' | 'DONE';
  polls: number;
  inserts: number;
  errorResult?: ErrorProto;
  outputRows?: number;
  /** A DML query job's affected rows (statistics.query.numDmlAffectedRows). */
  dmlAffectedRows?: number;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

export interface BigQueryDouble {
  readonly endpoint: string;
  readonly project: string;
  readonly storage: DoubleStorage;
  readonly jobs: Map<string, DoubleJob>;
  readonly requests: LoggedRequest[];
  /** jobs.get calls a job stays RUNNING for (default 1: the first jobs.get already sees DONE… after one RUNNING answer to the insert). */
  pollsUntilDone: number;
  /** Decides a job's failure when it runs (instead of running it). */
  failJob: ((job: DoubleJob) => ErrorProto | undefined) | undefined;
  /** Jobs whose insert is processed but answered 503 once, as when a response is lost. */
  readonly loseInsertResponse: Set<string>;
  /** IAM permissions the caller does not hold (`bigquery.jobs.create`, `bigquery.tables.updateData`…). */
  readonly deniedPermissions: Set<string>;
  stop(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    throw new HttpError(400, 'invalid', `Invalid ${what}: ${issues}`);
  }
  return result.data;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Splits a multipart/related body into its parts' bodies. */
function multipartParts(body: Buffer, contentType: string): Buffer[] {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (boundary === undefined) throw new HttpError(400, 'invalid', 'multipart upload without a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    parts.push(part.subarray(headerEnd + 4));
    at = next;
  }
  return parts;
}

function jobResource(project: string, job: DoubleJob): object {
  return {
    kind: 'bigquery#job',
    id: `${project}:US.${job.id}`,
    jobReference: { projectId: project, jobId: job.id, location: 'US' },
    configuration: job.request.configuration,
    status: {
      state: job.state,
      ...(job.errorResult ? { errorResult: job.errorResult, errors: [job.errorResult] } : {}),
    },
    statistics: {
      ...(job.outputRows === undefined ? {} : { load: { outputRows: String(job.outputRows) } }),
      ...(job.dmlAffectedRows === undefined
        ? {}
        : { query: { numDmlAffectedRows: String(job.dmlAffectedRows) } }),
    },
  };
}

export async function startBigQueryDouble(
  options: { project?: string; pollsUntilDone?: number } = {},
): Promise<BigQueryDouble> {
  const project = options.project ?? 'etld-test';
  const storage = await DoubleStorage.create();
  const jobs = new Map<string, DoubleJob>();
  const requests: LoggedRequest[] = [];

  const requireTable = (dataset: string, table: string): Field[] => {
    const fields = storage.tables.get(DoubleStorage.key(dataset, table));
    if (fields === undefined)
      throw new DoubleError('notFound', `Not found: Table ${project}:${dataset}.${table}`);
    return fields;
  };

  async function runLoad(job: DoubleJob): Promise<void> {
    const load = job.request.configuration.load;
    if (load === undefined || job.data === undefined) return;
    const { datasetId, tableId } = load.destinationTable;
    if (!storage.datasets.has(datasetId))
      throw new DoubleError('notFound', `Not found: Dataset ${project}:${datasetId}`);
    const write = load.writeDisposition ?? 'WRITE_APPEND';
    const jobFields = load.schema.fields;
    const fields = storage.tables.get(DoubleStorage.key(datasetId, tableId));
    if (fields === undefined) {
      if (load.createDisposition === 'CREATE_NEVER')
        throw new DoubleError('notFound', `Not found: Table ${project}:${datasetId}.${tableId}`);
      await storage.createTable(datasetId, tableId, jobFields);
    } else if (write === 'WRITE_TRUNCATE') {
      // WRITE_TRUNCATE takes the schema from the job (REST reference); rows are replaced below.
      const same = JSON.stringify(fields) === JSON.stringify(jobFields);
      if (!same) {
        const rows = job.data;
        const parsed =
          load.sourceFormat === 'NEWLINE_DELIMITED_JSON' ? readNdjson(rows, jobFields) : undefined;
        await storage.dropTable(datasetId, tableId);
        await storage.createTable(datasetId, tableId, jobFields);
        if (parsed !== undefined) await storage.insertTextRows(datasetId, tableId, jobFields, parsed, false);
        else await storage.insertParquet(datasetId, tableId, jobFields, rows, false);
        job.outputRows = parsed?.length;
        return;
      }
    } else {
      const existing = new Map(fields.map((f) => [f.name.toLowerCase(), f]));
      for (const f of jobFields) {
        const have = existing.get(f.name.toLowerCase());
        if (
          have !== undefined &&
          (have.type !== f.type || have.precision !== f.precision || have.scale !== f.scale)
        ) {
          throw new DoubleError(
            'invalid',
            `Provided Schema does not match Table ${project}:${datasetId}.${tableId}. Field ${f.name} has changed type from ${have.type} to ${f.type}`,
          );
        }
      }
      const added = jobFields.filter((f) => !existing.has(f.name.toLowerCase()));
      if (added.length > 0) {
        if (!load.schemaUpdateOptions?.includes('ALLOW_FIELD_ADDITION')) {
          throw new DoubleError(
            'invalid',
            `Provided Schema does not match Table ${project}:${datasetId}.${tableId}. Cannot add fields (field: ${added[0]?.name})`,
          );
        }
      }
      if (write === 'WRITE_EMPTY' && (await storage.textRows(datasetId, tableId, '1')).length > 0) {
        throw new DoubleError('duplicate', `Already Exists: Table ${project}:${datasetId}.${tableId}`);
      }
      // Validate the data before adding fields, so a failed job changes nothing.
      const parsed =
        load.sourceFormat === 'NEWLINE_DELIMITED_JSON' ? readNdjson(job.data, jobFields) : undefined;
      if (added.length > 0) await storage.addFields(datasetId, tableId, added);
      if (parsed !== undefined) await storage.insertTextRows(datasetId, tableId, jobFields, parsed, false);
      else await storage.insertParquet(datasetId, tableId, jobFields, job.data, false);
      job.outputRows = parsed?.length;
      return;
    }
    if (load.sourceFormat === 'NEWLINE_DELIMITED_JSON') {
      const parsed = readNdjson(job.data, jobFields);
      await storage.insertTextRows(datasetId, tableId, jobFields, parsed, write === 'WRITE_TRUNCATE');
      job.outputRows = parsed.length;
    } else if (load.sourceFormat === 'PARQUET') {
      await storage.insertParquet(datasetId, tableId, jobFields, job.data, write === 'WRITE_TRUNCATE');
    } else {
      throw new DoubleError('invalid', `the double does not read ${load.sourceFormat}`);
    }
  }

  async function runQueryJob(job: DoubleJob): Promise<void> {
    const query = job.request.configuration.query;
    if (query === undefined) return;
    const destination = query.destinationTable;
    if (destination === undefined) {
      const result = await storage.run(query.query);
      // DuckDB answers INSERT, MERGE, UPDATE and DELETE with one row: the affected row count.
      if (/^\s*(INSERT|MERGE|UPDATE|DELETE)\b/i.test(query.query))
        job.dmlAffectedRows = Number(result.rows[0]?.[0] ?? 0);
      return;
    }
    const { datasetId, tableId } = destination;
    if (storage.tables.get(DoubleStorage.key(datasetId, tableId)) === undefined) {
      if (query.createDisposition === 'CREATE_NEVER')
        throw new DoubleError('notFound', `Not found: Table ${project}:${datasetId}.${tableId}`);
      // The result schema: the selected columns of the (single) source table.
      const source = /FROM\s+`[^.`]+\.([^.`]+)\.([^`]+)`/i.exec(query.query);
      const sourceFields = source ? requireTable(source[1] ?? '', source[2] ?? '') : [];
      const selected =
        /^SELECT\s+(.*?)\s+FROM/is
          .exec(query.query)?.[1]
          ?.split(',')
          .map((c) => c.trim().replaceAll('`', '')) ?? [];
      await storage.createTable(
        datasetId,
        tableId,
        sourceFields.filter((f) => selected.includes(f.name)),
      );
    } else if (query.schemaUpdateOptions?.includes('ALLOW_FIELD_ADDITION')) {
      const fields = requireTable(datasetId, tableId);
      const source = /FROM\s+`[^.`]+\.([^.`]+)\.([^`]+)`/i.exec(query.query);
      const sourceFields = source ? requireTable(source[1] ?? '', source[2] ?? '') : [];
      const added = sourceFields.filter(
        (f) => !fields.some((t) => t.name === f.name) && query.query.includes(`\`${f.name}\``),
      );
      if (added.length > 0) await storage.addFields(datasetId, tableId, added);
    }
    await storage.selectInto(query.query, datasetId, tableId, query.writeDisposition === 'WRITE_TRUNCATE');
  }

  /** A job that changes a table's rows: a load, a query with a destination table, or DML. */
  function writesData(job: DoubleJob): boolean {
    const { load, query } = job.request.configuration;
    if (load !== undefined) return true;
    return (
      query !== undefined &&
      (query.destinationTable !== undefined || /^\s*(INSERT|MERGE|UPDATE|DELETE)\b/i.test(query.query))
    );
  }

  async function runJob(job: DoubleJob): Promise<void> {
    const injected = double.failJob?.(job);
    if (injected !== undefined) {
      job.errorResult = injected;
      return;
    }
    if (double.deniedPermissions.has('bigquery.tables.updateData') && writesData(job)) {
      job.errorResult = {
        reason: 'accessDenied',
        message: `Access Denied: Table ${project}: Permission bigquery.tables.updateData denied (or it may not exist).`,
      };
      return;
    }
    try {
      if (job.request.configuration.load) await runLoad(job);
      else await runQueryJob(job);
    } catch (error) {
      if (error instanceof DoubleError) {
        job.errorResult = {
          reason: error.reason,
          message: error.message,
          ...(error.location ? { location: error.location } : {}),
        };
      } else {
        job.errorResult = {
          reason: job.request.configuration.query ? 'invalidQuery' : 'invalid',
          message: error instanceof Error ? error.message : String(error),
        };
      }
    }
  }

  function insertJob(request: JobRequest, data: Buffer | undefined, res: ServerResponse): void {
    if (request.jobReference.projectId !== project)
      throw new HttpError(
        400,
        'invalid',
        `jobReference.projectId ${request.jobReference.projectId} is not ${project}`,
      );
    if (double.deniedPermissions.has('bigquery.jobs.create'))
      throw new HttpError(
        403,
        'accessDenied',
        `Access Denied: Project ${project}: User does not have bigquery.jobs.create permission in project ${project}.`,
      );
    if (request.configuration.dryRun === true) {
      if (request.configuration.query === undefined)
        throw new HttpError(400, 'invalid', 'the double answers dry runs of query jobs only');
      // A dry run is validated and answered, never stored: its id may be reused.
      send(res, 200, {
        kind: 'bigquery#job',
        jobReference: { projectId: project, location: 'US' },
        configuration: request.configuration,
        status: { state: 'DONE' },
        statistics: { totalBytesProcessed: '0', query: { totalBytesProcessed: '0' } },
      });
      return;
    }
    const config = request.configuration.load ?? request.configuration.query;
    const problem = config === undefined ? undefined : schemaUpdateProblem(config);
    if (problem !== undefined) throw new HttpError(400, 'invalid', problem);
    const existing = jobs.get(request.jobReference.jobId);
    if (existing !== undefined) {
      existing.inserts += 1;
      throw new HttpError(
        409,
        'duplicate',
        `Already Exists: Job ${project}:US.${request.jobReference.jobId}`,
      );
    }
    const job: DoubleJob = {
      id: request.jobReference.jobId,
      request,
      data,
      state: 'RUNNING',
      polls: 0,
      inserts: 1,
    };
    jobs.set(job.id, job);
    if (double.loseInsertResponse.delete(job.id))
      throw new HttpError(503, 'backendError', 'Backend error (the job was created; this answer is lost)');
    send(res, 200, jobResource(project, job));
  }

  function send(res: ServerResponse, status: number, body: object | undefined): void {
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(text);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    const isJson = raw.length > 0 && contentType.includes('application/json');
    let body: unknown = undefined;
    if (isJson) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new HttpError(400, 'parseError', 'Invalid JSON payload received.');
      }
    }
    requests.push({
      method,
      path: url.pathname,
      body: isJson ? body : contentType.startsWith('multipart') ? 'multipart' : undefined,
    });
    const path = url.pathname;
    const p = `/projects/${project}`;
    let m: RegExpExecArray | null;

    if (method === 'POST' && path === `/upload/bigquery/v2${p}/jobs`) {
      if (url.searchParams.get('uploadType') !== 'multipart')
        throw new HttpError(400, 'invalid', 'only uploadType=multipart is served');
      const [meta, data] = multipartParts(raw, contentType);
      if (meta === undefined || data === undefined)
        throw new HttpError(400, 'invalid', 'multipart upload needs a metadata part and a media part');
      const request = parse(jobSchema, JSON.parse(meta.toString('utf8')), 'Job');
      if (request.configuration.load === undefined)
        throw new HttpError(400, 'invalid', 'an upload must carry configuration.load');
      insertJob(request, data, res);
      return;
    }
    const base = `/bigquery/v2${p}`;
    if (!path.startsWith(base)) throw new HttpError(404, 'notFound', `Not found: ${path}`);
    const rest = path.slice(base.length);
    if (method === 'POST' && rest === '/jobs') {
      const request = parse(jobSchema, body, 'Job');
      if (request.configuration.query === undefined)
        throw new HttpError(400, 'invalid', 'load jobs without media are not served');
      insertJob(request, undefined, res);
      return;
    }
    if (method === 'GET' && (m = /^\/jobs\/([^/]+)$/.exec(rest))) {
      const job = jobs.get(decodeURIComponent(m[1] ?? ''));
      if (job === undefined) throw new HttpError(404, 'notFound', `Not found: Job ${project}:${m[1]}`);
      job.polls += 1;
      if (job.state === 'RUNNING' && job.polls >= double.pollsUntilDone) {
        await runJob(job);
        job.state = 'DONE';
      }
      send(res, 200, jobResource(project, job));
      return;
    }
    if (method === 'POST' && rest === '/queries') {
      const request = parse(queryRequestSchema, body, 'QueryRequest');
      let result: { columns: string[]; rows: (string | null)[][] };
      try {
        result = await storage.run(request.query);
      } catch (error) {
        throw new HttpError(400, 'invalidQuery', error instanceof Error ? error.message : String(error));
      }
      send(res, 200, {
        kind: 'bigquery#queryResponse',
        jobComplete: true,
        jobReference: { projectId: project, jobId: `query_${requests.length}`, location: 'US' },
        schema: { fields: result.columns.map((name) => ({ name, type: 'STRING', mode: 'NULLABLE' })) },
        rows: result.rows.map((r) => ({ f: r.map((v) => ({ v })) })),
        totalRows: String(result.rows.length),
      });
      return;
    }
    if (method === 'POST' && rest === '/datasets') {
      const request = parse(datasetInsertSchema, body, 'Dataset');
      const id = request.datasetReference.datasetId;
      if (storage.datasets.has(id))
        throw new HttpError(409, 'duplicate', `Already Exists: Dataset ${project}:${id}`);
      await storage.createDataset(id);
      send(res, 200, {
        kind: 'bigquery#dataset',
        datasetReference: request.datasetReference,
        location: request.location ?? 'US',
      });
      return;
    }
    if ((m = /^\/datasets\/([^/]+)$/.exec(rest)) && method === 'GET') {
      if (!storage.datasets.has(m[1] ?? ''))
        throw new HttpError(404, 'notFound', `Not found: Dataset ${project}:${m[1]}`);
      send(res, 200, { kind: 'bigquery#dataset', datasetReference: { projectId: project, datasetId: m[1] } });
      return;
    }
    if ((m = /^\/datasets\/([^/]+)\/tables$/.exec(rest)) && method === 'POST') {
      const dataset = m[1] ?? '';
      const request = parse(tableInsertSchema, body, 'Table');
      if (!storage.datasets.has(dataset))
        throw new HttpError(404, 'notFound', `Not found: Dataset ${project}:${dataset}`);
      const id = request.tableReference.tableId;
      if (storage.tables.has(DoubleStorage.key(dataset, id)))
        throw new HttpError(409, 'duplicate', `Already Exists: Table ${project}:${dataset}.${id}`);
      await storage.createTable(dataset, id, request.schema.fields);
      send(res, 200, {
        kind: 'bigquery#table',
        tableReference: request.tableReference,
        schema: request.schema,
      });
      return;
    }
    if (method === 'POST' && (m = /^\/datasets\/([^/]+)\/tables\/([^/]+):testIamPermissions$/.exec(rest))) {
      const dataset = m[1] ?? '';
      const table = decodeURIComponent(m[2] ?? '');
      const request = parse(testIamPermissionsSchema, body, 'TestIamPermissionsRequest');
      if (!storage.tables.has(DoubleStorage.key(dataset, table)))
        throw new HttpError(404, 'notFound', `Not found: Table ${project}:${dataset}.${table}`);
      const granted = request.permissions.filter((p) => !double.deniedPermissions.has(p));
      // Like the API: the list is left out when none is held.
      send(res, 200, granted.length === 0 ? {} : { permissions: granted });
      return;
    }
    if ((m = /^\/datasets\/([^/]+)\/tables\/([^/]+)(\/data)?$/.exec(rest))) {
      const dataset = m[1] ?? '';
      const table = decodeURIComponent(m[2] ?? '');
      const fields = storage.tables.get(DoubleStorage.key(dataset, table));
      if (fields === undefined)
        throw new HttpError(404, 'notFound', `Not found: Table ${project}:${dataset}.${table}`);
      if (m[3] !== undefined && method === 'GET') {
        const rows = await storage.textRows(dataset, table, '1');
        send(res, 200, {
          kind: 'bigquery#tableDataList',
          totalRows: String(rows.length),
          rows: rows.map((r) => ({ f: fields.map((f) => ({ v: r[f.name] ?? null })) })),
        });
        return;
      }
      if (method === 'GET') {
        const rows = await storage.textRows(dataset, table, '1');
        send(res, 200, {
          kind: 'bigquery#table',
          tableReference: { projectId: project, datasetId: dataset, tableId: table },
          schema: { fields },
          numRows: String(rows.length),
          numBytes: String(await storage.logicalBytes(dataset, table)),
        });
        return;
      }
      if (method === 'PATCH') {
        const request = parse(tablePatchSchema, body, 'Table patch');
        const kept = request.schema.fields.slice(0, fields.length);
        if (
          JSON.stringify(kept.map((f) => [f.name, f.type])) !==
          JSON.stringify(fields.map((f) => [f.name, f.type]))
        ) {
          throw new HttpError(
            400,
            'invalid',
            'Provided Schema does not match Table: patch may only append fields',
          );
        }
        await storage.addFields(dataset, table, request.schema.fields.slice(fields.length));
        send(res, 200, { kind: 'bigquery#table', schema: request.schema });
        return;
      }
      if (method === 'DELETE') {
        await storage.dropTable(dataset, table);
        send(res, 204, undefined);
        return;
      }
    }
    throw new HttpError(404, 'notFound', `the double does not serve ${method} ${path}`);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const reason = error instanceof HttpError ? error.reason : 'internalError';
      const message = error instanceof Error ? error.message : String(error);
      send(res, status, {
        error: { code: status, message, errors: [{ reason, message, domain: 'global' }] },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const double: BigQueryDouble = {
    endpoint: `http://127.0.0.1:${port}`,
    project,
    storage,
    jobs,
    requests,
    pollsUntilDone: options.pollsUntilDone ?? 1,
    failJob: undefined,
    loseInsertResponse: new Set(),
    deniedPermissions: new Set(),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      storage.close();
    },
  };
  return double;
}
