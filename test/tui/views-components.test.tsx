/**
 * The palette's views and what changed in the others, rendered: full run ids, errors in one line
 * with the rest on demand, dated and wrappable log lines, and wide tables that give their width to
 * errors, schedules and last runs rather than to names.
 */
import type { JSX } from 'react';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import type { AlertRecord } from '../../shared/protocol.js';
import { AlertsView } from '../../tui/console/components/AlertsView.js';
import { DetailsOverlay } from '../../tui/console/components/DetailsOverlay.js';
import { DetailView } from '../../tui/console/components/DetailView.js';
import { LogPane } from '../../tui/console/components/LogPane.js';
import { pipelineColumns } from '../../tui/console/components/PipelineTable.js';
import { RunsView } from '../../tui/console/components/RunsView.js';
import { YamlView } from '../../tui/console/components/YamlView.js';
import { ThemeContext } from '../../tui/console/hooks/use-theme.js';
import { runDetails } from '../../tui/console/state/details.js';
import { applyLogAction, createLogView, type LogView } from '../../tui/console/state/log-view.js';
import { NOW, iso, logLine, part, pipeline, run } from './fixtures.js';

/** ink-testing-library's terminal is 100 columns wide. */
function plain(node: JSX.Element): string {
  const { lastFrame } = render(
    <ThemeContext.Provider value={{ color: false }}>{node}</ThemeContext.Provider>,
  );
  return lastFrame() ?? '';
}

const LONG = 'orders_from_the_eu_shop_shards';
const MULTI_LINE =
  'relation "public.orderz" does not exist\nLINE 1: SELECT * FROM public.orderz\n              ^';

describe('RunsView', () => {
  const runs = [
    run({
      id: 'orders_from_the_eu-1234',
      pipeline: 'orders_from_the_eu',
      status: 'running',
      finished_at: null,
    }),
    run({
      id: 'customers-7',
      pipeline: 'customers',
      status: 'failed',
      attempt: 3,
      error: { code: 'SOURCE_QUERY', message: MULTI_LINE },
    }),
  ];

  it('shows full run ids and each error in one line', () => {
    const frame = plain(
      <RunsView runs={runs} selected={1} width={100} height={10} nowMs={NOW} emptyText="none" />,
    );
    const lines = frame.split('\n');
    expect(lines[0]).toMatch(/^ {2}RUN\s+STATUS\s+TRIGGER\s+STARTED\s+DURATION\s+TRY\s+ROWS\s+ERROR/);
    expect(frame).toMatch(/^ {2}orders_from_the_eu-1234 +running/m);
    expect(lines.find((l) => l.includes('customers-7'))).toMatch(
      /^› customers-7\s+failed\s+schedule\s+10 min ago\s+1m 00s\s+3\s+1\.2k \[SOURCE_QUERY\] rel…$/,
    );
    expect(frame).not.toContain('LINE 1');
    expect(lines).toHaveLength(3);
  });

  it('says why it is empty', () => {
    expect(
      plain(
        <RunsView
          runs={[]}
          selected={-1}
          width={100}
          height={5}
          nowMs={NOW}
          emptyText="no runs match the filter"
        />,
      ),
    ).toContain('no runs match the filter');
  });
});

