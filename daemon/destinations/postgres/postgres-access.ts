/**
 * `etlctl test` on a PostgreSQL destination: connects, finds the table and `_etld_commits`, and
 * asks the server's privilege functions (`has_schema_privilege`, `has_table_privilege`,
 * `has_database_privilege`) for what the commit of a run in the pipeline's mode executes
 * (postgres-destination.ts), writing nothing:
 * - every commit runs `CREATE TABLE IF NOT EXISTS _etld_commits`, which PostgreSQL checks for
 *   CREATE on the schema even when the table exists, then SELECTs and INSERTs its row there;
 * - a missing table is created (CREATE on the schema); an existing one takes INSERT (COPY);
 * - full: TRUNCATE, or DELETE when foreign keys reference the table;
 * - merge: a TEMP staging table, then INSERT … ON CONFLICT DO UPDATE (INSERT, UPDATE and SELECT);
 * - columns the source gains are added with ALTER TABLE, which only the table's owner may run.
 * What other kinds of run need (a full refresh: TRUNCATE; a backfill of an append pipeline: TEMP
 * and SELECT) is a warning: the pipeline's own runs do not need it.
 */
import type { PoolClient } from 'pg';
import { EtlError } from '../../../shared/errors.js';
import { CheckRecorder, listWords, type AccessCheck, type AccessCheckRequest } from '../access-check.js';
import { toDestinationError } from './postgres-errors.js';
import { describeTable } from './postgres-schema.js';
import type { TableName } from './postgres-sql.js';

export interface PostgresAccessTarget {
  readonly label: string;
  readonly name: TableName;
  /** A client of the destination's pool (released by the check). */
  connect(): Promise<PoolClient>;
}

interface TableState {
  readonly schema: string;
  readonly role: string;
  /** The table's oid, or null when it does not exist. */
  readonly oid: string | null;
  readonly commitsOid: string | null;
}

/** One privilege the commit needs: what it is on, and whether the role holds it. */
interface Privilege {
  readonly what: string;
  /** A boolean expression of `$1`: the schema's name or an oid. */
  readonly sql: string;
  readonly param: string;
  readonly why: string;
  /** Needed by the pipeline's own runs (failed when missing), or only by other kinds (warning). */
  readonly needed: boolean;
}

async function has(client: PoolClient, sql: string, params: readonly unknown[]): Promise<boolean> {
  const result = await client.query<{ ok: boolean | null }>(`SELECT (${sql}) AS ok`, [...params]);
  return result.rows[0]?.ok === true;
}

async function readState(client: PoolClient, name: TableName, label: string): Promise<TableState> {
  const who = await client.query<{ role: string; schema: string | null }>(
    'SELECT current_user::text AS role, current_schema()::text AS schema',
  );
  const role = who.rows[0]?.role ?? '';
  const schema = name.schema ?? who.rows[0]?.schema ?? null;
  if (schema === null)
    throw new EtlError(
      'DESTINATION_WRITE',
      `${label}: the search_path names no existing schema; write the table as schema.table`,
      { retryable: false },
    );
  const found = await client.query<{ n: string }>(
    'SELECT count(*)::text AS n FROM pg_namespace WHERE nspname = $1',
    [schema],
  );
  if (found.rows[0]?.n !== '1')
    throw new EtlError('DESTINATION_WRITE', `${label}: schema ${schema} does not exist`, {
      retryable: false,
    });
  const oids = await client.query<{ t: string | null; c: string | null }>(
    `SELECT to_regclass(format('%I.%I', $1::text, $2::text))::oid::text AS t,
            to_regclass(format('%I.%I', $1::text, '_etld_commits'))::oid::text AS c`,
    [schema, name.table],
  );
  return { schema, role, oid: oids.rows[0]?.t ?? null, commitsOid: oids.rows[0]?.c ?? null };
}

function privilegesFor(
  state: TableState,
  mode: AccessCheckRequest['mode'],
  referenced: boolean,
): Privilege[] {
  const schema = state.schema;
  const list: Privilege[] = [
    {
      what: `USAGE on schema ${schema}`,
      sql: `has_schema_privilege($1::text, 'USAGE')`,
      param: schema,
      why: 'every commit',
      needed: true,
    },
    {
      what: `CREATE on schema ${schema}`,
      sql: `has_schema_privilege($1::text, 'CREATE')`,
      param: schema,
      why:
        state.oid === null
          ? 'the first run creates the table, and every commit runs CREATE TABLE IF NOT EXISTS _etld_commits'
          : 'every commit runs CREATE TABLE IF NOT EXISTS _etld_commits, which PostgreSQL checks for CREATE even when the table exists',
      needed: true,
    },
    {
      what: 'TEMP on the database',
      sql: `$1::text = '' AND has_database_privilege(current_database(), 'TEMP')`,
      param: '',
      why:
        mode === 'merge'
          ? 'a merge stages the batch in a temporary table'
          : 'a backfill stages the batch in a temporary table',
      needed: mode === 'merge',
    },
  ];
  const commits = state.commitsOid;
  if (commits !== null) {
    for (const privilege of ['SELECT', 'INSERT'])
      list.push({
        what: `${privilege} on ${schema}._etld_commits`,
        sql: `has_table_privilege($1::oid, '${privilege}')`,
        param: commits,
        why: 'every commit records its run sequence there',
        needed: true,
      });
  }
  const oid = state.oid;
  if (oid !== null) {
    const on = (privilege: string, why: string, needed: boolean): Privilege => ({
      what: `${privilege} on the table`,
      sql: `has_table_privilege($1::oid, '${privilege}')`,
      param: oid,
      why,
      needed,
    });
    list.push(on('INSERT', 'every load', true));
    const emptying = referenced ? 'DELETE' : 'TRUNCATE';
    list.push(
      on(
        emptying,
        mode === 'full'
          ? `a full load empties the table (${emptying}${referenced ? ': foreign keys reference it' : ''})`
          : 'a full refresh (start --full-refresh) empties the table',
        mode === 'full',
      ),
    );
    list.push(
      on('UPDATE', 'a merge updates the rows it already holds (ON CONFLICT DO UPDATE)', mode === 'merge'),
    );
    list.push(
      on(
        'SELECT',
        mode === 'merge'
          ? 'ON CONFLICT DO UPDATE reads the key columns'
          : 'a backfill compares the batch with the rows the table holds',
        mode === 'merge',
      ),
    );
  }
  return list;
}

