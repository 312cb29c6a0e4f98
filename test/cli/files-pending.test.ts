/**
 * `etlctl files PIPELINE --pending` against a spawned etld whose `files` pipeline reads a real
 * directory into DuckDB: the files its next run would take (the table, the summary and `--json`),
 * none once a run has loaded them (the ledger then lists them), a rewritten file marked `changed`
 * with what the pipeline's policy would do, files younger than `min_age` counted but not listed,
 * the listing cut at -n, and the refusals (a pipeline that reads no files, an unknown one, the
 * ledger's filters beside --pending).
 */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { makeTempHome, spawnDaemon, type DaemonProcess, type TempHome } from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';
import { assertCliBuilt, etlctl } from './cli-harness.js';

let home: TempHome;
let daemon: DaemonProcess;
let landing: string;

function filesYaml(name: string, minAge: string): string {
  return `name: ${name}
source: { type: files, url: ${landing}, pattern: "*.csv", min_age: ${minAge} }
load: { mode: incremental }
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
error_handling: { max_retries: 0 }
`;
}

/** Writes a CSV under the landing directory, dated a minute ago (min_age 0s takes it at once). */
function drop(key: string, rows: readonly string[]): void {
  const path = join(landing, key);
  writeFileSync(path, ['id,name', ...rows].join('\n') + '\n');
  const when = new Date(Date.now() - 60_000);
  utimesSync(path, when, when);
}

function etl(...args: string[]): ReturnType<typeof etlctl> {
  return etlctl(['--home', home.dir, ...args]);
}

const pendingContract = z
  .object({
    schema: z.literal(1),
    pipeline: z.string(),
    files: z.array(
      z
        .object({
          key: z.string(),
          size: z.number().int(),
          modified_at: z.string(),
          reason: z.enum(['new', 'changed', 'retry-quarantined']),
        })
        .strict(),
    ),
    truncated: z.boolean(),
    listed: z.number().int(),
    matched: z.number().int(),
    already_loaded: z.number().int(),
    quarantined: z.number().int(),
    too_new: z.number().int(),
    changed_policy: z.enum(['fail', 'ignore', 'reload']),
  })
  .strict();

async function pending(...args: string[]): Promise<z.infer<typeof pendingContract>> {
  const r = await etl('files', ...args, '--pending', '--json');
  expect(r.code, r.stderr).toBe(0);
  return pendingContract.parse(JSON.parse(r.stdout));
}

/** The KEY column of a human listing. */
function keysOf(stdout: string): string[] {
  return stdout
    .split('\n')
    .slice(1)
    .filter((line) => /\.csv\s/.test(line))
    .map((line) => line.split(/\s{2,}/)[0] ?? '');
}

beforeAll(async () => {
  assertCliBuilt();
  home = makeTempHome('etld-files-pending-');
  landing = join(home.dir, 'landing');
  mkdirSync(landing, { recursive: true });
  home.writePipeline('land.yaml', filesYaml('land', '0s'));
  // The same directory with files a writer may still be writing for an hour: none is old enough.
  home.writePipeline('young.yaml', filesYaml('young', '1h'));
  home.writePipeline(
    'tables.yaml',
    `name: tables
source:
  type: postgres
  connection: { host: 127.0.0.1, port: ${await freePort()}, database: shop, user: etl }
  table: public.tables
load: { mode: full }
destination: { type: duckdb, path: tables.duckdb, table: tables }
`,
  );
  daemon = spawnDaemon(home.dir);
  await daemon.waitForLine(/etld running/, 60_000);
});

afterAll(async () => {
  await daemon?.stop();
  home?.remove();
});

