/**
 * `etlctl hosts` and the HOST column of `etlctl list`, against a control server with a fake API:
 * the table, its --json document, colours and NO_COLOR, and the exit codes of a read verb.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { MethodResult } from '../../shared/protocol.js';
import { runCli } from '../../tui/cli/cli.js';
import type { CliIo } from '../../tui/cli/io.js';
import { startTestServer, type TestServer } from '../control/harness.js';
import { assertCliBuilt, etlctl } from './cli-harness.js';

let t: TestServer;
let original: { fleet: MethodResult<'hosts'>; pipelines: MethodResult<'list'> };

beforeAll(async () => {
  assertCliBuilt();
  t = await startTestServer();
  original = { fleet: t.api.fleet, pipelines: t.api.pipelines };
});
afterAll(async () => {
  await t?.dispose();
});
afterEach(() => {
  t.api.fleet = original.fleet;
  t.api.pipelines = original.pipelines;
});

const run = (...args: string[]) => etlctl(['--socket', t.socketPath, ...args]);
const secondsAgo = (s: number): string => new Date(Date.now() - s * 1000).toISOString();

/** Three hosts sharing a store, asked on etl-a; etl-b runs orders. */
function threeHosts(): MethodResult<'hosts'> {
  return {
    fleet: true,
    this_host: 'etl-a',
    hosts: [
      {
        host: 'etl-a',
        pid: 101,
        version: '0.2.0',
        started_at: '2026-03-04T08:00:00.000Z',
        heartbeat_at: secondsAgo(3),
        health: 'alive',
        running: [],
      },
      {
        host: 'etl-b',
        pid: 202,
        version: '0.2.0',
        started_at: '2026-03-04T08:05:00.000Z',
        heartbeat_at: secondsAgo(4),
        health: 'alive',
        running: ['orders', 'users'],
      },
      {
        host: 'etl-c',
        pid: 303,
        version: '0.1.9',
        started_at: '2026-03-03T22:00:00.000Z',
        heartbeat_at: secondsAgo(2 * 3600),
        health: 'lost',
        running: [],
      },
    ],
  };
}

/** etlctl in this process, with a terminal on stdout unless NO_COLOR says otherwise. */
async function inProcess(args: string[], env: Record<string, string>): Promise<string> {
  let out = '';
  const io: CliIo = {
    stdout: (text) => (out += text),
    stderr: (text) => (out += text),
    stdoutIsTty: true,
    stdinIsTty: false,
    ask: () => Promise.resolve(null),
    env,
    cwd: process.cwd(),
    signal: new AbortController().signal,
    now: () => new Date(),
  };
  expect(await runCli(['--socket', t.socketPath, ...args], io)).toBe(0);
  return out;
}

describe('etlctl hosts', () => {
  it('lists every host: health, pid, version, start, heartbeat age and its runs; * marks this daemon', async () => {
    t.api.fleet = threeHosts();
    const r = await run('hosts');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^HOST\s+HEALTH\s+PID\s+VERSION\s+STARTED\s+LAST HEARTBEAT\s+RUNNING$/);
    expect(lines[1]).toMatch(/^etl-a \*\s+alive\s+101\s+0\.2\.0\s+2026-03-04 08:00Z\s+\d+s ago\s+-$/);
    expect(lines[2]).toMatch(
      /^etl-b\s+alive\s+202\s+0\.2\.0\s+2026-03-04 08:05Z\s+\d+s ago\s+orders, users$/,
    );
    expect(lines[3]).toMatch(/^etl-c\s+lost\s+303\s+0\.1\.9\s+2026-03-03 22:00Z\s+2h ago\s+-$/);
    expect(r.stdout).toContain('* this daemon (etl-a); the hosts share one PostgreSQL state store');
    expect(r.stdout).not.toContain('\u001B[');
  });

  it('a daemon alone lists itself and says so', async () => {
    const r = await run('hosts');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^testhost \*\s+alive\s+4242\s+0\.1\.0-test\s/m);
    expect(r.stdout).toContain('* this daemon (testhost), alone');
  });

  it("--json prints the daemon's answer as a versioned document", async () => {
    t.api.fleet = threeHosts();
    const r = await run('hosts', '--json');
    expect(r.code).toBe(0);
    const contract = z.object({
      schema: z.literal(1),
      fleet: z.boolean(),
      this_host: z.string(),
      hosts: z.array(
        z.object({
          host: z.string(),
          pid: z.number().int(),
          version: z.string(),
          started_at: z.string(),
          heartbeat_at: z.string(),
          health: z.enum(['alive', 'lost', 'stopped']),
          running: z.array(z.string()),
        }),
      ),
    });
    expect(contract.parse(JSON.parse(r.stdout))).toEqual({ schema: 1, ...t.api.fleet });
  });

  it('colours the health on a terminal, and not with NO_COLOR', async () => {
    t.api.fleet = threeHosts();
    const coloured = await inProcess(['hosts'], {});
    expect(coloured).toContain('\u001B[32malive\u001B[39m');
    expect(coloured).toContain('\u001B[31mlost\u001B[39m');
    const plain = await inProcess(['hosts'], { NO_COLOR: '1' });
    expect(plain).not.toContain('\u001B[');
  });

  it('exits 2 for an argument it does not take, 3 when the daemon is down; --help describes it', async () => {
    const extra = await run('hosts', 'etl-a');
    expect(extra.code).toBe(2);
    const down = await etlctl(['--socket', `${t.dir}/nothing.sock`, 'hosts']);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('nothing.sock');
    const downJson = await etlctl(['--socket', `${t.dir}/nothing.sock`, 'hosts', '--json']);
    expect(JSON.parse(downJson.stderr)).toMatchObject({ schema: 1, error: { code: 'DAEMON_UNREACHABLE' } });
    const help = await etlctl(['--help']);
    expect(help.stdout).toMatch(/^ {2}hosts\s+the daemons sharing the state store/m);
    const verbHelp = await etlctl(['hosts', '--help']);
    expect(verbHelp.stdout).toContain('Usage: etlctl hosts');
  });
});

describe('etlctl list in a fleet', () => {
  it('a daemon alone: no HOST column', async () => {
    t.api.pipelines = original.pipelines.map((p) => ({ ...p, host: null }));
    const r = await run('list');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+STATE\s+SCHEDULE\s/);
  });

  it('a fleet: a HOST column with the host of each current run, - for none', async () => {
    t.api.fleet = threeHosts();
    t.api.pipelines = original.pipelines.map((p) =>
      p.name === 'orders' ? { ...p, state: 'running', host: 'etl-b' } : { ...p, host: null },
    );
    const r = await run('list');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATE\s+HOST\s+SCHEDULE\s/);
    expect(lines[1]).toMatch(/^orders\s+running\s+etl-b\s+0 \*\/2/);
    expect(lines[2]).toMatch(/^users\s+paused\s+-\s+manual/);
    const json = await run('list', '--json');
    expect(
      (JSON.parse(json.stdout) as { pipelines: { host: string | null }[] }).pipelines.map((p) => p.host),
    ).toEqual(['etl-b', null]);
  });
});