describe('AlertsView', () => {
  const alert: AlertRecord = {
    id: 3,
    pipeline: 'customers',
    kind: 'failure',
    run_id: 'customers-7',
    created_at: iso(-300),
    status: 'suppressed',
    recipients: 'oncall@example.com',
    subject: '[etld] customers FAILED after 3 attempts: SOURCE_QUERY',
    detail: null,
  };

  it('lists when, kind, delivery, pipeline, run and subject', () => {
    const frame = plain(
      <AlertsView alerts={[alert]} selected={0} width={100} height={5} nowMs={NOW} emptyText="" />,
    );
    expect(frame).toMatch(/WHEN\s+KIND\s+STATUS\s+PIPELINE\s+RUN\s+SUBJECT/);
    expect(frame).toMatch(
      /› 5 min ago\s+failure\s+suppressed\s+customers\s+customers-7\s+\[etld\] customers FAILED/,
    );
  });

  it('shows the longest kinds whole', () => {
    const quarantined: AlertRecord = {
      ...alert,
      id: 4,
      kind: 'files_quarantined',
      run_id: 'customers-8',
      status: 'sent',
      subject: '[etld] customers FILES QUARANTINED: 2 files (run customers-8)',
    };
    const frame = plain(
      <AlertsView
        alerts={[quarantined, alert]}
        selected={0}
        width={100}
        height={5}
        nowMs={NOW}
        emptyText=""
      />,
    );
    expect(frame).toMatch(/files_quarantined\s+sent\s+customers\s+customers-8\s+\[etld\] customers FILES/);
    expect(frame).toMatch(/failure\s+suppressed\s+customers\s+customers-7/);
  });
});

describe('YamlView', () => {
  it('shows the file as on disk with line numbers, and says when values were masked', () => {
    const text = '# orders from the EU shards\nname: orders\nsource:\n  table: public.orders\n';
    const frame = plain(
      <YamlView
        view={{
          pipeline: 'orders',
          file: {
            pipeline: 'orders',
            file: '/etc/etld/pipelines/orders.yaml',
            text,
            bytes: text.length,
            modified_at: iso(-3600),
            truncated: false,
            masked: true,
          },
          error: null,
          scroll: 1,
        }}
        width={100}
        height={10}
        nowMs={NOW}
      />,
    );
    expect(frame).toContain('yaml: orders · /etc/etld/pipelines/orders.yaml · 72 B · changed 1 h ago');
    expect(frame).toContain('values that looked like secrets are shown as ***');
    expect(frame).toContain('2 │ name: orders');
    expect(frame).toContain('4 │   table: public.orders');
    expect(frame).not.toContain('# orders from the EU shards');
  });

  it('says why a file could not be read', () => {
    const frame = plain(
      <YamlView
        view={{ pipeline: 'orders', file: null, error: '[NOT_FOUND] cannot read x (ENOENT)', scroll: 0 }}
        width={100}
        height={5}
        nowMs={NOW}
      />,
    );
    expect(frame).toContain('could not read the file: [NOT_FOUND] cannot read x (ENOENT)');
  });
});

describe('DetailsOverlay', () => {
  it('shows every line of an error, wrapped, and scrolls what does not fit', () => {
    const details = runDetails(
      run({ id: 'customers-7', status: 'failed', error: { code: 'SOURCE_QUERY', message: MULTI_LINE } }),
    );
    const frame = plain(<DetailsOverlay details={details} width={60} height={30} />);
    expect(frame).toContain('run customers-7 · failed');
    expect(frame).toContain('error SOURCE_QUERY:');
    expect(frame).toContain('relation "public.orderz" does not exist');
    expect(frame).toContain('LINE 1: SELECT * FROM public.orderz');
    expect(frame).toContain('any key closes');
    const short = plain(<DetailsOverlay details={details} width={60} height={8} />);
    expect(short).toMatch(/… \d+ more lines · ↑↓ scroll · any other key closes/);
    expect(short).not.toContain('LINE 1');
  });
});

