/**
 * Multi-table pipelines in etlctl's human output: the tables block of `plan` (a summary, then each
 * table's own plan or why it is refused) and the tables of one run (`tables`, the end of `status`).
 */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../shared/protocol.js';
import type { RunTable, RunTables } from '../../shared/protocol-tables.js';
import { createStyle } from '../../tui/cli/format.js';
import { renderPlan } from '../../tui/cli/render.js';
import {
  planRows,
  renderRunTables,
  renderStatusTables,
  runTablesTally,
  tableErrorText,
} from '../../tui/cli/render-tables.js';

const plain = createStyle(false);
const colour = createStyle(true);
const ESC = '\u001B[';

type SinglePlan = NonNullable<NonNullable<Plan['tables']>[number]['plan']>;

function singlePlan(table: string, overrides: Partial<SinglePlan> = {}): SinglePlan {
  return {
    pipeline: `shop/${table}`,
    mode: 'incremental',
    watermark_from: null,
    watermark_to: '2026-03-02 00:00:00',
    parts: [{ shard: null, chunk: null, sql: `SELECT * FROM ${table}`, estimated_rows: 1200 }],
    schema_diff: [],
    destination: `duckdb:/lake/w.duckdb#${table}`,
    notes: [],
    checks: [],
    check_sample_rows: 0,
    ...overrides,
  };
}

function multiPlan(): Plan {
  return {
    ...singlePlan('*'),
    pipeline: 'shop',
    destination: 'duckdb:/lake/w.duckdb#{schema}_{table}',
    parts: [],
    notes: ['1 table refused: see below'],
    tables: [
      {
        table: 'public.orders',
        state_name: 'shop/public.orders',
        destination: 'public_orders',
        new: false,
        problem: null,
        plan: singlePlan('public.orders', {
          parts: [
            {
              shard: null,
              chunk: 1,
              sql: 'SELECT * FROM public.orders WHERE id < 500',
              estimated_rows: 1000,
            },
            {
              shard: null,
              chunk: 2,
              sql: 'SELECT * FROM public.orders WHERE id >= 500',
              estimated_rows: 234,
            },
          ],
        }),
      },
      {
        table: 'public."Order Items"',
        state_name: 'shop/public."Order Items"',
        destination: 'public_Order_Items',
        new: true,
        problem: null,
        plan: singlePlan('public."Order Items"', {
          mode: 'full',
          parts: [
            { shard: null, chunk: null, sql: 'SELECT * FROM public."Order Items"', estimated_rows: null },
          ],
        }),
      },
      {
        table: 'public.audit',
        state_name: 'shop/public.audit',
        destination: 'public_audit',
        new: true,
        problem: 'no column updated_at (the cursor): set tables."public.audit".mode: full',
        plan: null,
      },
    ],
  };
}

describe('etlctl plan of a multi-table pipeline', () => {
  it('sums up the tables, then shows each table under a heading with its own plan or refusal', () => {
    expect(renderPlan(multiPlan(), plain)).toBe(
      [
        'pipeline     shop',
        'mode         incremental',
        'destination  duckdb:/lake/w.duckdb#{schema}_{table}',
        'tables       3 tables: 2 new, 1 refused',
        '',
        'notes:',
        '  1 table refused: see below',
        '',
        'TABLE                 DESTINATION         MODE         EST. ROWS  NEW',
        'public.orders         public_orders       incremental  ~1,234     -',
        'public."Order Items"  public_Order_Items  full         -          new',
        'public.audit          public_audit        refused      -          new',
        '',
        '── public.orders → public_orders',
        'state name shop/public.orders',
        'pipeline     shop/public.orders',
        'mode         incremental',
        'watermark    (start) → 2026-03-02 00:00:00',
        'destination  duckdb:/lake/w.duckdb#public.orders',
        '',
        'chunk 1 (~1,000 rows)',
        '  SELECT * FROM public.orders WHERE id < 500',
        '',
        'chunk 2 (~234 rows)',
        '  SELECT * FROM public.orders WHERE id >= 500',
        '',
        'schema: no changes',
        '',
        '── public."Order Items" → public_Order_Items (new)',
        'state name shop/public."Order Items"',
        'pipeline     shop/public."Order Items"',
        'mode         full',
        'watermark    (start) → 2026-03-02 00:00:00',
        'destination  duckdb:/lake/w.duckdb#public."Order Items"',
        '',
        'query',
        '  SELECT * FROM public."Order Items"',
        '',
        'schema: no changes',
        '',
        '── public.audit → public_audit (new)',
        'state name shop/public.audit',
        'refused: no column updated_at (the cursor): set tables."public.audit".mode: full',
        '',
      ].join('\n'),
    );
  });

  it('colours a refusal red and leaves a single-table plan as it was', () => {
    const text = renderPlan(multiPlan(), colour);
    expect(text).toContain(`${ESC}31mrefused${ESC}39m`);
    expect(text).toContain(`${ESC}31mrefused: no column updated_at`);
    const single = renderPlan(singlePlan('public.orders'), plain);
    expect(single).not.toContain('TABLE');
    expect(single.split('\n')[0]).toBe('pipeline     shop/public.orders');
  });

  it('counts rows from the parts that have an estimate, or the files', () => {
    expect(planRows(singlePlan('t'))).toBe(1200);
    expect(planRows(singlePlan('t', { parts: [] }))).toBeNull();
    const files = {
      count: 2,
      bytes: 10,
      sample: [],
      truncated: false,
      listed: 2,
      matched: 2,
      already_loaded: 0,
      quarantined: 0,
      estimated_rows: 77,
      rows_exact: true,
    };
    expect(planRows(singlePlan('t', { files }))).toBe(77);
  });

  it('says when the patterns match no table', () => {
    expect(renderPlan({ ...multiPlan(), tables: [], notes: [] }, plain)).toBe(
      [
        'pipeline     shop',
        'mode         incremental',
        'destination  duckdb:/lake/w.duckdb#{schema}_{table}',
        'tables       0 tables',
        '',
        'no table matches source.tables',
        '',
      ].join('\n'),
    );
  });
});