describe('etlctl files --pending', () => {
  it('lists the files the next run takes, none after it ran, and a rewritten file as changed', async () => {
    drop('a.csv', ['1,ann', '2,bob']);
    drop('b.csv', ['3,cid']);
    drop('c.csv', ['4,dee', '5,eve', '6,fay']);
    writeFileSync(join(landing, 'notes.txt'), 'not matched by *.csv\n');

    const human = await etl('files', 'land', '--pending');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/^KEY\s+SIZE\s+MODIFIED\s+REASON$/);
    expect(keysOf(human.stdout)).toEqual(['a.csv', 'b.csv', 'c.csv']);
    expect(human.stdout).toMatch(/^a\.csv\s+20 B\s+\d{4}-\d\d-\d\d \d\d:\d\dZ\s+new$/m);
    expect(human.stdout).toContain('\n3 pending\n');
    expect(human.stdout).toContain('3 matching file(s): 0 loaded, 0 quarantined and unchanged\n');

    const before = await pending('land');
    expect(before).toMatchObject({
      pipeline: 'land',
      truncated: false,
      listed: 4,
      matched: 3,
      already_loaded: 0,
      quarantined: 0,
      too_new: 0,
      changed_policy: 'fail',
    });
    expect(before.files.map((f) => [f.key, f.size, f.reason])).toEqual([
      ['a.csv', 20, 'new'],
      ['b.csv', 14, 'new'],
      ['c.csv', 26, 'new'],
    ]);
    expect(Date.parse(before.files[0]?.modified_at ?? '')).toBeLessThan(Date.now() - 30_000);

    const run = await etl('start', 'land', '--wait', '--timeout', '2m');
    expect(run.code, run.stderr).toBe(0);
    const after = await pending('land');
    expect(after).toMatchObject({ files: [], already_loaded: 3, matched: 3, truncated: false });
    const none = await etl('files', 'land', '--pending');
    expect(none.stdout).toMatch(/^nothing pending for land\n/);
    const ledger = await etl('files', 'land');
    expect(ledger.code, ledger.stderr).toBe(0);
    expect(keysOf(ledger.stdout)).toEqual(['a.csv', 'b.csv', 'c.csv']);
    expect(ledger.stdout).toMatch(/^3 loaded \(60 B\), 0 quarantined/m);

    drop('b.csv', ['3,cid', '7,gus']);
    const changed = await pending('land');
    expect(changed.files.map((f) => [f.key, f.size, f.reason])).toEqual([['b.csv', 20, 'changed']]);
    expect(changed).toMatchObject({ already_loaded: 2, changed_policy: 'fail' });
    const changedHuman = await etl('files', 'land', '--pending');
    expect(changedHuman.stdout).toMatch(/^b\.csv\s+20 B\s+\S+ \S+\s+changed$/m);
    expect(changedHuman.stdout).toContain(
      '1 pending; 1 changed since loaded: the next run fails on them (on_changed_file: fail)\n',
    );
    // Listing wrote nothing: the ledger still holds the version that was loaded.
    const still = await etl('files', 'land', '--json');
    expect(JSON.parse(still.stdout)).toMatchObject({ totals: { loaded: 3, loaded_bytes: 60 } });
  });

  it('counts files younger than min_age without listing them, and cuts the listing at -n', async () => {
    const young = await pending('young');
    expect(young).toMatchObject({ files: [], matched: 3, too_new: 3, truncated: false });
    const human = await etl('files', 'young', '--pending');
    expect(human.stdout).toContain(
      'nothing pending for young; 3 too new (younger than source.min_age; a later run takes them)\n',
    );

    // Dated a minute ago, the files are old enough for `land`: its ledger leaves a.csv and c.csv
    // loaded; d.csv and e.csv are new, b.csv changed.
    drop('d.csv', ['8,hal']);
    drop('e.csv', ['9,ivy']);
    const cut = await pending('land', '-n', '2');
    expect(cut.files.map((f) => f.key)).toEqual(['b.csv', 'd.csv']);
    expect(cut.truncated).toBe(true);
    const cutHuman = await etl('files', 'land', '--pending', '-n', '2');
    expect(cutHuman.stdout).toContain('2 pending; more not listed (raise -n to see them); 1 changed');
  });

  it('refuses a pipeline that reads no files (exit 2), an unknown one (exit 1) and the ledger filters', async () => {
    const tables = await etl('files', 'tables', '--pending');
    expect(tables.code).toBe(2);
    expect(tables.stderr).toBe(
      'etlctl: pipeline tables has no files source (it reads postgres): only a files source has pending files\n',
    );
    const json = await etl('files', 'tables', '--pending', '--json');
    expect(JSON.parse(json.stderr)).toMatchObject({ schema: 1, error: { code: 'USAGE' } });
    const unknown = await etl('files', 'nosuch', '--pending');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no pipeline named "nosuch"');

    for (const [args, message] of [
      [['--loaded'], 'files <pipeline> --pending takes no --loaded'],
      [['--quarantined'], 'files <pipeline> --pending takes no --quarantined'],
      [['--grep', 'a'], 'files <pipeline> --pending takes no --grep'],
      [['-n', '0'], '--limit expects a whole number from 1 to 10000'],
    ] as const) {
      const r = await etl('files', 'land', '--pending', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const forget = await etl('files', 'forget', 'land', 'a.csv', '--pending', '--yes');
    expect(forget.code).toBe(2);
    expect(forget.stderr).toContain('files forget takes no --pending');
  });
});
