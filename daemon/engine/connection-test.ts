/**
 * `etlctl test <pipeline>`: what an operator wants to know before enabling a pipeline, asked of the
 * real source and destination with the daemon's credentials, moving no row and creating nothing.
 *
 * Source, per shard, holding one of its host's source slots (the governor every run goes through,
 * so a test never exceeds `source_slots_per_host`): connect (one attempt, the connection's
 * timeout), describe the table or query as runs do (`SELECT * … LIMIT 0`), the listed columns,
 * the cursor and key columns and their types, and a zero-row SELECT of exactly the run's column
 * expressions (`WHERE 1 = 0`): the database checks the privileges of every column it names and
 * returns nothing.
 * Destination: its own `checkAccess` (connection, table, privileges or directory permissions for
 * the load mode), then `planSchema` with the columns a run would load. The two sides run
 * concurrently and independently: a destination that is down does not hide the source's answers.
 */
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import { SHARD_COLUMN, sourceConnection, type PipelineConfig } from '../../shared/config/pipeline-schema.js';
import { isEtlError, toEtlError } from '../../shared/errors.js';
import type { ConnectionCheck, ConnectionTest } from '../../shared/protocol.js';
import { typeToString, type ColumnSchema } from '../../shared/types.js';
import { CheckRecorder, type AccessCheck } from '../destinations/access-check.js';
import type { Destination } from '../destinations/destination.js';
import type { SourceGovernor } from './engine.js';
import { openDestination, requireColumn, sameColumns, selectColumns, type EngineDeps } from './run-setup.js';
import { openSource, type ShardSource, type SourceHandle } from './source-shards.js';
import { compileTransforms } from './transforms.js';
import { checkLagCursor } from './watermarks.js';
import { testFileSource } from './file-connection-test.js';

export interface ConnectionTestDeps extends EngineDeps {
  readonly governor: SourceGovernor;
}

/** The deadline of each check but the connect (which gets the connection's own timeout). */
const CHECK_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
/** How long a shard waits for a slot on its host while runs hold them all. */
const SLOT_WAIT_MS = 60_000;

/** The order checks are printed in, whatever order they finished in. */
const ORDER = [
  'connect',
  'list',
  'read',
  'table',
  'columns',
  'cursor_column',
  'key_columns',
  'select_permission',
  'destination_connect',
  'destination_table',
  'table_features',
  'write_permission',
  'job_permission',
  'schema',
];

function relationName(config: PipelineConfig): string {
  return config.source.table ?? 'the source query';
}

function columnList(columns: readonly ColumnSchema[]): string {
  const shown = columns.slice(0, 12).map((c) => `${c.name} ${typeToString(c.type)}`);
  return columns.length > shown.length
    ? `${shown.join(', ')}, … (${columns.length} in all)`
    : shown.join(', ');
}

function toWire(
  target: 'source' | 'destination',
  shard: string | undefined,
  c: AccessCheck,
): ConnectionCheck {
  return {
    target,
    ...(shard === undefined ? {} : { shard }),
    check: c.check,
    status: c.status,
    detail: c.detail,
    code: c.code,
    duration_ms: c.durationMs,
  };
}

interface ShardResult {
  readonly shard: ShardSource;
  readonly recorder: CheckRecorder;
  /** The shard's columns as `source.columns` selects them; undefined when not described. */
  readonly columns: ColumnSchema[] | undefined;
}

