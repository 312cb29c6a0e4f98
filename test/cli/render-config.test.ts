import { describe, expect, test } from 'vitest';
import { createStyle } from '../../tui/cli/format.js';
import { renderInfo, renderList, renderStatus } from '../../tui/cli/render.js';
import { reloadFailed, renderProblems, renderReload } from '../../tui/cli/render-config.js';
import { info, pipeline, status } from '../tui/fixtures.js';

const style = createStyle(false);
const NOW = new Date('2026-03-10T12:00:00Z');
const PROBLEM = '/etc/etld/pipelines/orders.yaml:7:11 schedule: expected "every <duration>", got "every 5x"';
const FLAG = `running the last good version; file invalid: ${PROBLEM}`;
const lastGood = pipeline({ file_status: 'last_good', problems: [PROBLEM] });

describe('a pipeline running its last good version, in etlctl', () => {
  test('list flags it idle* and says why under the table', () => {
    const out = renderList([lastGood, pipeline({ name: 'users' })], style, NOW);
    expect(out).toMatch(/^orders\s+idle\*\s/m);
    expect(out).toMatch(/^users\s+idle\s/m);
    expect(out).toContain(`* orders: ${FLAG}`);
  });

  test('status says it first and lists the problems of the file', () => {
    const out = renderStatus(status(lastGood), style, NOW);
    expect(out.split('\n')[1]).toMatch(new RegExp(`^file status\\s+${FLAG.replace(/[()<>"]/g, '.')}`));
    expect(out).toContain(`problems of the file (the last good version keeps running):\n  ${PROBLEM}`);
  });

  test('info counts it and gives its first problem', () => {
    const out = renderInfo(
      {
        ...info(),
        config: { invalid_files: 1, warnings: 2, last_good: [{ pipeline: 'orders', problem: PROBLEM }] },
      },
      style,
    );
    expect(out).toMatch(
      /config\s+1 running the last good version, 1 invalid file\(s\), 2 file\(s\) with warnings \(etlctl problems\)/,
    );
    expect(out).toMatch(
      /^ {2}orders\s+running the last good version; file invalid: \/etc\/etld\/pipelines\/orders\.yaml:7:11 /m,
    );
    expect(
      renderInfo({ ...info(), config: { invalid_files: 0, warnings: 0, last_good: [] } }, style),
    ).toMatch(/config\s+every file valid/);
  });
});

describe('reload and problems', () => {
  test('a reload that met an invalid file fails and says the valid ones were applied', () => {
    const result = {
      added: ['users'],
      changed: [],
      removed: [],
      invalid: ['orders'],
      problems: [PROBLEM],
      warnings: [],
    };
    expect(reloadFailed(result)).toBe(true);
    expect(renderReload(result, style)).toBe(
      `added: users\nchanged: -\nremoved: -\ninvalid: orders\ninvalid  ${PROBLEM}\nthe valid files were applied; invalid ones are not loaded, or keep their last good version running (etlctl problems)\n`,
    );
    // A broken connections.yaml fails the reload even when no pipeline names the broken block.
    expect(
      reloadFailed({ added: [], changed: [], removed: [], invalid: [], problems: ['c.yaml:1:1 x'] }),
    ).toBe(true);
    expect(reloadFailed({ added: [], changed: ['orders'], removed: [], invalid: [] })).toBe(false);
  });

  test('problems says, per file, what runs', () => {
    expect(
      renderProblems(
        [
          {
            severity: 'error',
            pipeline: 'orders',
            file: '/p/orders.yaml',
            effect: 'last_good',
            problems: [PROBLEM],
          },
          {
            severity: 'warning',
            pipeline: 'users',
            file: '/p/users.yaml',
            effect: 'running',
            problems: ['w'],
          },
          { severity: 'error', pipeline: null, file: '/p/connections.yaml', effect: null, problems: ['c'] },
        ],
        style,
      ),
    ).toBe(
      [
        'ERROR    orders: running the last good version; file invalid',
        `         ${PROBLEM}`,
        'WARNING  users: runs, with warnings',
        '         w',
        'ERROR    /p/connections.yaml: its broken connections cannot be used',
        '         c',
        '',
      ].join('\n'),
    );
    expect(renderProblems([], style)).toBe('no problems: every pipeline runs what its file says\n');
  });
});
