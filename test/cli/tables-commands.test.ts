/**
 * The multi-table verbs of etlctl against a control server with a fake API: `status` ends with the
 * tables of the newest run (its --json stays the status alone), `tables` shows any run, and
 * `preview` / `history` pass `--table` to the daemon.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodParams } from '../../shared/protocol.js';
import type { RunTables } from '../../shared/protocol-tables.js';
import { startTestServer, type TestServer } from '../control/harness.js';
import { assertCliBuilt, etlctl } from './cli-harness.js';

let t: TestServer;
const seen: {
  history: MethodParams<'history'>[];
  preview: MethodParams<'preview'>[];
  tables: MethodParams<'tables'>[];
} = { history: [], preview: [], tables: [] };

const NEWEST: RunTables = {
  pipeline: 'orders',
  sequence: 12,
  tables: [
    {
      table: 'public.orders',
      state_name: 'orders/public.orders',
      sequence: 5,
      status: 'succeeded',
      attempts: 1,
      rows_extracted: 2500,
      rows_loaded: 2500,
      verdict: 'match',
      error: null,
      updated_at: '2026-03-04T10:00:00.000Z',
    },
    {
      table: 'public.refunds',
      state_name: 'orders/public.refunds',
      sequence: 2,
      status: 'failed',
      attempts: 3,
      rows_extracted: 10,
      rows_loaded: 0,
      verdict: null,
      error: { code: 'DESTINATION_WRITE', message: 'disk full\nwhile writing part 3', retryable: true },
      updated_at: '2026-03-04T10:01:00.000Z',
    },
  ],
};

beforeAll(async () => {
  assertCliBuilt();
  t = await startTestServer();
  const api = t.api;
  api.runTables.set('orders', NEWEST);
  const tables = api.tables.bind(api);
  api.tables = (params) => {
    seen.tables.push(params);
    if (params.sequence === 11)
      return Promise.resolve({ ...NEWEST, sequence: 11, tables: NEWEST.tables.slice(0, 1) });
    return tables(params);
  };
  const history = api.history.bind(api);
  api.history = (params) => {
    seen.history.push(params);
    return history(params);
  };
  const preview = api.preview.bind(api);
  api.preview = (params) => {
    seen.preview.push(params);
    return preview(params);
  };
});
afterAll(async () => {
  await t?.dispose();
});

const run = (...args: string[]) => etlctl(['--socket', t.socketPath, ...args]);

describe('etlctl and multi-table pipelines', () => {
  it('status ends with the tables of the newest run; a single-table pipeline shows none', async () => {
    const r = await run('status', 'orders');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    const at = lines.indexOf('tables of run 12 (2 tables: 1 succeeded, 1 failed):');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^TABLE +STATUS +SEQ +ATTEMPTS +ROWS +VERDICT +ERROR$/);
    expect(lines[at + 2]).toMatch(/^public\.orders +succeeded +5 +1 +2,500 +match$/);
    expect(lines[at + 3]).toMatch(/^public\.refunds +failed +2 +3 +0 +- +DESTINATION_WRITE: disk full$/);
    expect(r.stdout).not.toContain('while writing part 3');
    const single = await run('status', 'users');
    expect(single.code).toBe(0);
    expect(single.stdout).not.toContain('tables');
  });

  it('status --json is the status document alone; tables --json prints the tables', async () => {
    const status = JSON.parse((await run('status', 'orders', '--json')).stdout) as Record<string, unknown>;
    expect(status.schema).toBe(1);
    expect(status.name).toBe('orders');
    expect(Object.keys(status)).not.toContain('tables');
    const tables = await run('tables', 'orders', '--json');
    expect(tables.code).toBe(0);
    expect(JSON.parse(tables.stdout)).toEqual({ schema: 1, ...NEWEST });
  });

  it('tables shows the newest run, or the run --run names', async () => {
    seen.tables.length = 0;
    const newest = await run('tables', 'orders');
    expect(newest.stdout.split('\n')[0]).toBe('orders run 12: 2 tables: 1 succeeded, 1 failed');
    const older = await run('tables', 'orders', '--run', '11');
    expect(older.stdout.split('\n')[0]).toBe('orders run 11: 1 table: 1 succeeded');
    expect(seen.tables).toEqual([{ pipeline: 'orders' }, { pipeline: 'orders', sequence: 11 }]);
    const none = await run('tables', 'users');
    expect(none).toMatchObject({ code: 0 });
    expect(none.stdout).toMatch(/^users has no multi-table run/);
    expect((await run('tables', 'orders', '--run', 'latest')).code).toBe(2);
    expect((await run('tables', 'ghost')).code).toBe(1);
  });

  it('history and preview pass --table to the daemon', async () => {
    seen.history.length = 0;
    seen.preview.length = 0;
    expect((await run('history', 'orders', '--table', 'public.refunds', '-n', '5')).code).toBe(0);
    expect((await run('preview', 'orders', '--table', 'public."Order Items"', '-n', '2')).code).toBe(0);
    expect((await run('history', 'orders')).code).toBe(0);
    expect(seen.history.map((p) => p.table)).toEqual(['public.refunds', undefined]);
    expect(seen.history[0]?.limit).toBe(5);
    expect(seen.preview).toEqual([{ pipeline: 'orders', limit: 2, table: 'public."Order Items"' }]);
    const both = await run('history', 'orders', '--table', 'public.refunds', '--changes');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('drop --table');
    expect((await run('preview', 'orders', '--table', ' ')).code).toBe(2);
  });

  it('help and the verb list name the new verb and options', async () => {
    const help = await etlctl(['--help']);
    expect(help.stdout).toMatch(/\n {2}tables +the tables of a run of a multi-table pipeline/);
    expect((await etlctl(['history', '--help'])).stdout).toContain('--table T');
    expect((await etlctl(['preview', '--help'])).stdout).toContain('--table T');
    expect((await etlctl(['tables', '--help'])).stdout).toContain('--run SEQ');
    expect((await etlctl(['generate', '--help'])).stdout).toContain('--tables PATTERNS');
  });
});