/** The checks that need the shard's server, in one slot of its host. */
async function probeShard(
  deps: ConnectionTestDeps,
  config: PipelineConfig,
  source: SourceHandle,
  shard: ShardSource,
  connectTimeoutMs: number,
  signal: AbortSignal,
): Promise<ShardResult> {
  const recorder = new CheckRecorder({
    signal,
    timeoutMs: CHECK_TIMEOUT_MS,
    timeoutCode: 'SOURCE_TIMEOUT',
    failedCode: 'SOURCE_PERMISSION',
  });
  const name = relationName(config);
  const notReached = (why: string): ShardResult => {
    for (const check of ['table', 'columns', 'cursor_column', 'key_columns', 'select_permission'])
      recorder.skip(check, `not checked: ${why}`);
    return { shard, recorder, columns: undefined };
  };
  const waitStarted = performance.now();
  let release: () => void;
  try {
    release = await deps.governor.acquire(
      shard.hostKey,
      AbortSignal.any([signal, AbortSignal.timeout(SLOT_WAIT_MS)]),
    );
  } catch {
    recorder.checks.push({
      check: 'connect',
      status: 'failed',
      code: 'SOURCE_TIMEOUT',
      detail: `no source slot on ${shard.hostKey} within ${SLOT_WAIT_MS / 1000}s: running pipelines hold all of them (source_slots_per_host); try again when they finish`,
      durationMs: Math.round(performance.now() - waitStarted),
    });
    return notReached('no source slot');
  }
  try {
    const connected = await recorder.run(
      'connect',
      async (s) => {
        await shard.driver.init(s);
        return { status: 'ok', detail: `connected to ${shard.hostKey} (shard ${shard.name})`, value: true };
      },
      // The driver's own timeout answers first, with its message; this only bounds a hang.
      connectTimeoutMs + 5_000,
    );
    if (connected === undefined) return notReached('the connection failed');
    let denied: string | undefined;
    const described = await recorder.run<ColumnSchema[]>('table', async (s) => {
      try {
        const columns = await shard.introspector.describe(source.relation, s);
        return { status: 'ok', detail: `${name}: ${columns.length} column(s)`, value: columns };
      } catch (error) {
        // Without SELECT the server will not describe the table: that is select_permission's answer.
        if (!isEtlError(error) || error.code !== 'SOURCE_PERMISSION') throw error;
        denied = error.message;
        return { status: 'skipped', detail: `${name} cannot be described without SELECT permission` };
      }
    });
    if (described === undefined) {
      const why = denied === undefined ? `${name} could not be described` : 'no SELECT permission';
      for (const check of ['columns', 'cursor_column', 'key_columns'])
        recorder.skip(check, `not checked: ${why}`);
      if (denied === undefined) recorder.skip('select_permission', `not checked: ${why}`);
      else
        await recorder.run('select_permission', () =>
          Promise.resolve({ status: 'failed', code: 'SOURCE_PERMISSION', detail: denied ?? '' }),
        );
      return { shard, recorder, columns: undefined };
    }
    const columns = await recorder.run<ColumnSchema[]>('columns', () => {
      const selected = selectColumns(config, described, shard.name);
      return Promise.resolve({ status: 'ok', detail: columnList(selected), value: selected });
    });
    if (columns === undefined) {
      recorder.skip('select_permission', 'not checked: the listed columns are not all there');
      return { shard, recorder, columns: undefined };
    }
    await recorder.run('select_permission', async (s) => {
      const sql = source.adapter.buildSelect({ relation: source.relation, columns, where: ['1 = 0'] });
      await shard.driver.queryText(sql, s);
      return {
        status: 'ok',
        detail: `SELECT of the ${columns.length} column(s) on ${name} allowed (asked with a query that returns no row)`,
      };
    });
    return { shard, recorder, columns };
  } finally {
    release();
  }
}

/** Checks that need only the described columns: the cursor, the key, and agreement between shards. */
async function judgeColumns(
  config: PipelineConfig,
  result: ShardResult,
  first: ShardResult | undefined,
): Promise<void> {
  const { recorder, columns, shard } = result;
  if (columns === undefined) return;
  if (first !== undefined && first !== result && first.columns !== undefined) {
    const problem = sameColumns(first.columns, columns);
    if (problem !== null) {
      const at = recorder.checks.findIndex((c) => c.check === 'columns');
      const entry = recorder.checks[at];
      if (entry !== undefined)
        recorder.checks[at] = {
          ...entry,
          status: 'failed',
          code: 'SCHEMA_MISMATCH',
          detail: `shard ${shard.name} differs from shard ${first.shard.name}: ${problem}`,
        };
    }
  }
  const cursor = config.load.cursor;
  if (cursor === undefined) recorder.skip('cursor_column', `load mode ${config.load.mode} has no cursor`);
  else
    await recorder.run('cursor_column', () => {
      const column = requireColumn(columns, cursor, 'cursor');
      checkLagCursor(config, column);
      return Promise.resolve({ status: 'ok', detail: `${column.name} ${typeToString(column.type)}` });
    });
  const key = (config.source.key ?? []).filter((k) => k !== SHARD_COLUMN);
  if (key.length === 0) recorder.skip('key_columns', 'the pipeline has no source.key');
  else
    await recorder.run('key_columns', () => {
      const found = key.map((k) => requireColumn(columns, k, 'key'));
      return Promise.resolve({
        status: 'ok',
        detail: found.map((c) => `${c.name} ${typeToString(c.type)}`).join(', '),
      });
    });
}

