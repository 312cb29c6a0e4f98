import type { JSX } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { DetailView } from '../../tui/console/components/DetailView.js';
import { Header } from '../../tui/console/components/Header.js';
import { HelpOverlay } from '../../tui/console/components/HelpOverlay.js';
import { KeyBar, keyHints } from '../../tui/console/components/KeyBar.js';
import { LogPane, splitMatches } from '../../tui/console/components/LogPane.js';
import { PipelineTable, pipelineColumns } from '../../tui/console/components/PipelineTable.js';
import { windowStart } from '../../tui/console/components/Table.js';
import { ProgressBar } from '../../tui/console/components/ProgressBar.js';
import { StatusLine } from '../../tui/console/components/StatusLine.js';
import { ThemeContext } from '../../tui/console/hooks/use-theme.js';
import { createLogView, applyLogAction } from '../../tui/console/state/log-view.js';
import type { DetailData, Progress } from '../../tui/console/state/view-state.js';
import { NOW, checksOfEveryStatus, info, iso, logLine, part, pipeline, run, status } from './fixtures.js';
import { COLOR_CODE } from './render-helpers.js';

afterEach(() => cleanup());

function plain(node: JSX.Element): string {
  const { lastFrame } = render(
    <ThemeContext.Provider value={{ color: false }}>{node}</ThemeContext.Provider>,
  );
  return lastFrame() ?? '';
}

const FLEET = Array.from({ length: 500 }, (_, i) =>
  pipeline({ name: `pipeline_${String(i).padStart(3, '0')}`, state: i % 7 === 0 ? 'failed' : 'idle' }),
);

describe('PipelineTable', () => {
  it.each([80, 96, 100])('fits %i columns', (width) => {
    const columns = pipelineColumns(width, {}, NOW);
    const used = columns.reduce((sum, c) => sum + c.width, 0) + 2 + (columns.length - 1);
    expect(used).toBeLessThanOrEqual(width);
    const frame = plain(
      <PipelineTable
        pipelines={FLEET.slice(0, 3)}
        selected={0}
        progress={{}}
        width={width}
        height={5}
        nowMs={NOW}
        emptyText="none"
      />,
    );
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(width);
    expect(frame).toContain('NAME');
    expect(frame).toContain('ROWS/S');
    expect(frame).toContain('every 2 hours, in 37');
  });

  it('keeps schedule and next run readable in 80 columns', () => {
    const frame = plain(
      <PipelineTable
        pipelines={[
          pipeline({
            schedule: '*/30 * * * *',
            schedule_human: 'every 30 minutes (UTC)',
            next_run_at: new Date(NOW + 12 * 60_000).toISOString(),
          }),
        ]}
        selected={0}
        progress={{}}
        width={80}
        height={3}
        nowMs={NOW}
        emptyText="none"
      />,
    );
    expect(frame).toContain('every 30 min, in 12m');
  });

  it('uses extra width for more columns', () => {
    expect(pipelineColumns(80, {}, NOW).map((c) => c.header)).not.toContain('DURATION');
    expect(pipelineColumns(100, {}, NOW).map((c) => c.header)).toContain('DURATION');
    expect(pipelineColumns(200, {}, NOW).map((c) => c.header)).toContain('DESTINATION');
    expect(pipelineColumns(160, {}, NOW).map((c) => c.header)).not.toContain('DESTINATION');
  });

  it('draws only the visible window of 500 pipelines, around the selection', () => {
    const frame = plain(
      <PipelineTable
        pipelines={FLEET}
        selected={250}
        progress={{}}
        width={80}
        height={15}
        nowMs={NOW}
        emptyText="none"
      />,
    );
    const lines = frame.split('\n');
    expect(lines).toHaveLength(16);
    expect(frame).toContain('› pipeline_250');
    expect(frame).toContain('pipeline_243');
    expect(frame).not.toContain('pipeline_242');
    expect(frame).toContain('pipeline_257');
    expect(frame).not.toContain('pipeline_258');
  });

  it('computes windows that keep the selection visible at the edges', () => {
    expect(windowStart(0, 500, 10)).toBe(0);
    expect(windowStart(499, 500, 10)).toBe(490);
    expect(windowStart(5, 3, 10)).toBe(0);
    expect(windowStart(-1, 500, 10)).toBe(0);
  });

  it('shows live rows and throughput for a running pipeline, and the empty text', () => {
    const progress: Progress = {
      run_id: 'r',
      attempt_id: 'r-1',
      pipeline: 'orders',
      rows: 45_000,
      bytes: 0,
      rows_per_s: 12_300,
      phase: 'extracting',
      parts: [],
    };
    const frame = plain(
      <PipelineTable
        pipelines={[pipeline({ state: 'running' })]}
        selected={0}
        progress={{ orders: progress }}
        width={80}
        height={3}
        nowMs={NOW}
        emptyText="none"
      />,
    );
    expect(frame).toContain('running');
    expect(frame).toContain('45k');
    expect(frame).toContain('12.3k r/s');
    expect(
      plain(
        <PipelineTable
          pipelines={[]}
          selected={-1}
          progress={{}}
          width={80}
          height={3}
          nowMs={NOW}
          emptyText="no pipeline matches"
        />,
      ),
    ).toContain('no pipeline matches');
  });

  it('states are readable as words without colour', () => {
    const frame = plain(
      <PipelineTable
        pipelines={[
          pipeline({ name: 'a', state: 'failed' }),
          pipeline({ name: 'b', paused: true }),
          pipeline({ name: 'c', state: 'retrying' }),
          pipeline({ name: 'd', state: 'invalid', last_run: null }),
        ]}
        selected={0}
        progress={{}}
        width={80}
        height={5}
        nowMs={NOW}
        emptyText="none"
      />,
    );
    expect(frame).not.toMatch(COLOR_CODE);
    for (const word of ['failed', 'paused', 'retrying', 'invalid', 'never']) expect(frame).toContain(word);
  });
});

