/**
 * The detail view of a multi-table pipeline: the tables of its newest run (status, rows, the first
 * line of an error), fetched with `tables` and fetched again when a run of the pipeline or of one
 * of its tables (`<pipeline>/<table>`) changes; a single-table pipeline shows no such section.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import type { RunTable, RunTables } from '../../shared/protocol-tables.js';
import { App } from '../../tui/console/app.js';
import { DetailTables, tablesTitle } from '../../tui/console/components/DetailTables.js';
import { concernsPipeline } from '../../tui/console/hooks/use-run-tables.js';
import { FakeDaemon } from './fake-daemon.js';
import { NOW, iso, pipeline } from './fixtures.js';
import { KEYS, frameMatching, press, stripAnsi } from './render-helpers.js';

afterEach(() => cleanup());

function table(name: string, overrides: Partial<RunTable> = {}): RunTable {
  return {
    table: name,
    state_name: `shop/${name}`,
    sequence: 4,
    status: 'succeeded',
    attempts: 1,
    rows_extracted: 1200,
    rows_loaded: 1200,
    verdict: 'match',
    error: null,
    updated_at: iso(-60),
    ...overrides,
  };
}

const NEWEST: RunTables = {
  pipeline: 'shop',
  sequence: 9,
  tables: [
    table('public.orders'),
    table('public."Order Items"', {
      status: 'failed',
      rows_loaded: 0,
      verdict: null,
      error: { code: 'SOURCE_TIMEOUT', message: 'read timed out\nafter 30s on chunk 2', retryable: true },
    }),
    table('public.audit', { status: 'running', rows_loaded: 250 }),
  ],
};

async function mountShop() {
  const daemon = new FakeDaemon([pipeline({ name: 'orders' }), pipeline({ name: 'shop' })]);
  daemon.runTables.set('shop', NEWEST);
  const client = daemon.client();
  const instance = render(
    <App
      connect={() => Promise.resolve(client)}
      readonly={false}
      color={false}
      clock={() => NOW}
      size={{ columns: 100, rows: 30 }}
      flushIntervalMs={50}
      retryDelayMs={30}
    />,
  );
  const frame = (): string => stripAnsi(instance.lastFrame() ?? '');
  const waitFor = (predicate: (f: string) => boolean, what: string) => frameMatching(frame, predicate, what);
  await waitFor((f) => f.includes('shop'), 'the pipeline list');
  return { daemon, client, stdin: instance.stdin, frame, waitFor };
}

describe('the detail view of a multi-table pipeline', () => {
  it('lists the tables of the newest run with status, rows and the first line of an error', async () => {
    const { client, stdin, waitFor } = await mountShop();
    await press(stdin, 'G', KEYS.enter);
    const text = await waitFor((f) => f.includes('tables of run 9'), 'the tables section');
    expect(text).toContain('tables of run 9: 1 succeeded, 1 failed, 1 running');
    const lines = text.split('\n');
    const header = lines.findIndex((l) => /^\s+TABLE\s+STATUS\s+ROWS\s+ERROR/.test(l));
    expect(header).toBeGreaterThan(0);
    // Failures first, so a short terminal still shows them.
    expect(lines[header + 1]).toMatch(
      /public\."Order Items"\s+failed\s+0\s+\[SOURCE_TIMEOUT\] read timed out …/,
    );
    expect(lines[header + 2]).toMatch(/public\.orders\s+succeeded\s+1\.2k/);
    expect(lines[header + 3]).toMatch(/public\.audit\s+running\s+250/);
    expect(text).not.toContain('after 30s');
    expect(client.callsOf('tables').map((c) => c.params)).toEqual([{ pipeline: 'shop' }]);
  });

  it('fetches the tables again when a run of one of its tables changes', async () => {
    const { daemon, client, stdin, waitFor } = await mountShop();
    await press(stdin, 'G', KEYS.enter);
    await waitFor((f) => f.includes('tables of run 9'), 'the tables section');
    daemon.runTables.set('shop', {
      ...NEWEST,
      tables: NEWEST.tables.map((t) =>
        t.table === 'public.audit' ? { ...t, status: 'succeeded' as const, rows_loaded: 4000 } : t,
      ),
    });
    client.emit('run.progress', {
      run_id: 'shop/public.audit-5',
      attempt_id: 'shop/public.audit-5-1',
      pipeline: 'shop/public.audit',
      rows: 4000,
      bytes: 0,
      rows_per_s: 100,
      phase: 'committing',
      parts: [],
    });
    const text = await waitFor((f) => /public\.audit\s+succeeded\s+4k/.test(f), 'the refreshed tables');
    expect(text).toContain('tables of run 9: 2 succeeded, 1 failed');
    expect(client.callsOf('tables')).toHaveLength(2);
  });

  it('shows no tables section for a single-table pipeline', async () => {
    const { client, stdin, waitFor } = await mountShop();
    await press(stdin, KEYS.enter);
    const text = await waitFor((f) => f.includes('orders ·'), 'the orders detail');
    await waitFor(() => client.callsOf('tables').length === 1, 'the tables call');
    expect(text).not.toContain('tables of run');
  });
});

describe('DetailTables', () => {
  it('keeps to its height and says how many tables it left out', () => {
    const many: RunTables = {
      pipeline: 'shop',
      sequence: 2,
      tables: Array.from({ length: 8 }, (_, i) => table(`public.t${i}`)),
    };
    const { lastFrame } = render(<DetailTables tables={many} width={80} height={5} />);
    const lines = stripAnsi(lastFrame() ?? '').split('\n');
    expect(lines[0]).toBe('tables of run 2: 8 succeeded (5 more: etlctl tables)');
    expect(lines).toHaveLength(5);
    expect(tablesTitle({ ...many, tables: [] })).toBe('tables of run 2: ');
  });

  it('an event is about a pipeline when it names it or one of its tables', () => {
    expect(concernsPipeline('shop', 'shop')).toBe(true);
    expect(concernsPipeline('shop/public.orders', 'shop')).toBe(true);
    expect(concernsPipeline('shopping', 'shop')).toBe(false);
    expect(concernsPipeline('orders', 'shop')).toBe(false);
  });
});
