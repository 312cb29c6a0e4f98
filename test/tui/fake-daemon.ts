/** In-memory daemon behaviour behind FakeClient: enough to drive the console's flows. */
import { EtlError } from '../../shared/errors.js';
import type {
  AlertRecord,
  LogLine,
  MethodResult,
  PipelineSummary,
  RunRecord,
} from '../../shared/protocol.js';
import type { RunTables } from '../../shared/protocol-tables.js';
import { alertTextFields, containsText, runTextFields } from '../../shared/record-text.js';
import { FakeClient, type Handlers } from './fake-client.js';
import { info, status } from './fixtures.js';

/** A listing as the daemon pages it: the text filter, the records after `before`, `limit` of them. */
function page<T>(
  all: readonly T[],
  params: { limit: number; text?: string; invert_text?: boolean; before?: string | undefined },
  key: (item: T) => string,
  fields: (item: T) => string[],
): T[] {
  const text = params.text;
  const matching =
    text === undefined
      ? all
      : all.filter((item) => containsText(fields(item), text) !== (params.invert_text ?? false));
  const start =
    params.before === undefined ? 0 : matching.findIndex((item) => key(item) === params.before) + 1;
  return matching.slice(start, start + params.limit);
}

export class FakeDaemon {
  pipelines: PipelineSummary[];
  history = new Map<string, RunRecord[]>();
  logs: LogLine[] = [];
  alerts: AlertRecord[] = [];
  /** The tables of each multi-table pipeline's newest run (`tables`); others have none. */
  runTables = new Map<string, RunTables>();
  /** What the file of each pipeline holds on disk (`y`). */
  files = new Map<string, string>();
  /** What `hosts` answers (`:hosts`); null: the daemon refuses it, as one before fleet mode would. */
  fleet: MethodResult<'hosts'> | null = null;
  #runs = 0;

  constructor(pipelines: PipelineSummary[]) {
    this.pipelines = pipelines;
  }

  #find(name: string | undefined): PipelineSummary {
    const found = this.pipelines.find((p) => p.name === name);
    if (found === undefined) throw new EtlError('NOT_FOUND', `no pipeline named "${name ?? ''}"`);
    return found;
  }

  #update(name: string, change: Partial<PipelineSummary>): void {
    this.pipelines = this.pipelines.map((p) => (p.name === name ? { ...p, ...change } : p));
  }

  handlers(): Handlers {
    return {
      list: () => this.pipelines,
      hosts: () => {
        if (this.fleet === null) throw new EtlError('UNKNOWN_METHOD', 'unknown method "hosts"');
        return this.fleet;
      },
      info: () => info(),
      subscribe: (params) => ({ topics: [...(params?.topics ?? [])] }),
      unsubscribe: () => ({ ok: true }),
      status: (params) => status(this.#find(params?.pipeline)),
      history: (params) => this.history.get(this.#find(params?.pipeline).name) ?? [],
      tables: (params) => {
        const name = this.#find(params?.pipeline).name;
        return this.runTables.get(name) ?? { pipeline: name, sequence: null, tables: [] };
      },
      why: (params) => ({
        pipeline: this.#find(params?.pipeline).name,
        next_run_at: null,
        lines: ['paused by operator'],
      }),
      logs: (params) => ({
        lines: this.logs.filter((l) => params?.pipeline === undefined || l.pipeline === params.pipeline),
        following: params?.follow ?? false,
      }),
      runs: (params) =>
        page(
          [...this.history.values()].flat(),
          { limit: 50, ...params },
          (r) => r.id,
          (r) =>
            runTextFields({ ...r, errorCode: r.error?.code ?? null, errorMessage: r.error?.message ?? null }),
        ),
      alerts: (params) =>
        page(
          this.alerts,
          { limit: 200, ...params, before: params?.before?.toString() },
          (a) => String(a.id),
          (a) => alertTextFields({ ...a, runId: a.run_id }),
        ),
      pipeline_file: (params) => {
        const target = this.#find(params?.pipeline);
        const text = this.files.get(target.name);
        if (text === undefined) throw new EtlError('NOT_FOUND', `cannot read ${target.file} (ENOENT)`);
        return {
          pipeline: target.name,
          file: target.file,
          text,
          bytes: text.length,
          modified_at: null,
          truncated: false,
          masked: false,
        };
      },
      start: (params) => {
        const target = this.#find(params?.pipeline);
        if (target.state === 'invalid') throw new EtlError('ILLEGAL_STATE', `${target.name} is invalid`);
        this.#runs += 1;
        this.#update(target.name, { state: 'running' });
        return { run_id: `run-${this.#runs}`, pipeline: target.name, kind: 'normal' };
      },
      stop: (params) => {
        const target = this.#find(params?.pipeline);
        this.#update(target.name, { state: 'idle' });
        return { run_id: 'run-1', stopped: true };
      },
      pause: (params) => {
        this.#update(this.#find(params?.pipeline).name, { paused: true });
        return { pipeline: params?.pipeline ?? '', paused: true };
      },
      resume: (params) => {
        this.#update(this.#find(params?.pipeline).name, { paused: false });
        return { pipeline: params?.pipeline ?? '', paused: false };
      },
    };
  }

  client(): FakeClient {
    return new FakeClient(this.handlers());
  }
}