describe('a pipeline running its last good version', () => {
  const problem =
    '/etc/etld/pipelines/orders.yaml:3:11 schedule: expected "every <duration>" such as "every 15m", got "every 5x"';
  const lastGood = pipeline({
    file_status: 'last_good',
    problems: [problem],
    warnings: ['/etc/etld/connections.yaml:6:17 shop.password_env: environment variable X is not set'],
  });

  it.each([80, 100, 160])('is flagged idle* in the list at %i columns', (width) => {
    const frame = plain(
      <PipelineTable
        pipelines={[lastGood, pipeline({ name: 'users' })]}
        selected={0}
        progress={{}}
        width={width}
        height={4}
        nowMs={NOW}
        emptyText="none"
      />,
    );
    expect(frame).toMatch(/orders\s+idle\*\s/);
    expect(frame).toMatch(/users\s+idle\s/);
  });

  it('says so in the detail view, with the first problem and the warnings', () => {
    const frame = plain(
      <DetailView
        pipeline={lastGood}
        detail={{ pipeline: 'orders', status: null, history: [], why: [], error: null }}
        progress={undefined}
        width={100}
        height={30}
        nowMs={NOW}
      />,
    );
    // One line each at 100 columns (ink's own width in these tests), cut with … (d shows all).
    const text = frame.replace(/\s*\n\s*/g, ' ');
    expect(text).toContain(`* running the last good version; file invalid: ${problem.slice(0, 40)}`);
    expect(text).toContain(`✗ ${problem.slice(0, 60)}`);
    expect(text).toContain('…');
    expect(frame).toContain('! /etc/etld/connections.yaml:6:17 shop.password_env');
  });

  it('is counted in the header', () => {
    const frame = plain(
      <Header
        info={info()}
        infoReceivedAt={NOW}
        resources={null}
        connection="connected"
        connectionDetail={null}
        pipelines={[lastGood, pipeline({ name: 'b' })]}
        nowMs={NOW}
        readonly={false}
      />,
    );
    expect(frame).toContain('pipelines 2 · 2 idle · 1 running the last good version*');
  });
});