interface SourceSide {
  readonly checks: ConnectionCheck[];
  /** The columns a run would load (transforms and `_etl_*` applied); undefined when unknown. */
  readonly incoming: readonly ColumnSchema[] | undefined;
  readonly problem: string | undefined;
}

async function testSource(
  deps: ConnectionTestDeps,
  config: PipelineConfig,
  signal: AbortSignal,
): Promise<SourceSide> {
  if (config.source.type === 'files') return fileSourceSide(deps, config, signal);
  // One connection attempt: the operator is waiting, and a retry would only hide the failure.
  const quick: PipelineConfig = { ...config, connection_retry: { attempts: 1, delay: 0 } };
  let source: SourceHandle;
  let connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  try {
    const dialect = await deps.loadSource(config.source.type);
    connectTimeoutMs =
      deps.resolveConnection(sourceConnection(config.source)).connectTimeoutMs ?? connectTimeoutMs;
    source = openSource(quick, dialect, deps.resolveConnection);
  } catch (error) {
    // A secret that cannot be read, say: no shard could be tried.
    const failure = toEtlError(error);
    return {
      checks: [
        {
          target: 'source',
          check: 'connect',
          status: 'failed',
          detail: failure.message,
          code: failure.code,
          duration_ms: 0,
        },
      ],
      incoming: undefined,
      problem: failure.message,
    };
  }
  try {
    const results = await Promise.all(
      source.shards.map((shard) => probeShard(deps, config, source, shard, connectTimeoutMs, signal)),
    );
    const first = results[0];
    for (const result of results) await judgeColumns(config, result, first);
    const checks = results.flatMap((r) => r.recorder.checks.map((c) => toWire('source', r.shard.name, c)));
    const columns = results.every((r) => r.columns !== undefined) ? first?.columns : undefined;
    if (columns === undefined)
      return { checks, incoming: undefined, problem: 'the source columns are not known' };
    try {
      const key = (config.source.key ?? []).filter((k) => k !== SHARD_COLUMN);
      const compiled = compileTransforms(columns, config.transform, {
        key,
        cursor: config.load.cursor,
        sharded: source.sharded,
      });
      return { checks, incoming: compiled.columns, problem: undefined };
    } catch (error) {
      return {
        checks,
        incoming: undefined,
        problem: `the transforms do not compile: ${toEtlError(error).message}`,
      };
    }
  } finally {
    await source.close();
  }
}

/** A files source's side of the test (file-connection-test.ts), with the columns a run would load. */
async function fileSourceSide(
  deps: ConnectionTestDeps,
  config: PipelineConfig,
  signal: AbortSignal,
): Promise<SourceSide> {
  const tested = await testFileSource(config, deps.secrets, signal);
  const checks = tested.recorder.checks.map((c) => toWire('source', undefined, c));
  if (tested.columns === undefined)
    return { checks, incoming: undefined, problem: 'the source columns are not known' };
  try {
    const compiled = compileTransforms(tested.columns, config.transform, {
      key: config.source.key ?? [],
      cursor: undefined,
      sharded: false,
      columnNames: config.destination.column_names,
    });
    return { checks, incoming: compiled.columns, problem: undefined };
  } catch (error) {
    return {
      checks,
      incoming: undefined,
      problem: `the transforms do not compile: ${toEtlError(error).message}`,
    };
  }
}

