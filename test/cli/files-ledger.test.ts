/**
 * `etlctl files` and `etlctl files forget` against a spawned etld whose state store holds file
 * ledgers (written before it starts, as a run of a `files` source commits them): the table and its
 * totals, the filters and paging, `--json` (schema 1), the confirmation (asked on a terminal made by
 * `script`, required as --yes without one), keys the ledger lacks, an unknown pipeline, and the
 * refusal while a run of the pipeline is active (waiting to retry: its source port has no server).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import { connectClient } from '../../shared/client/ws-client.js';
import type { NewSourceFile } from '../../daemon/state/store.js';
import { makeTempHome, spawnDaemon, type DaemonProcess, type TempHome } from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';
import { runCommand, waitFor } from '../helpers/process.js';
import { assertCliBuilt, etlctl } from './cli-harness.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'tui', 'cli', 'main.js');
let home: TempHome;
let daemon: DaemonProcess;

function pipelineYaml(name: string, sourcePort: number, errorHandling: string): string {
  return `name: ${name}
source:
  type: postgres
  connection: { host: 127.0.0.1, port: ${sourcePort}, database: shop, user: etl }
  table: public.${name}
load: { mode: full }
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
error_handling: ${errorHandling}
`;
}

function file(key: string, size: number, status: 'loaded' | 'quarantined' = 'loaded'): NewSourceFile {
  return {
    key,
    size,
    version: `"${key.length}-etag"`,
    modifiedAt: '2026-02-28T08:00:00.000Z',
    status,
    reason: status === 'quarantined' ? `${key} line 17, column amount: not a decimal(12,2)` : null,
  };
}

function etl(...args: string[]): ReturnType<typeof etlctl> {
  return etlctl(['--home', home.dir, ...args]);
}

/** etlctl run on a terminal (`script` makes one) with `answer` typed at its question. */
function etlOnTerminal(answer: string, ...args: string[]): ReturnType<typeof runCommand> {
  const command = [process.execPath, CLI, '--home', home.dir, ...args].map((w) => `'${w}'`).join(' ');
  return runCommand('script', ['-qec', command, '/dev/null'], {
    input: `${answer}\n`,
    env: { ...process.env, NO_COLOR: '1', ETLD_HOME: '' },
  });
}

const listingContract = z.object({
  schema: z.literal(1),
  pipeline: z.string(),
  files: z.array(
    z
      .object({
        key: z.string(),
        size: z.number().int(),
        version: z.string(),
        modified_at: z.string(),
        status: z.enum(['loaded', 'quarantined']),
        sequence: z.number().int(),
        run_id: z.string(),
        reason: z.string().nullable(),
        recorded_at: z.string(),
      })
      .strict(),
  ),
  totals: z.object({
    loaded: z.number().int(),
    quarantined: z.number().int(),
    loaded_bytes: z.number().int(),
    last_recorded_at: z.string().nullable(),
  }),
  next_after: z.string().nullable(),
});

async function listing(...args: string[]): Promise<z.infer<typeof listingContract>> {
  const r = await etl('files', ...args, '--json');
  expect(r.code, r.stderr).toBe(0);
  return listingContract.parse(JSON.parse(r.stdout));
}

beforeAll(async () => {
  assertCliBuilt();
  home = makeTempHome('etld-files-');
  const sourcePort = await freePort();
  home.writePipeline('orders.yaml', pipelineYaml('orders', sourcePort, '{ max_retries: 0 }'));
  // Its run fails at once and then waits an hour to retry: a run that stays active.
  home.writePipeline('slow.yaml', pipelineYaml('slow', sourcePort, '{ max_retries: 3, retry_delay: 1h }'));
  const store = openStateStore(join(home.dir, 'state', 'etld.db'));
  store.commitSourceFiles('orders', 1, 'orders-1-1', [
    file('in/2026-03-01.csv', 1536),
    file('in/2026-03-02.csv', 2048),
    file('in/bad file.csv', 512, 'quarantined'),
    file('in/zz.csv', 0, 'quarantined'),
  ]);
  store.commitSourceFiles('orders', 2, 'orders-2-1', [
    file('in/2026-03-03.csv', 1024),
    file('in/2026-03-04.csv', 10),
  ]);
  store.commitSourceFiles('slow', 1, 'slow-1-1', [file('s.csv', 1)]);
  store.close();
  daemon = spawnDaemon(home.dir);
  await daemon.waitForLine(/etld running/, 60_000);
});