describe('Header', () => {
  const base = {
    info: info(),
    infoReceivedAt: NOW - 60_000,
    resources: info().resources,
    connection: 'connected' as const,
    connectionDetail: null,
    pipelines: [
      pipeline(),
      pipeline({ name: 'b', state: 'running' }),
      pipeline({ name: 'c', state: 'failed' }),
    ],
    nowMs: NOW,
    readonly: false,
  };

  it('shows host, version, uptime, connection, resources and counts by state', () => {
    const frame = plain(<Header {...base} />);
    expect(frame).toContain('etld 0.1.0 @ etl-host-1');
    // 7380 s at arrival plus the minute since.
    expect(frame).toContain('up 2h 04m');
    expect(frame.split('\n')[0]).toMatch(/^● connected · /);
    expect(frame).toContain('CPU 12%');
    expect(frame).toContain('mem 4.0 GiB/16.0 GiB (25%)');
    expect(frame).toContain('lake 120 GiB free');
    expect(frame).toContain('pipelines 3 · 1 running · 1 failed · 1 idle');
  });

  it('says disconnected and why while the daemon is away', () => {
    const frame = plain(
      <Header {...base} connection="disconnected" connectionDetail="cannot reach etld: no socket there" />,
    );
    expect(frame.split('\n')[0]).toMatch(/^○ disconnected — reconnecting… · etld 0\.1\.0/);
    expect(frame.split('\n')[1]).toBe('cannot reach etld: no socket there');
  });

  it('names data paths on one filesystem together', () => {
    const fs = { free_bytes: 70 * 1024 ** 3, total_bytes: 100 * 1024 ** 3 };
    const resources = {
      ...info().resources!,
      disks: [
        { label: 'state', path: '/s', ...fs },
        { label: 'lake', path: '/l', ...fs },
        { label: 'logs', path: '/g', free_bytes: 5 * 1024 ** 3, total_bytes: 10 * 1024 ** 3 },
      ],
    };
    const frame = plain(<Header {...base} resources={resources} />);
    expect(frame).toContain('state/lake 70.0 GiB free · logs 5.0');
  });

  it('marks read-only mode and copes with nothing known yet', () => {
    const frame = plain(
      <Header {...base} info={null} infoReceivedAt={null} resources={null} pipelines={[]} readonly />,
    );
    expect(frame).toContain('[read-only]');
    expect(frame).toContain('etld ? @ ?');
    expect(frame).toContain('resources: —');
  });
});

