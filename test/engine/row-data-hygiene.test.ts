/**
 * Row contents never leave a failed run (finding 12): a marker value in the source makes runs
 * fail in staging, in a transform, in the source's own value check and in the destination's
 * constraint; afterwards the marker is searched for in every byte etld wrote — its output, the
 * state store, the log files. And a connection cut in the middle of a COPY is a retryable
 * connection error, not bad data.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { makeTempHome, spawnDaemon, type TempHome } from '../helpers/daemon-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness } from './engine-harness.js';

const MARKER = 'PII-4111-1111-1111-1111';
/** Forty-five digits: more than any staged decimal holds, and recognisable in any file. */
const BIG_NUMBER = '411111111111111111111111111111111111111111111';

let pg: PostgresServer;
let home: TempHome;
let proxy: FaultProxy;

beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase('crm');
  await pg.createDatabase('sink');
  await pg.query(
    `CREATE TABLE people (id int PRIMARY KEY, card text NOT NULL, amount numeric);
     INSERT INTO people VALUES (1, '${MARKER}', 1.5);
     CREATE TABLE wide (id int PRIMARY KEY, amount numeric);
     INSERT INTO wide VALUES (1, ${BIG_NUMBER});
     CREATE TABLE bulk (id int PRIMARY KEY, card text NOT NULL);
     INSERT INTO bulk SELECT g, '${MARKER}-' || g FROM generate_series(1, 200000) g;`,
    [],
    'crm',
  );
  await pg.query(
    `CREATE TABLE people (id int, card text CHECK (card NOT LIKE 'PII%'), amount numeric(38,10), _etl_run_id text, _etl_loaded_at timestamptz, _etl_pipeline text)`,
    [],
    'sink',
  );
  proxy = await startFaultProxy(pg.host, pg.port);
  home = makeTempHome('etld-hygiene-');
  const connection = `{ host: ${pg.host}, port: ${pg.port}, user: ${pg.user}, database: crm }`;
  const quick = 'error_handling: { max_retries: 0 }';
  home.writePipeline(
    'cast.yaml',
    `name: cast\nsource: { type: postgres, connection: ${connection}, table: people }\nload: { mode: full }\ntransform: [{ target: card_number, from: card, type: bigint }]\ndestination: { type: duckdb, path: h.duckdb, table: cast_t }\n${quick}\n`,
  );
  home.writePipeline(
    'wide.yaml',
    `name: wide\nsource: { type: postgres, connection: ${connection}, table: wide }\nload: { mode: full }\ndestination: { type: duckdb, path: h.duckdb, table: wide_t }\n${quick}\n`,
  );
  home.writePipeline(
    'check.yaml',
    `name: check\nsource: { type: postgres, connection: ${connection}, table: people }\nload: { mode: full }\n` +
      `destination: { type: postgres, connection: { host: ${pg.host}, port: ${pg.port}, user: ${pg.user}, database: sink }, table: public.people }\n${quick}\n`,
  );
});

afterAll(async () => {
  home.remove();
  await proxy.close();
  await pg.destroy();
});

function everyFile(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? everyFile(path) : [path];
  });
}

describe('row contents in errors', () => {
  it('no failed run writes a source value to its output, the state store or the log files', async () => {
    const outputs: string[] = [];
    for (const pipeline of ['cast', 'wide', 'check']) {
      const daemon = spawnDaemon(home.dir, { args: ['--once', pipeline] });
      expect(await daemon.exited(120_000)).toBe(1);
      outputs.push(daemon.lines.join('\n'), daemon.stderr());
    }
    const all = outputs.join('\n');
    // Log lines escape quotes; the facts that locate the problem are all there.
    expect(all).toMatch(
      /TRANSFORM_INVALID: transform .card_number.: a value of column card cannot be cast to int64/,
    );
    expect(all).toMatch(
      /SOURCE_DATA: .*column .amount. \(numeric, staged as decimal\(38,10\)\) holds a value that does not fit without rounding/,
    );
    expect(all).toMatch(
      /DESTINATION_WRITE: .*violates check constraint .people_card_check. \(Failing row contains \(…\)/,
    );
    for (const text of [all, ...everyFile(home.dir).map((file) => readFileSync(file).toString('latin1'))]) {
      expect(text).not.toContain(MARKER);
      expect(text).not.toContain(BIG_NUMBER);
    }
  });

  it('a connection cut in the middle of a COPY is SOURCE_CONNECTION, retryable, and names no value', async () => {
    const h = createHarness();
    try {
      const p = h.pipeline({
        name: 'cut',
        source: {
          type: 'postgres',
          connection: { host: '127.0.0.1', port: proxy.port, user: pg.user, database: 'crm' },
          table: 'bulk',
        },
        load: { mode: 'full' },
        connection_retry: { attempts: 1, delay: '10ms' },
        destination: { type: 'duckdb', path: 'cut.duckdb', table: 'bulk' },
      });
      for (const bytes of [150_000, 1_000_003, 2_500_017]) {
        proxy.cutAfterBytes(bytes);
        const error = await h.run(p).then(
          () => undefined,
          (e: unknown) => e as { code: string; retryable: boolean; message: string },
        );
        expect(error).toMatchObject({ code: 'SOURCE_CONNECTION', retryable: true });
        expect(error?.message).not.toContain(MARKER);
      }
      proxy.heal();
      expect(await h.run(p)).toMatchObject({ rowsLoaded: 200_000, verdict: 'match' });
    } finally {
      h.destroy();
    }
  });
});