afterAll(async () => {
  await daemon?.stop();
  home?.remove();
});

describe('etlctl files', () => {
  it('lists the ledger in key order with sizes, statuses, sequences and the reason of a quarantine, then the totals', async () => {
    const r = await etl('files', 'orders');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^KEY\s+SIZE\s+STATUS\s+SEQ\s+RECORDED\s+REASON$/);
    expect(lines.slice(1, 7).map((l) => l.split(/\s{2,}/).slice(0, 4))).toEqual([
      ['in/2026-03-01.csv', '1.5 KiB', 'loaded', '1'],
      ['in/2026-03-02.csv', '2.0 KiB', 'loaded', '1'],
      ['in/2026-03-03.csv', '1.0 KiB', 'loaded', '2'],
      ['in/2026-03-04.csv', '10 B', 'loaded', '2'],
      ['in/bad file.csv', '512 B', 'quarantined', '1'],
      ['in/zz.csv', '0 B', 'quarantined', '1'],
    ]);
    expect(lines[5]).toMatch(
      /\d{4}-\d\d-\d\d \d\d:\d\dZ\s+in\/bad file\.csv line 17, column amount: not a decimal\(12,2\)$/,
    );
    expect(lines[7]).toMatch(
      /^4 loaded \(4\.5 KiB\), 2 quarantined; last recorded \d{4}-\d\d-\d\d \d\d:\d\dZ$/,
    );
    expect(r.stdout).not.toContain('next page');

    const quarantined = await etl('files', 'orders', '--quarantined');
    expect(quarantined.stdout.split('\n').slice(1, 2).join('')).toMatch(
      /^in\/bad file\.csv\s+512 B\s+quarantined/,
    );
    const loadedOnly = await etl('files', 'orders', '--loaded', '--grep', '03-0');
    expect(loadedOnly.stdout).not.toContain('REASON');
    expect(loadedOnly.stdout.match(/^in\/\S+/gm)).toEqual([
      'in/2026-03-01.csv',
      'in/2026-03-02.csv',
      'in/2026-03-03.csv',
      'in/2026-03-04.csv',
    ]);
    const none = await etl('files', 'orders', '--grep', 'nothing like it');
    expect(none.stdout).toMatch(/^no files match\n4 loaded/);
  });

  it('pages with -n and ends a page with the command that lists the next one', async () => {
    const first = await etl('files', 'orders', '-n', '2', '--grep', 'csv');
    expect(first.stdout.match(/^in\/\S+/gm)).toEqual(['in/2026-03-01.csv', 'in/2026-03-02.csv']);
    expect(first.stdout).toContain(
      'next page: etlctl files orders --grep csv -n 2 --after in/2026-03-02.csv\n',
    );
    const second = await etl('files', 'orders', '--grep', 'csv', '-n', '2', '--after', 'in/2026-03-02.csv');
    expect(second.stdout.match(/^in\/\S+/gm)).toEqual(['in/2026-03-03.csv', 'in/2026-03-04.csv']);
    // A key with a space is quoted for the shell, and the quoted command lists the next page.
    const spaced = await etl('files', 'orders', '-n', '1', '--after', 'in/2026-03-04.csv');
    expect(spaced.stdout).toMatch(/^KEY.*\nin\/bad file\.csv +512 B +quarantined/);
    expect(spaced.stdout).toContain("next page: etlctl files orders -n 1 --after 'in/bad file.csv'\n");
    const last = await etl('files', 'orders', '-n', '1', '--after', 'in/bad file.csv');
    expect(last.stdout).toMatch(/^KEY.*\nin\/zz\.csv +0 B +quarantined/);
    expect(last.stdout).not.toContain('next page');
    // A page that is exactly the rest has no next page.
    const rest = await etl('files', 'orders', '--quarantined', '-n', '2');
    expect(rest.stdout).not.toContain('next page');
  });

  it('--json prints the page as a schema-1 document with the totals and where the next page starts', async () => {
    const page = await listing('orders', '-n', '3');
    expect(page.pipeline).toBe('orders');
    expect(page.files.map((f) => f.key)).toEqual([
      'in/2026-03-01.csv',
      'in/2026-03-02.csv',
      'in/2026-03-03.csv',
    ]);
    expect(page.files[0]).toMatchObject({
      size: 1536,
      version: '"17-etag"',
      modified_at: '2026-02-28T08:00:00.000Z',
      status: 'loaded',
      sequence: 1,
      run_id: 'orders-1-1',
      reason: null,
    });
    expect(page.totals).toMatchObject({ loaded: 4, quarantined: 2, loaded_bytes: 4618 });
    expect(page.next_after).toBe('in/2026-03-03.csv');
    const rest = await listing('orders', '--after', page.next_after ?? '');
    expect(rest.files.map((f) => f.key)).toEqual(['in/2026-03-04.csv', 'in/bad file.csv', 'in/zz.csv']);
    expect(rest.next_after).toBeNull();
    // A filter nothing matches: no entry, the same totals.
    const none = await listing('orders', '--grep', 'nothing like it');
    expect(none).toMatchObject({ files: [], next_after: null, totals: page.totals });
  });

  it('an unknown pipeline exits 1 with NOT_FOUND; usage errors exit 2', async () => {
    const unknown = await etl('files', 'nosuch');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('etlctl: no pipeline named "nosuch" (etlctl list shows the pipelines)\n');
    const json = await etl('files', 'nosuch', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toMatchObject({ schema: 1, error: { code: 'NOT_FOUND' } });
    const forgetUnknown = await etl('files', 'forget', 'nosuch', 'a.csv', '--yes');
    expect(forgetUnknown.code).toBe(1);
    expect(forgetUnknown.stderr).toContain('no pipeline named "nosuch"');

    for (const [args, message] of [
      [['files'], 'missing <pipeline> for files'],
      [['files', 'orders', '--loaded', '--quarantined'], '--loaded or --quarantined, not both'],
      [['files', 'orders', 'extra'], 'too many arguments for files: extra'],
      [['files', 'orders', '--all'], 'files <pipeline> takes no --all'],
      [['files', 'forget'], 'files forget: name the pipeline'],
      [
        ['files', 'forget', 'orders'],
        'files forget orders: give the keys of the files to load again, or --all',
      ],
      [['files', 'forget', 'orders', 'a.csv', '--all'], 'the keys of some files or --all, not both'],
      [['files', 'forget', 'orders', '--all', '-n', '2'], 'files forget takes no --limit'],
      [['files', 'orders', '-n', '0'], '--limit expects a whole number from 1 to 10000'],
      // No terminal to ask on (stdin is a pipe here): --yes is required, and nothing changes.
      [
        ['files', 'forget', 'orders', '--all'],
        'files forget: confirm with --yes (there is no terminal to ask on)',
      ],
    ] as const) {
      const r = await etl(...args);
      expect({ args, code: r.code, message: r.stderr.includes(message) }).toEqual({
        args,
        code: 2,
        message: true,
      });
    }
    expect((await listing('orders')).totals).toMatchObject({ loaded: 4, quarantined: 2 });
  });
});