describe('DetailView', () => {
  const orders = pipeline({
    description: 'Orders from the shop',
    last_run: run({
      status: 'failed',
      verdict: 'mismatch',
      rows_extracted: 100,
      rows_loaded: 95,
      error: { code: 'RECONCILIATION_FAILED', message: 'loaded 95 of 100 rows' },
    }),
  });
  const detail: DetailData = {
    pipeline: 'orders',
    status: status(orders),
    history: [
      run({
        id: 'h1',
        status: 'failed',
        verdict: 'mismatch',
        error: { code: 'RECONCILIATION_FAILED', message: 'loaded 95 of 100 rows' },
      }),
      run({ id: 'h2', trigger: 'manual' }),
    ],
    why: ['next run at 12:37 by schedule', 'overlap: skip'],
    error: null,
  };

  it('shows config, last run with verdict and error code, why, stats and history', () => {
    const frame = plain(
      <DetailView
        pipeline={orders}
        detail={detail}
        progress={undefined}
        width={100}
        height={30}
        nowMs={NOW}
      />,
    );
    expect(frame).toContain('orders · idle · every 2 hours, in 37 min');
    expect(frame).toContain('postgres → duckdb · mode incremental');
    expect(frame).toContain('table public.orders · key id · cursor updated_at');
    expect(frame).toContain('Orders from the shop');
    expect(frame).toContain('extracted 100 · loaded 95');
    expect(frame).toContain('reconciliation: mismatch');
    expect(frame).toContain('last error: [RECONCILIATION_FAILED] loaded 95 of 100 rows');
    expect(frame).toContain('why: next run at 12:37 by schedule');
    expect(frame).toContain('overlap: skip');
    expect(frame).toContain('24h: 4 runs, 1 failed (75% ok)');
    expect(frame).toMatch(/STATUS\s+STARTED/);
    expect(frame).toMatch(/failed\s+10 min ago/);
    expect(frame).toContain('manual');
  });

  it("shows the pipeline's watermark, per shard when sharded, and when it last moved", () => {
    const one = plain(
      <DetailView
        pipeline={orders}
        detail={{
          ...detail,
          status: status(orders, {
            watermarks: [
              { shard: 'default', value: '2026-03-10 11:00:00+00', sequence: 4, updated_at: iso(-600) },
            ],
          }),
        }}
        progress={undefined}
        width={100}
        height={30}
        nowMs={NOW}
      />,
    );
    expect(one).toContain('watermark 2026-03-10 11:00:00+00 · updated 10 min ago');
    const sharded = plain(
      <DetailView
        pipeline={orders}
        detail={{
          ...detail,
          status: status(orders, {
            watermarks: [
              { shard: 's1', value: '41', sequence: 4, updated_at: iso(-3600) },
              { shard: 's2', value: '7', sequence: 4, updated_at: iso(-120) },
            ],
          }),
        }}
        progress={undefined}
        width={100}
        height={30}
        nowMs={NOW}
      />,
    );
    expect(sharded).toContain('watermark s1=41, s2=7 · updated 2 min ago');
    // Before the first run (or in full mode) there is no watermark line at all.
    expect(
      plain(
        <DetailView
          pipeline={orders}
          detail={detail}
          progress={undefined}
          width={100}
          height={30}
          nowMs={NOW}
        />,
      ),
    ).not.toContain('watermark');
  });

  it('draws a progress bar per shard/chunk with rows, rate and ETA', () => {
    const progress: Progress = {
      run_id: 'run-live-1',
      attempt_id: 'run-live-1-1',
      pipeline: 'orders',
      rows: 1500,
      bytes: 0,
      rows_per_s: 250,
      phase: 'extracting',
      parts: [
        part({ id: 'a', shard: 's1', chunk: 0, rows: 500, estimated_rows: 1000, rows_per_s: 100 }),
        part({ id: 'b', shard: 's2', chunk: null, rows: 1000, estimated_rows: 1000, status: 'done' }),
      ],
    };
    const frame = plain(
      <DetailView
        pipeline={orders}
        detail={detail}
        progress={progress}
        width={100}
        height={30}
        nowMs={NOW}
      />,
    );
    expect(frame).toContain('▶ run run-live-1 · extracting · 1,500 rows of ~2,000 (75%) · 250 r/s · ETA 2s');
    // The whole run against the sum of the best estimates, then each part.
    expect(frame).toMatch(/all parts\s+\[█+░+\]\s+75% 1\.5k\/2k\s+250 r\/s ETA 2s/);
    expect(frame).toMatch(/shard s1 chunk 0\s+\[█+░+\]\s+50% 500\/1k\s+100 r\/s ETA 5s/);
    // A part that was read completely is done; the run is not.
    expect(frame).toMatch(/shard s2\s+\[█+\] 100% 1k\/1k/);
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('lists problems of an invalid pipeline and a load error', () => {
    const invalid = pipeline({
      state: 'invalid',
      problems: ['orders.yaml:3:1 source.type: expected postgres | mysql | sqlserver'],
    });
    const frame = plain(
      <DetailView
        pipeline={invalid}
        detail={{ ...detail, status: null, history: [], why: [], error: '[NOT_FOUND] no pipeline' }}
        progress={undefined}
        width={100}
        height={20}
        nowMs={NOW}
      />,
    );
    expect(frame).toContain('✗ orders.yaml:3:1 source.type');
    expect(frame).toContain('could not load details: [NOT_FOUND] no pipeline');
  });

  it('keeps a long or multi-line error to one line, so the layout holds', () => {
    const message =
      'postgres source "default" (127.0.0.1:1/shop): connect ECONNREFUSED 127.0.0.1:1 — is the server running and accepting TCP connections?\n    at TCPConnectWrap.afterConnect\n    at process.processTicksAndRejections';
    const failing = pipeline({
      last_run: run({ status: 'failed', error: { code: 'SOURCE_CONNECTION', message } }),
    });
    const frame = plain(
      <DetailView
        pipeline={failing}
        detail={{ ...detail, status: null }}
        progress={undefined}
        width={80}
        height={20}
        nowMs={NOW}
      />,
    );
    const line = frame.split('\n').find((l) => l.startsWith('last error: '));
    expect(line).toMatch(
      /^last error: \[SOURCE_CONNECTION\] postgres source "default" \(127\.0\.0\.1:1\/shop\): connect/,
    );
    expect(frame).not.toContain('TCPConnectWrap');
    expect(frame).not.toContain('accepting TCP connections?');
    // One row: the message does not go on in the next.
    const rows = frame.split('\n');
    expect(rows[rows.indexOf(line!) + 1]).not.toMatch(/127\.0\.0\.1:1 —|is the server running/);
  });

  it("lists the last run's checks worst first, one line each, with the detail of those that did not pass", () => {
    const checked = pipeline({ last_run: run({ status: 'failed', checks: checksOfEveryStatus() }) });
    const frame = plain(
      <DetailView
        pipeline={checked}
        detail={{ ...detail, status: status(checked) }}
        progress={undefined}
        width={100}
        height={30}
        nowMs={NOW}
      />,
    );
    const lines = frame.split('\n');
    const heading = lines.findIndex((line) => line.startsWith('checks: '));
    expect(lines[heading]).toBe('checks: 1 fail, 1 quarantine, 1 warn, 2 pass');
    expect(lines.slice(heading + 1, heading + 6)).toEqual([
      '  FAIL       max_null_pct(phone)    7.5 % vs ≤ 5 % · max_null_pct(phone): 7.5 % of rows have a NULL…',
      '  QUARANTINE range(amount)          1 row vs 0 rows · range(amount): 1 row has amount outside 0..10…',
      '  WARN       not_null(email)        3 rows vs 0 rows · not_null(email): 3 rows have a NULL email',
      '  PASS       min_rows               1,200 rows vs ≥ 1 rows',
      '  PASS       freshness(updated_at)  1h 00m vs age ≤ 2h',
    ]);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('keeps the failing checks on a short terminal and counts the rest', () => {
    const checked = pipeline({ last_run: run({ checks: checksOfEveryStatus() }) });
    const frame = plain(
      <DetailView
        pipeline={checked}
        detail={{ ...detail, status: status(checked) }}
        progress={undefined}
        width={100}
        height={14}
        nowMs={NOW}
      />,
    );
    for (const status of ['FAIL', 'QUARANTINE', 'WARN']) expect(frame).toContain(`  ${status} `);
    expect(frame).not.toContain('PASS');
    expect(frame).toContain('\n  … 2 more checks (2 pass)\n');
    expect(frame.split('\n').length).toBeLessThanOrEqual(14);
  });

  it('shows no checks while the last run is still going, nor for a run without checks', () => {
    for (const last of [run({ status: 'running', checks: checksOfEveryStatus() }), run()]) {
      const frame = plain(
        <DetailView
          pipeline={pipeline({ last_run: last })}
          detail={{ ...detail, status: null }}
          progress={undefined}
          width={100}
          height={30}
          nowMs={NOW}
        />,
      );
      expect(frame).not.toContain('checks:');
      expect(frame).not.toContain('PASS');
    }
  });

  it('stays within the height it is given', () => {
    const frame = plain(
      <DetailView pipeline={orders} detail={detail} progress={undefined} width={80} height={8} nowMs={NOW} />,
    );
    expect(frame.split('\n').length).toBeLessThanOrEqual(8);
  });
});

describe('ProgressBar', () => {
  const bar = (rows: number, estimatedRows: number | null, ended: boolean, status = 'running'): string =>
    plain(
      <ProgressBar
        label="table"
        labelWidth={6}
        rows={rows}
        estimatedRows={estimatedRows}
        rowsPerSecond={100}
        status={status}
        ended={ended}
        width={70}
      />,
    );

  it('has no bar without an estimate', () => {
    const frame = bar(42, null, false);
    expect(frame).toContain('42 rows');
    expect(frame).toContain('—');
    expect(frame).not.toContain('█');
  });

  it('never draws a full bar or 100 % before the end, even past the estimate', () => {
    for (const [rows, estimate] of [
      [999, 1000],
      [1000, 1000],
      [1500, 1000],
      [9_996, 10_000],
    ] as const) {
      const frame = bar(rows, estimate, false);
      expect(frame).toMatch(/\[█+░+\]/);
      expect(frame).toMatch(/ 99% /);
      expect(frame).not.toContain('100%');
    }
    // Past the estimate the best estimate is what was read: no ETA of "0s".
    const past = bar(1500, 1000, false);
    expect(past).toContain('1.5k/1.5k');
    expect(past).not.toContain('ETA');
    const halfway = bar(500, 1000, false);
    expect(halfway).toMatch(/ 50% 500\/1k/);
    expect(halfway).toContain('ETA 5s');
    const ended = bar(1500, 1000, true, 'done');
    expect(ended).toMatch(/\[█+\] 100%/);
  });
});

describe('LogPane', () => {
  it('splits matches for highlighting', () => {
    expect(splitMatches('an Error and error', /error/gi)).toEqual([
      { text: 'an ', match: false },
      { text: 'Error', match: true },
      { text: ' and ', match: false },
      { text: 'error', match: true },
    ]);
    expect(splitMatches('plain', null)).toEqual([{ text: 'plain', match: false }]);
  });

  it('shows the newest lines that fit, the search summary and the pause state', () => {
    let view = createLogView('orders');
    view = applyLogAction(view, {
      type: 'logLines',
      pipeline: 'orders',
      lines: Array.from({ length: 30 }, (_, i) =>
        logLine(`step ${i}${i % 10 === 0 ? ' error' : ''}`, { level: i % 10 === 0 ? 'error' : 'info' }),
      ),
      replace: true,
    });
    view = applyLogAction(view, { type: 'searchInput', text: 'error' });
    let frame = plain(<LogPane view={view} width={80} height={6} />);
    expect(frame).toContain('logs: orders · following · cut · search "error": 3 matching lines');
    expect(frame).toContain('step 29');
    expect(frame).toContain('step 25');
    expect(frame).not.toContain('step 24');
    view = applyLogAction(view, { type: 'logsScroll', delta: 10 });
    view = applyLogAction(view, {
      type: 'logLines',
      pipeline: 'orders',
      lines: [logLine('new')],
      replace: false,
    });
    frame = plain(<LogPane view={view} width={80} height={6} />);
    expect(frame).toContain('PAUSED (1 new below)');
    expect(frame).toContain('step 19');
    expect(frame).not.toContain('INFO new');
  });
});

describe('KeyBar, StatusLine, HelpOverlay', () => {
  it('lists every key, and --readonly hides the actions', () => {
    const all = plain(<KeyBar screen="table" readonly={false} width={80} />);
    for (const hint of [
      's start',
      'x stop',
      'p pause/resume',
      'r retry',
      'l logs',
      'enter details',
      '/ filter',
      '? help',
      'q quit',
    ]) {
      expect(all.replace(/\n/g, '  ')).toContain(hint);
    }
    const readonly = plain(<KeyBar screen="table" readonly width={80} />);
    for (const hidden of ['start', 'stop', 'pause', 'retry']) expect(readonly).not.toContain(hidden);
    expect(keyHints('logs', false)).toContain('space pause');
  });

  it('shows a confirmation before a prompt before a notice', () => {
    expect(plain(<StatusLine confirm="Stop orders?" prompt={null} notice={null} context="ctx" />)).toBe(
      'Stop orders? [y/N]',
    );
    expect(
      plain(
        <StatusLine
          confirm={null}
          prompt={{ label: 'filter /', text: 'ord', error: null, hint: '' }}
          notice={null}
          context=""
        />,
      ),
    ).toContain('filter /ord');
    expect(
      plain(
        <StatusLine
          confirm={null}
          prompt={null}
          notice={{ text: 'started', tone: 'info' }}
          context="2 of 2"
        />,
      ),
    ).toBe('started  · 2 of 2');
  });

  it('help fits 80×24 and hides actions in read-only mode', () => {
    const frame = plain(<HelpOverlay readonly={null} />);
    expect(frame.split('\n').length).toBeLessThanOrEqual(24 - 3 - 3);
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(frame).toContain('stop the run (confirm)');
    const readonly = plain(<HelpOverlay readonly="--readonly given" />);
    expect(readonly).not.toContain('stop the run');
    expect(readonly).toContain('Actions [read-only]');
    expect(readonly).toContain('s x p r F B off: --readonly given');
    expect(frame).toContain(':runs [TEXT]');
    expect(frame).toContain(':hosts       daemons of the fleet ');
    expect(frame).toContain('wrap');
  });
});
