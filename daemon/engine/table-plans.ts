/**
 * `plan`, `preview`, `validate --sources`, `test` and `vacuum` of a multi-table pipeline: discovery as a run does it,
 * then each selected table through the single-table code under its member pipeline. Writes nothing.
 */
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import { EtlError, toEtlError } from '../../shared/errors.js';
import type { ConnectionTest, Plan, Preview } from '../../shared/protocol.js';
import type { VacuumOutcome } from '../destinations/destination.js';
import { parseQualifiedName } from '../../shared/qualified-name.js';
import type { AttemptDeps } from './run-attempt.js';
import { discoverTables, type TableDiscovery } from './table-discovery.js';
import { tableDialect, type TableMember } from './table-members.js';

type PlanOne = (deps: AttemptDeps, pipeline: LoadedPipeline, signal?: AbortSignal) => Promise<Plan>;

function labelOf(pipeline: LoadedPipeline, member: TableMember): string {
  return member.name.slice(pipeline.name.length + 1);
}

/** What discovery reports besides the tables: names missing from the source, unused settings, gone tables. */
function discoveryNotes(deps: AttemptDeps, pipeline: LoadedPipeline, discovery: TableDiscovery): string[] {
  const current = new Set(discovery.members.map((m) => labelOf(pipeline, m)));
  const gone = deps.store
    .latestRunTables(pipeline.name)
    .filter((r) => !current.has(r.table) && r.member.startsWith(`${pipeline.name}/`))
    .map((r) => r.table)
    .filter((table) => !discovery.missing.includes(table));
  return [
    `${discovery.members.length} table(s) selected by source.tables`,
    ...discovery.missing.map((t) => `source.tables names ${t}, which the source does not have: runs fail it`),
    ...discovery.unusedSettings.map((t) => `tables.${t} names no table source.tables selects: unused`),
    ...gone.map(
      (t) =>
        `table ${t} was loaded before and is no longer selected: it is not loaded, its destination is kept`,
    ),
  ];
}

export async function planTables(
  deps: AttemptDeps,
  pipeline: LoadedPipeline,
  planOne: PlanOne,
  signal?: AbortSignal,
): Promise<Plan> {
  const discovery = await discoverTables(deps, pipeline, signal);
  const earlier = new Set(deps.store.latestRunTables(pipeline.name).map((r) => r.table));
  const tables: NonNullable<Plan['tables']> = [];
  // One table after another: each plan connects and reads statistics, and a plan is a command an
  // operator waits for, not a batch job.
  for (const member of discovery.members) {
    const base = {
      table: member.table,
      state_name: member.name,
      destination: member.target,
      new: !earlier.has(labelOf(pipeline, member)),
    };
    if (!('pipeline' in member.loadable)) {
      tables.push({ ...base, problem: member.loadable.problem, plan: null });
      continue;
    }
    try {
      tables.push({ ...base, problem: null, plan: await planOne(deps, member.loadable.pipeline, signal) });
    } catch (error) {
      if (signal?.aborted === true) throw error;
      tables.push({ ...base, problem: `table ${member.table}: ${toEtlError(error).message}`, plan: null });
    }
  }
  const d = pipeline.config.destination;
  return {
    pipeline: pipeline.name,
    mode: pipeline.config.load.mode,
    watermark_from: null,
    watermark_to: null,
    parts: tables.flatMap((t) => t.plan?.parts ?? []),
    schema_diff: [],
    destination: `${d.type} ${d.type === 'delta' ? d.path : d.table} (one per table)`,
    notes: discoveryNotes(deps, pipeline, discovery),
    checks: [],
    check_sample_rows: 0,
    tables,
  };
}

/** The member `text` names: its label as `status` shows it, or the table as SQL would name it. */
export function findMember(
  pipeline: LoadedPipeline,
  members: readonly TableMember[],
  text: string,
): TableMember | undefined {
  const exact = members.find((m) => labelOf(pipeline, m) === text || m.table === text);
  if (exact !== undefined) return exact;
  const parsed = parseQualifiedName(text, tableDialect(pipeline.config));
  if (!parsed.ok) return undefined;
  const wanted = parsed.parts.join('\u0000');
  return members.find((m) => {
    const own = parseQualifiedName(m.table, tableDialect(pipeline.config));
    if (!own.ok) return false;
    // A name without its schema matches the table of any schema when only one has that name.
    const parts = own.parts.slice(-parsed.parts.length);
    return parts.join('\u0000') === wanted;
  });
}