describe('the files methods of the protocol', () => {
  it('are checked by the daemon itself: a forget needs keys or all, not both, and bounds hold', async () => {
    const client = await connectClient({
      socketPath: home.socketPath,
      clientName: 'files-test',
      reconnect: false,
    });
    try {
      for (const params of [{ pipeline: 'orders' }, { pipeline: 'orders', keys: ['in/zz.csv'], all: true }]) {
        await expect(client.call('files_forget', params)).rejects.toMatchObject({
          code: 'PROTOCOL_INVALID',
          message: 'invalid params for "files_forget": give either keys or all: true',
        });
      }
      await expect(client.call('files_forget', { pipeline: 'orders', keys: [] })).rejects.toMatchObject({
        code: 'PROTOCOL_INVALID',
      });
      await expect(client.call('files', { pipeline: 'orders', limit: 0 })).rejects.toMatchObject({
        code: 'PROTOCOL_INVALID',
        message: expect.stringContaining('limit'),
      });
      await expect(client.call('files', { pipeline: 'orders', after: '' })).rejects.toMatchObject({
        code: 'PROTOCOL_INVALID',
      });
      // Nothing was forgotten by the refused calls.
      expect((await client.call('files', { pipeline: 'orders' })).totals).toMatchObject({
        loaded: 4,
        quarantined: 2,
      });
    } finally {
      await client.close();
    }
  });
});

