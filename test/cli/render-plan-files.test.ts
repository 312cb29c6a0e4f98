/**
 * `etlctl plan` of a files source and of a BigQuery destination: the files section (names,
 * size, rows counted or estimated, what waits, what the ledger skipped) and the cost line.
 */
import { describe, expect, it } from 'vitest';
import { createStyle } from '../../tui/cli/format.js';
import { renderPlan } from '../../tui/cli/render.js';
import type { Plan } from '../../shared/protocol.js';
import { FakeApi } from '../control/fake-api.js';

const ESC = '\u001B[';
const plain = createStyle(false);

const FILES: NonNullable<Plan['files']> = {
  count: 12,
  bytes: 3_221_225,
  sample: ['in/2026-03-01.csv', 'in/2026-03-02.csv.gz', 'in/2026-03-03.csv'],
  truncated: true,
  listed: 40,
  matched: 30,
  already_loaded: 17,
  quarantined: 1,
  estimated_rows: 123_456,
  rows_exact: false,
};

const COST: NonNullable<Plan['cost']> = {
  load_bytes: 3_221_225,
  query_bytes: 2 * 2 ** 40,
  price_per_tib: 6.25,
  estimated_usd: 12.5,
  detail: 'MERGE scans the staged rows (~3.1 MiB) and the target table (2.0 TiB, tables.get numBytes)',
};

async function filesPlan(extras: Partial<Plan> = {}): Promise<Plan> {
  const api = new FakeApi();
  api.planExtras = { files: FILES, cost: COST };
  return { ...(await api.plan({ pipeline: 'orders' })), ...extras };
}

describe('etlctl plan of a files source', () => {
  it('shows the files, what waits and what was skipped, then the cost, in place of parts and watermark', async () => {
    expect(renderPlan(await filesPlan(), plain)).toBe(
      [
        'pipeline     orders',
        'mode         incremental',
        'destination  duckdb:/tmp/lake.db#orders',
        '',
        'files: 12 files, 3.1 MiB, ~123,456 rows (estimated from the first files, scaled by size)',
        '  in/2026-03-01.csv',
        '  in/2026-03-02.csv.gz',
        '  in/2026-03-03.csv',
        '  … 9 more',
        '  + more files wait for the next runs (source.max_files_per_run reached)',
        '  listed 40, matched 30, already loaded 17, would quarantine 1',
        '',
        'cost (BigQuery): load 3.1 MiB (not billed), queries ~2.0 TiB, ~$12.50 at $6.25/TiB',
        '  MERGE scans the staged rows (~3.1 MiB) and the target table (2.0 TiB, tables.get numBytes)',
        '',
        'schema changes:',
        '  add note: text',
        '',
      ].join('\n'),
    );
  });

  it('says counted rows, one file, nothing left waiting', async () => {
    const text = renderPlan(
      await filesPlan({
        files: {
          ...FILES,
          count: 1,
          bytes: 512,
          sample: ['in/a.csv'],
          truncated: false,
          estimated_rows: 1,
          rows_exact: true,
        },
        cost: undefined,
      }),
      plain,
    );
    expect(text).toContain('\nfiles: 1 file, 512 B, 1 row (counted)\n  in/a.csv\n  listed 40,');
    expect(text).not.toContain('…');
    expect(text).not.toContain('wait for the next runs');
    expect(text).not.toContain('cost (BigQuery)');
  });

  it('says when no file is new', async () => {
    const files = {
      ...FILES,
      count: 0,
      bytes: 0,
      sample: [],
      truncated: false,
      estimated_rows: 0,
      rows_exact: true,
    };
    expect(renderPlan(await filesPlan({ files }), plain)).toContain(
      '\nfiles: no new file to load\n  listed 40, matched 30, already loaded 17, would quarantine 1\n',
    );
  });

  it('prices a free load as none, a tiny one as under a cent, a large one with thousands separated', async () => {
    const cost = (query_bytes: number, estimated_usd: number, price_per_tib = 6.25): Promise<Plan> =>
      filesPlan({ cost: { ...COST, query_bytes, estimated_usd, price_per_tib } });
    expect(renderPlan(await cost(0, 0), plain)).toContain(
      'cost (BigQuery): load 3.1 MiB (not billed), queries none, ~$0.00 at $6.25/TiB\n',
    );
    expect(renderPlan(await cost(4_096, (4_096 / 2 ** 40) * 6.25), plain)).toContain(
      'queries ~4.0 KiB, < $0.01 at $6.25/TiB\n',
    );
    expect(renderPlan(await cost(200 * 2 ** 40, 1_250, 6.125), plain)).toContain(
      'queries ~200 TiB, ~$1,250.00 at $6.125/TiB\n',
    );
  });

  it('colours headings and the waiting files only with colour on (NO_COLOR gives plain text)', async () => {
    const plan = await filesPlan();
    expect(renderPlan(plan, plain)).not.toContain(ESC);
    const coloured = renderPlan(plan, createStyle(true));
    expect(coloured).toContain(`${ESC}1mfiles${ESC}22m: 12 files`);
    expect(coloured).toContain(`${ESC}1mcost (BigQuery)${ESC}22m: load`);
    expect(coloured).toContain(`${ESC}33m  + more files wait for the next runs`);
  });

  it('leaves a plan without files as it was: watermark and one section per part', async () => {
    const text = renderPlan(await new FakeApi().plan({ pipeline: 'orders' }), plain);
    expect(text).toContain('watermark    2026-03-01 → 2026-03-02\n');
    expect(text).toContain('\nshard s1 (~1,200 rows)\n  SELECT id FROM orders WHERE updated_at > $1\n');
    expect(text).not.toContain('files:');
  });
});