async function checkPrivileges(
  client: PoolClient,
  state: TableState,
  mode: AccessCheckRequest['mode'],
): Promise<{ missing: Privilege[]; owner: boolean }> {
  const referenced =
    state.oid !== null &&
    (await has(
      client,
      `EXISTS (SELECT 1 FROM pg_constraint c WHERE c.contype = 'f' AND c.confrelid = $1::oid AND c.conrelid <> c.confrelid)`,
      [state.oid],
    ));
  const missing: Privilege[] = [];
  for (const privilege of privilegesFor(state, mode, referenced))
    if (!(await has(client, privilege.sql, [privilege.param]))) missing.push(privilege);
  const owner =
    state.oid === null ||
    (await has(client, `pg_has_role((SELECT relowner FROM pg_class WHERE oid = $1::oid), 'USAGE')`, [
      state.oid,
    ]));
  return { missing, owner };
}

function describeMissing(role: string, missing: readonly Privilege[]): string {
  return `role ${role} lacks ${listWords(missing.map((p) => p.what))} (${missing.map((p) => `${p.what.split(' on ')[0] ?? ''}: ${p.why}`).join('; ')})`;
}

export async function checkPostgresAccess(
  target: PostgresAccessTarget,
  request: AccessCheckRequest,
): Promise<AccessCheck[]> {
  const recorder = new CheckRecorder({
    signal: request.signal,
    timeoutMs: request.timeoutMs,
    timeoutCode: 'DESTINATION_WRITE',
    failedCode: 'DESTINATION_PERMISSION',
  });
  let client: PoolClient | undefined;
  await recorder.run('destination_connect', async (signal) => {
    let connected: PoolClient;
    try {
      connected = await target.connect();
    } catch (error) {
      throw toDestinationError(error, `${target.label}: connecting`);
    }
    // A connection that arrives after the deadline goes back at once: the pool could not end with it out.
    if (signal.aborted) connected.release();
    else client = connected;
    return { status: 'ok', detail: target.label };
  });
  if (client === undefined) {
    recorder.skip('destination_table', 'not checked: no connection');
    recorder.skip('write_permission', 'not checked: no connection');
    return recorder.checks;
  }
  const connected = client;
  let broken: Error | undefined;
  try {
    const state = await recorder.run<TableState>('destination_table', async () => {
      const found = await readState(connected, target.name, target.label).catch((error: unknown) => {
        throw toDestinationError(error, `${target.label}: reading the catalog`);
      });
      const table = `${found.schema}.${target.name.table}`;
      if (found.oid === null)
        return { status: 'ok', detail: `${table} does not exist: the first run creates it`, value: found };
      const columns = (await describeTable(connected, found.schema, target.name.table)) ?? [];
      return { status: 'ok', detail: `${table} exists (${columns.length} column(s))`, value: found };
    });
    if (state === undefined) {
      recorder.skip('write_permission', 'not checked: the table could not be looked up');
      return recorder.checks;
    }
    await recorder.run('write_permission', async () => {
      const { missing, owner } = await checkPrivileges(connected, state, request.mode).catch(
        (error: unknown) => {
          throw toDestinationError(error, `${target.label}: reading privileges`);
        },
      );
      const table = `${state.schema}.${target.name.table}`;
      const failing = missing.filter((p) => p.needed);
      if (failing.length > 0)
        return {
          status: 'failed',
          code: 'DESTINATION_PERMISSION',
          detail: `${table}: ${describeMissing(state.role, failing)}`,
        };
      const notes = missing.filter((p) => !p.needed);
      if (notes.length > 0 || !owner)
        return {
          status: 'warning',
          code: 'DESTINATION_PERMISSION',
          detail: `${table}: a ${request.mode} load can commit as role ${state.role}, but ${[
            ...(notes.length > 0 ? [describeMissing(state.role, notes)] : []),
            ...(owner
              ? []
              : [
                  `role ${state.role} does not own the table, so columns the source gains cannot be added (ALTER TABLE)`,
                ]),
          ].join('; ')}`,
        };
      return { status: 'ok', detail: `${table}: role ${state.role} holds what a ${request.mode} load needs` };
    });
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    connected.release(broken);
  }
  return recorder.checks;
}