describe('etlctl files forget', () => {
  it('asks on a terminal: no keeps the ledger, yes forgets', async () => {
    const declined = await etlOnTerminal('n', 'files', 'forget', 'orders', 'in/2026-03-01.csv');
    expect(declined.code).toBe(1);
    expect(declined.stdout).toContain('files forget: 1 file(s) of orders: in/2026-03-01.csv\r\n');
    expect(declined.stdout).toContain('in append mode their rows are loaded a second time.\r\n');
    expect(declined.stdout).toContain('Forget them? [y/N] ');
    expect(declined.stdout).toContain('etlctl: files forget: not confirmed; nothing was forgotten');
    expect((await listing('orders')).totals.loaded).toBe(4);

    const accepted = await etlOnTerminal('y', 'files', 'forget', 'orders', 'in/2026-03-01.csv');
    expect(accepted.code, accepted.stdout).toBe(0);
    expect(accepted.stdout).toContain('forgot 1 file(s) of orders: its next run loads them again');
    expect((await listing('orders')).files.map((f) => f.key)).not.toContain('in/2026-03-01.csv');
    await daemon.waitForLine(
      /files forget by .*\(etlctl\/[\d.]+, unix\): 1 ledger entry removed \(in\/2026-03-01\.csv\)/,
    );
  });

  it('with --yes forgets the keys it is given, and exits 1 naming those the ledger does not hold', async () => {
    const r = await etl('files', 'forget', 'orders', 'in/2026-03-02.csv', 'in/typo.csv', '--yes');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      'forgot 1 file(s) of orders: its next run loads them again\nnot in the ledger (nothing to forget): in/typo.csv\n',
    );
    const json = await etl('files', 'forget', 'orders', 'in/bad file.csv', '-y', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      schema: 1,
      pipeline: 'orders',
      forgotten: 1,
      not_recorded: [],
    });
    expect((await listing('orders')).files.map((f) => f.key)).toEqual([
      'in/2026-03-03.csv',
      'in/2026-03-04.csv',
      'in/zz.csv',
    ]);
    const all = await etl('files', 'forget', 'orders', '--all', '--yes', '--json');
    expect(JSON.parse(all.stdout)).toEqual({ schema: 1, pipeline: 'orders', forgotten: 3, not_recorded: [] });
    expect((await etl('files', 'orders')).stdout).toBe(
      'no files recorded for orders: none loaded or quarantined yet\n',
    );
  });

  it('is refused while a run of the pipeline is active, and works once it is stopped', async () => {
    const started = await etl('start', 'slow');
    expect(started.code, started.stderr).toBe(0);
    await waitFor(
      async () => {
        const status = JSON.parse((await etl('status', 'slow', '--json')).stdout) as { state: string };
        return status.state === 'retrying' ? true : undefined;
      },
      { what: 'the run of slow to wait for its retry', timeoutMs: 60_000 },
    );
    const refused = await etl('files', 'forget', 'slow', '--all', '--yes');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^etlctl: pipeline slow is waiting to retry \(run slow-\d+\); stop it \(etlctl stop slow\) or wait for it \(etlctl wait slow\), then change its file ledger\n$/,
    );
    const json = await etl('files', 'forget', 'slow', 's.csv', '--yes', '--json');
    expect(JSON.parse(json.stderr)).toMatchObject({ schema: 1, error: { code: 'ILLEGAL_STATE' } });
    expect((await listing('slow')).totals).toMatchObject({ loaded: 1, quarantined: 0 });

    expect((await etl('stop', 'slow')).code).toBe(0);
    const forgotten = await etl('files', 'forget', 'slow', '--all', '--yes');
    expect(forgotten.code, forgotten.stderr).toBe(0);
    expect(forgotten.stdout).toContain('forgot 1 file(s) of slow');
  });
});