function runTable(table: string, overrides: Partial<RunTable> = {}): RunTable {
  return {
    table,
    state_name: `shop/${table}`,
    sequence: 7,
    status: 'succeeded',
    attempts: 1,
    rows_extracted: 1500,
    rows_loaded: 1500,
    verdict: 'match',
    error: null,
    updated_at: '2026-03-04T10:00:00.000Z',
    ...overrides,
  };
}

const RUN: RunTables = {
  pipeline: 'shop',
  sequence: 42,
  tables: [
    runTable('public.orders', { rows_loaded: 1_234_567 }),
    runTable('public."Order Items"', {
      status: 'failed',
      sequence: 3,
      attempts: 3,
      rows_loaded: 0,
      verdict: null,
      error: {
        code: 'SOURCE_TIMEOUT',
        message: 'reading public."Order Items" timed out after 30s\n  at shard default, chunk 2',
        retryable: true,
      },
    }),
    runTable('public.audit', {
      status: 'refused',
      sequence: null,
      attempts: 0,
      rows_loaded: 0,
      verdict: null,
      error: { code: 'CONFIG_INVALID', message: 'no column updated_at (the cursor)', retryable: false },
    }),
    runTable('public.drafts', {
      status: 'pending',
      sequence: null,
      attempts: 0,
      rows_loaded: 0,
      verdict: null,
    }),
  ],
};

describe('the tables of a run', () => {
  it('lists each table with status, sequence, attempts, rows, verdict and the first line of its error', () => {
    expect(renderRunTables(RUN, plain)).toBe(
      [
        'shop run 42: 4 tables: 1 succeeded, 1 failed, 1 refused, 1 pending',
        'TABLE                 STATUS     SEQ  ATTEMPTS  ROWS       VERDICT  ERROR',
        'public.orders         succeeded  7    1         1,234,567  match',
        'public."Order Items"  failed     3    3         0          -        SOURCE_TIMEOUT: reading public."Order Items" timed out after 30s',
        'public.audit          refused    -    0         0          -        CONFIG_INVALID: no column updated_at (the cursor)',
        'public.drafts         pending    -    0         0          -',
        '',
      ].join('\n'),
    );
  });

  it('colours statuses, verdicts and errors; plain without colour', () => {
    const text = renderRunTables(RUN, colour);
    expect(text).toContain(`${ESC}32msucceeded${ESC}39m`);
    expect(text).toContain(`${ESC}31mfailed${ESC}39m`);
    expect(text).toContain(`${ESC}31mrefused${ESC}39m`);
    expect(text).toContain(`${ESC}2mpending${ESC}22m`);
    expect(text).toContain(`${ESC}32mmatch${ESC}39m`);
    expect(text).toContain(`${ESC}31mSOURCE_TIMEOUT: reading`);
    expect(renderRunTables(RUN, plain)).not.toContain(ESC);
  });

  it('status appends the tables of a multi-table run and nothing for a single-table pipeline', () => {
    expect(renderStatusTables(RUN, plain)).toMatch(
      /^\ntables of run 42 \(4 tables: 1 succeeded, 1 failed, 1 refused, 1 pending\):\nTABLE +STATUS/,
    );
    expect(renderStatusTables({ pipeline: 'orders', sequence: null, tables: [] }, plain)).toBe('');
    expect(renderStatusTables({ pipeline: 'orders', sequence: 3, tables: [] }, plain)).toBe('');
    expect(renderRunTables({ pipeline: 'orders', sequence: null, tables: [] }, plain)).toMatch(
      /^orders has no multi-table run/,
    );
  });

  it('an error without a message is its code; tallies follow a fixed order', () => {
    expect(tableErrorText({ code: 'CANCELLED', message: '', retryable: false })).toBe('CANCELLED');
    expect(tableErrorText(null)).toBe('');
    expect(runTablesTally([runTable('a', { status: 'running' }), runTable('b'), runTable('c')])).toBe(
      '3 tables: 2 succeeded, 1 running',
    );
  });
});