describe('LogPane', () => {
  function view(lines: ReturnType<typeof logLine>[], pipeline: string | null = 'orders'): LogView {
    return applyLogAction(createLogView(pipeline), { type: 'logLines', pipeline, lines, replace: true });
  }
  const long = `${'a'.repeat(60)}|${'b'.repeat(60)}|END`;

  it('dates every line, cuts long ones at the edge and shifts them sideways', () => {
    let v = view([logLine(long), logLine('two\nlines')]);
    let frame = plain(<LogPane view={v} width={100} height={5} />);
    expect(frame).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} INFO a{60}\|b+/m);
    expect(frame).not.toContain('END');
    expect(frame).toContain('INFO two ⏎ lines');
    expect(frame).toContain('logs: orders · following · cut');
    v = applyLogAction(v, { type: 'logsShift', delta: 64 });
    frame = plain(<LogPane view={v} width={100} height={5} />);
    expect(frame).toContain('cut → +64');
    expect(frame).toMatch(/INFO b{57}\|END/);
  });

  it('w wraps long lines onto the next rows, under the message', () => {
    const v = applyLogAction(view([logLine(long)]), { type: 'logsWrap' });
    const frame = plain(<LogPane view={v} width={100} height={6} />);
    const lines = frame.split('\n');
    expect(lines[0]).toContain('logs: orders · following · wrap');
    expect(lines[1]).toMatch(/INFO a{60}\|b{14}$/);
    expect(lines[2]).toMatch(/^ {25}b{46}\|END$/);
  });

  it('every pipeline’s log names the pipeline (or etld) of each line', () => {
    const v = view([logLine('run started'), logLine('control socket listening', { pipeline: null })], null);
    const frame = plain(<LogPane view={v} width={100} height={5} />);
    expect(frame).toContain('logs: every pipeline');
    expect(frame).toMatch(/INFO orders run started/);
    expect(frame).toMatch(/INFO etld {3}control socket listening/);
  });
});

describe('the pipeline table on wide terminals', () => {
  const fleet = [
    pipeline({ name: 'orders' }),
    pipeline({
      name: 'customers',
      state: 'failed',
      schedule_human: 'every 2 hours on weekdays between 06:00 and 20:00 (Europe/Warsaw)',
      last_run: run({ status: 'failed', error: { code: 'SOURCE_QUERY', message: MULTI_LINE } }),
    }),
  ];
  const widths = (width: number): Record<string, number> =>
    Object.fromEntries(pipelineColumns(width, {}, NOW, fleet).map((c) => [c.header, c.width]));

  it('gives the extra width to schedule, last run and errors, not to the name', () => {
    for (const width of [140, 180, 240]) {
      const w = widths(width);
      const used = Object.values(w).reduce((sum, x) => sum + x, 0) + 2 + (Object.keys(w).length - 1);
      expect(used).toBeLessThanOrEqual(width);
      expect(w.NAME).toBe(10);
    }
    expect(widths(180).SCHEDULE).toBeGreaterThan(widths(120).SCHEDULE!);
    expect(widths(240).ERROR).toBeGreaterThan(widths(180).ERROR!);
    expect(widths(240).ERROR).toBeGreaterThan(60);
    // An 80-column terminal keeps its essential columns.
    expect(Object.keys(widths(80))).not.toContain('ERROR');
  });

  it('shows an error in one line', () => {
    const error = pipelineColumns(200, {}, NOW, fleet).find((c) => c.header === 'ERROR');
    expect(error?.cell(fleet[1]!)).toEqual({
      text: '[SOURCE_QUERY] relation "public.orderz" does not exist …',
      color: 'red',
    });
    expect(error?.cell(fleet[0]!).text).toBe('');
  });
});

describe('DetailView', () => {
  it('shows the run id in full, in the live section and the history', () => {
    const id = `${LONG}-1234`;
    const frame = plain(
      <DetailView
        pipeline={pipeline({ name: LONG, state: 'running' })}
        detail={{
          pipeline: LONG,
          status: null,
          history: [run({ id: `${LONG}-1233`, pipeline: LONG })],
          why: [],
          error: null,
        }}
        progress={{
          run_id: id,
          attempt_id: `${id}-1`,
          pipeline: LONG,
          rows: 900,
          bytes: 0,
          rows_per_s: 100,
          phase: 'extracting',
          parts: [part({ rows: 900, estimated_rows: 800 })],
        }}
        width={100}
        height={20}
        nowMs={NOW}
      />,
    );
    expect(frame).toContain(`▶ run ${id} · extracting · 900 rows of ~900 (99%)`);
    expect(frame).toMatch(new RegExp(`${LONG}-1233\\s+succeeded`));
    // Rows past the estimate: the bar follows them, at 99 %, not 100 %.
    expect(frame).toMatch(/chunk 0\s+\[█+░+\]\s+99% 900\/900/);
    expect(frame).not.toContain('100%');
  });
});