export async function previewTable(
  deps: AttemptDeps,
  pipeline: LoadedPipeline,
  limit: number,
  table: string | undefined,
  previewOne: (
    deps: AttemptDeps,
    pipeline: LoadedPipeline,
    limit: number,
    signal?: AbortSignal,
  ) => Promise<Preview>,
  signal?: AbortSignal,
): Promise<Preview> {
  const discovery = await discoverTables(deps, pipeline, signal);
  const member =
    table === undefined
      ? discovery.members.find((m) => 'pipeline' in m.loadable)
      : findMember(pipeline, discovery.members, table);
  if (member === undefined)
    throw new EtlError(
      'NOT_FOUND',
      table === undefined
        ? `pipeline ${pipeline.name}: source.tables selects no table that can load`
        : `pipeline ${pipeline.name} loads no table ${table} (tables: ${discovery.members.map((m) => labelOf(pipeline, m)).join(', ') || 'none'})`,
    );
  if (!('pipeline' in member.loadable)) throw new EtlError('CONFIG_INVALID', member.loadable.problem);
  return previewOne(deps, member.loadable.pipeline, limit, signal);
}

/** `validate --sources`: each table's problems, by table, and what discovery could not find. */
export async function validateTables(
  deps: AttemptDeps,
  pipeline: LoadedPipeline,
  validateOne: (deps: AttemptDeps, pipeline: LoadedPipeline, signal?: AbortSignal) => Promise<string[]>,
  signal?: AbortSignal,
): Promise<string[]> {
  const discovery = await discoverTables(deps, pipeline, signal);
  const problems: string[] = discovery.missing.map(
    (t) => `source.tables names ${t}, which the source does not have (or the login cannot see)`,
  );
  for (const member of discovery.members) {
    if (!('pipeline' in member.loadable)) {
      problems.push(member.loadable.problem);
      continue;
    }
    for (const problem of await validateOne(deps, member.loadable.pipeline, signal))
      problems.push(`table ${member.table}: ${problem}`);
  }
  return problems;
}

/**
 * `etlctl test` of a multi-table pipeline: every selected table's checks, each named by its table;
 * a table that cannot load as configured is a failed check of its own.
 */
export async function testTables(
  deps: AttemptDeps,
  pipeline: LoadedPipeline,
  testOne: (deps: AttemptDeps, pipeline: LoadedPipeline, signal?: AbortSignal) => Promise<ConnectionTest>,
  signal?: AbortSignal,
): Promise<ConnectionTest> {
  const discovery = await discoverTables(deps, pipeline, signal);
  const checks: ConnectionTest['checks'] = discovery.missing.map((text) => ({
    target: 'source',
    check: `table ${text}`,
    status: 'failed',
    detail: `source.tables names ${text}, which the source does not have (or the login cannot see)`,
    code: 'CONFIG_INVALID',
    duration_ms: 0,
  }));
  for (const member of discovery.members) {
    if (!('pipeline' in member.loadable)) {
      checks.push({
        target: 'source',
        check: `table ${member.table}`,
        status: 'failed',
        detail: member.loadable.problem,
        code: member.loadable.error?.code ?? 'CONFIG_INVALID',
        duration_ms: 0,
      });
      continue;
    }
    const tested = await testOne(deps, member.loadable.pipeline, signal);
    for (const check of tested.checks) checks.push({ ...check, check: `${member.table}: ${check.check}` });
  }
  const d = pipeline.config.destination;
  return {
    pipeline: pipeline.name,
    ok: checks.every((c) => c.status !== 'failed'),
    source: `${pipeline.config.source.type} tables ${(pipeline.config.source.tables ?? []).join(', ')}`,
    destination: `${d.type} ${d.type === 'delta' ? d.path : d.table} (one per table)`,
    mode: pipeline.config.load.mode,
    checks,
  };
}

/** `etlctl vacuum` of a multi-table pipeline: each table's destination, its files named under it. */
export async function vacuumTables(
  deps: AttemptDeps,
  pipeline: LoadedPipeline,
  vacuumOne: (pipeline: LoadedPipeline) => Promise<VacuumOutcome>,
): Promise<VacuumOutcome> {
  const discovery = await discoverTables(deps, pipeline, undefined);
  const files: string[] = [];
  let bytes = 0;
  for (const member of discovery.members) {
    if (!('pipeline' in member.loadable)) continue;
    const outcome = await vacuumOne(member.loadable.pipeline);
    files.push(...outcome.files.map((file) => `${member.target}/${file}`));
    bytes += outcome.bytes;
  }
  return { files, bytes };
}