async function testDestination(
  deps: ConnectionTestDeps,
  pipeline: LoadedPipeline,
  source: Promise<SourceSide>,
  signal: AbortSignal,
): Promise<{ readonly label: string; readonly checks: ConnectionCheck[] }> {
  const config = pipeline.config;
  const recorder = new CheckRecorder({
    signal,
    timeoutMs: CHECK_TIMEOUT_MS,
    timeoutCode: 'DESTINATION_WRITE',
    failedCode: 'DESTINATION_PERMISSION',
  });
  let opened: Destination;
  try {
    opened = await openDestination(config, deps, deps.logger.child({ pipeline: pipeline.name }));
  } catch (error) {
    const failure = toEtlError(error);
    recorder.checks.push({
      check: 'destination_connect',
      status: 'failed',
      detail: failure.message,
      code: failure.code,
      durationMs: 0,
    });
    recorder.skip('schema', 'not checked: the destination could not be opened');
    return {
      label: config.destination.type,
      checks: recorder.checks.map((c) => toWire('destination', undefined, c)),
    };
  }
  try {
    const access: AccessCheck[] =
      opened.checkAccess === undefined
        ? [
            {
              check: 'write_permission',
              status: 'skipped',
              detail: `${opened.label} has no access check`,
              code: null,
              durationMs: 0,
            },
          ]
        : await opened
            .checkAccess({ mode: config.load.mode, signal, timeoutMs: CHECK_TIMEOUT_MS })
            .catch((error: unknown): AccessCheck[] => {
              const failure = toEtlError(error);
              return [
                {
                  check: 'destination_connect',
                  status: 'failed',
                  detail: failure.message,
                  code: failure.code,
                  durationMs: 0,
                },
              ];
            });
    recorder.checks.push(...access);
    const unreachable = access.some((c) => c.check === 'destination_connect' && c.status === 'failed');
    const { incoming, problem } = await source;
    if (unreachable) recorder.skip('schema', 'not checked: the destination could not be reached');
    else if (incoming === undefined)
      recorder.skip('schema', `not checked: ${problem ?? 'no source columns'}`);
    else
      await recorder.run('schema', async (s) => {
        const changes = await opened.planSchema(incoming, config.schema_evolution, s);
        if (changes.some((c) => c.change === 'create'))
          return {
            status: 'ok',
            detail: `the first run creates the table with ${incoming.length} column(s)`,
          };
        if (changes.length === 0)
          return { status: 'ok', detail: `the table has the ${incoming.length} column(s) a run loads` };
        return {
          status: 'ok',
          detail: `the next run adds ${changes.map((c) => `${c.column} (${c.detail})`).join(', ')}`,
        };
      });
  } finally {
    await opened.close().catch(() => undefined);
  }
  return { label: opened.label, checks: recorder.checks.map((c) => toWire('destination', undefined, c)) };
}

/** Source checks by shard (in the file's order), then the destination's; each in the fixed order of ids. */
function sortChecks(checks: readonly ConnectionCheck[]): ConnectionCheck[] {
  const rank = (c: ConnectionCheck): number => {
    const at = ORDER.indexOf(c.check);
    return at === -1 ? ORDER.length : at;
  };
  const groups: string[] = [];
  for (const c of checks) {
    const group = `${c.target}:${c.shard ?? ''}`;
    if (!groups.includes(group)) groups.push(group);
  }
  const groupOf = (c: ConnectionCheck): number => groups.indexOf(`${c.target}:${c.shard ?? ''}`);
  return [...checks].sort((a, b) => groupOf(a) - groupOf(b) || rank(a) - rank(b));
}

export async function testConnections(
  deps: ConnectionTestDeps,
  pipeline: LoadedPipeline,
  signal: AbortSignal = new AbortController().signal,
): Promise<ConnectionTest> {
  const config = pipeline.config;
  const source = testSource(deps, config, signal);
  const [sourceSide, destination] = await Promise.all([
    source,
    testDestination(deps, pipeline, source, signal),
  ]);
  const checks = sortChecks([...sourceSide.checks, ...destination.checks]);
  return {
    pipeline: pipeline.name,
    ok: checks.every((c) => c.status !== 'failed'),
    source: `${config.source.type} ${relationName(config)}`,
    destination: destination.label,
    mode: config.load.mode,
    checks,
  };
}
