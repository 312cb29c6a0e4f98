/**
 * `etlctl plan` of a files source with a BigQuery destination, through a control server: the
 * client validates the daemon's answer against the protocol schema, so the `files` and `cost`
 * blocks must come through it unchanged into the `--json` document, and the human text under
 * NO_COLOR (the harness's environment) carries no escape codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../shared/protocol.js';
import { startTestServer, type TestServer } from '../control/harness.js';
import { assertCliBuilt, etlctl } from './cli-harness.js';

let t: TestServer;

beforeAll(async () => {
  assertCliBuilt();
  t = await startTestServer();
});
afterAll(async () => {
  await t?.dispose();
});

const FILES: NonNullable<Plan['files']> = {
  count: 2,
  bytes: 10_240,
  sample: ['in/2026-03-01.ndjson', 'in/2026-03-02.ndjson'],
  truncated: false,
  listed: 5,
  matched: 4,
  already_loaded: 2,
  quarantined: 0,
  estimated_rows: 300,
  rows_exact: true,
};
const COST: NonNullable<Plan['cost']> = {
  load_bytes: 10_240,
  query_bytes: 10_240,
  price_per_tib: 6.25,
  estimated_usd: (10_240 / 2 ** 40) * 6.25,
  detail: 'the files load into a staging table (load jobs, not billed), then SELECT … FROM staging scans …',
};

describe('etlctl plan with files and cost blocks', () => {
  it('--json carries files and cost as the daemon sent them, in a schema 1 document', async () => {
    t.api.planExtras = { files: FILES, cost: COST };
    const r = await etlctl(['--socket', t.socketPath, 'plan', 'orders', '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ schema: 1, pipeline: 'orders' });
    expect(doc['files']).toEqual(FILES);
    expect(doc['cost']).toEqual(COST);
  });

  it('prints the files section and the cost line, without colour', async () => {
    t.api.planExtras = { files: FILES, cost: COST };
    const r = await etlctl(['--socket', t.socketPath, 'plan', 'orders']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(
      '\nfiles: 2 files, 10.0 KiB, 300 rows (counted)\n  in/2026-03-01.ndjson\n  in/2026-03-02.ndjson\n',
    );
    expect(r.stdout).toContain(
      '\ncost (BigQuery): load 10.0 KiB (not billed), queries ~10.0 KiB, < $0.01 at $6.25/TiB\n',
    );
    expect(r.stdout).not.toContain('\u001B[');
  });

  it('a plan without the blocks has neither key in --json', async () => {
    t.api.planExtras = {};
    const r = await etlctl(['--socket', t.socketPath, 'plan', 'orders', '--json']);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).not.toHaveProperty('files');
    expect(doc).not.toHaveProperty('cost');
  });
});
