/**
 * etlctl's check rendering where a spawned etlctl cannot reach it: colour (stdout of a child
 * process is never a terminal) and runs whose checks all passed.
 */
import { describe, expect, it } from 'vitest';
import { createStyle } from '../../tui/cli/format.js';
import { renderPlan, renderRun } from '../../tui/cli/render.js';
import { renderHistory } from '../../tui/cli/render-runs.js';
import { FakeApi, SAMPLE_CHECKS } from '../control/fake-api.js';

const NOW = new Date('2026-03-10T12:00:00Z');
const ESC = '\u001B[';

describe('etlctl check rendering', () => {
  it('colours check statuses like run statuses, and not at all without colour', async () => {
    const run = await new FakeApi().run({ run_id: 'orders-run-2' });
    const coloured = renderRun(run, createStyle(true), NOW);
    expect(coloured).toContain(`${ESC}32mPASS${ESC}39m`);
    expect(coloured).toContain(`${ESC}33mWARN${ESC}39m`);
    expect(coloured).toContain(`${ESC}33mQUARANTINE${ESC}39m`);
    expect(coloured).toContain(`${ESC}31mFAIL${ESC}39m`);
    const plain = renderRun(run, createStyle(false), NOW);
    expect(plain).not.toContain(ESC);
    expect(plain).toMatch(/\nmax_null_pct\(phone\) +FAIL +7\.5 % +≤ 5 %/);
  });

  it('shows no checks section for a run without checks, and words what it cannot measure', async () => {
    const run = await new FakeApi().run({ run_id: 'orders-run-2' });
    expect(renderRun({ ...run, checks: [] }, createStyle(false), NOW)).not.toMatch(/^CHECK /m);
    const odd = renderRun(
      {
        ...run,
        checks: [
          { ...run.checks[4]!, observed: null, detail: 'freshness(updated_at): the batch is empty' },
          { ...run.checks[0]!, name: 'future', type: 'not_yet_known', observed: 12.5, threshold: '≤ 10' },
        ],
      },
      createStyle(false),
      NOW,
    );
    expect(odd).toMatch(/\nfreshness\(updated_at\) +PASS +- +age ≤ 2h\n/);
    expect(odd).toMatch(/\nfuture +PASS +12\.5 +≤ 10\n/);
  });

  it('history leaves the CHECKS column out while every check passed, and colours it by the worst', async () => {
    const runs = await new FakeApi().history({ pipeline: 'orders', limit: 3 });
    const allPassed = runs.map((r) => ({ ...r, checks: r.checks.filter((c) => c.status === 'pass') }));
    const quiet = renderHistory(allPassed, createStyle(false), NOW);
    expect(quiet).not.toContain('CHECKS');
    expect(quiet).not.toMatch(/ ok\n/);
    const loud = renderHistory(runs, createStyle(true), NOW);
    expect(loud).toContain(`${ESC}33m1 quarantine, 1 warn${ESC}39m`);
    expect(loud).toContain(`${ESC}32mok${ESC}39m`);
    const failed = renderHistory(
      [{ ...runs[0]!, checks: [...runs[0]!.checks, { ...runs[0]!.checks[1]!, status: 'fail' }] }],
      createStyle(true),
      NOW,
    );
    expect(failed).toContain(`${ESC}31m1 fail, 1 quarantine, 1 warn${ESC}39m`);
  });

  it('plan shows the checks judged on its sample, and none when the pipeline has none', async () => {
    const plan = await new FakeApi().plan({ pipeline: 'orders' });
    expect(renderPlan(plan, createStyle(false))).not.toContain('checks on a sample');
    const judged = renderPlan(
      { ...plan, checks: [...SAMPLE_CHECKS], check_sample_rows: 10_000 },
      createStyle(false),
    );
    expect(judged).toContain('\nchecks on a sample of 10,000 rows:\nCHECK ');
    expect(judged).toMatch(/\nmax_null_pct\(phone\) +FAIL +7\.5 % +≤ 5 %/);
  });
});
