/**
 * `etlctl logs` against a spawned etld, then with it stopped (the log files read directly), and a
 * `logs -f` that keeps following across a daemon restart without printing a line twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome, spawnDaemon, type DaemonProcess, type TempHome } from '../helpers/daemon-process.js';
import { waitFor } from '../helpers/process.js';
import { etlctl, spawnEtlctl } from './cli-harness.js';

let home: TempHome;
let daemon: DaemonProcess | undefined;

beforeAll(() => {
  home = makeTempHome('etld-logs-');
});
afterAll(async () => {
  await daemon?.stop();
  home?.remove();
});

async function startDaemon(): Promise<DaemonProcess> {
  const started = spawnDaemon(home.dir);
  await started.waitForLine(/etld running/, 60_000);
  return started;
}

/** The message part of a printed line (after the timestamp and level). */
const messages = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^\S+ +\S+ +/, ''));

describe('etlctl logs with the daemon up, then down', () => {
  let viaDaemon: string;

  it('reads the daemon lines through the daemon', async () => {
    daemon = await startDaemon();
    const r = await etlctl(['--home', home.dir, 'logs', 'etld', '-n', '5']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/NOTICE +etld running: 0 pipeline\(s\) loaded/);
    viaDaemon = r.stdout;
    const json = await etlctl(['--home', home.dir, 'logs', 'etld', '-n', '2', '--json']);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatchObject({ schema: 1, level: expect.any(String) });
  });

  it('reads the same lines from the files once the daemon is stopped, and says so', async () => {
    expect(await daemon?.stop()).toBe(0);
    daemon = undefined;
    const r = await etlctl(['--home', home.dir, 'logs', 'etld', '-n', '100']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`etlctl: etld is not reachable; reading its log files in ${home.dir}/logs\n`);
    // What the daemon served is in the files, followed by its shutdown.
    expect(r.stdout).toContain(viaDaemon);
    expect(r.stdout).toMatch(/NOTICE +etld stopped\n$/);
    const errorsOnly = await etlctl(['--home', home.dir, 'logs', '--errors']);
    expect(errorsOnly).toMatchObject({ code: 0, stdout: '' });
    const zero = await etlctl(['--home', home.dir, 'logs', '-n', '0']);
    expect(zero).toMatchObject({ code: 0, stdout: '' });
  });

  it('fails naming the directory for a pipeline without log files, and exits 3 when nothing is local', async () => {
    const ghost = await etlctl(['--home', home.dir, 'logs', 'ghost']);
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toContain(`no log files of pipeline "ghost" in ${home.dir}/logs/ghost`);
    const remote = await etlctl(['--socket', `${home.dir}/elsewhere.sock`, 'logs']);
    expect(remote.code).toBe(3);
    expect(remote.stderr).toMatch(/^etlctl: cannot reach etld at .*elsewhere\.sock/);
  });
});

describe('etlctl logs -f across a daemon restart', () => {
  it('follows through the daemon, the files while it is down, the daemon again, and exits 0 on Ctrl-C', async () => {
    daemon = await startDaemon();
    const follow = spawnEtlctl(['--home', home.dir, 'logs', 'etld', '-f', '-n', '1']);
    await waitFor(() => (/etld running/.test(follow.out.stdout) ? true : undefined), {
      what: 'the last past line',
    });

    expect(await daemon.stop()).toBe(0);
    daemon = undefined;
    await waitFor(
      () =>
        /lost the connection to etld; following its log files/.test(follow.out.stderr) &&
        /etld stopped\n$/.test(follow.out.stdout)
          ? true
          : undefined,
      { what: 'the follow to report the lost daemon and print its last line' },
    );

    const before = follow.out.stdout;
    daemon = await startDaemon();
    await waitFor(() => (/etld is back; following through it/.test(follow.out.stderr) ? true : undefined), {
      what: 'the follow to take the daemon up again',
    });
    // A line logged live after the reconnect arrives through the new connection.
    expect((await etlctl(['--home', home.dir, 'reload'])).code).toBe(0);
    await waitFor(() => (/reloaded pipelines/.test(follow.out.stdout) ? true : undefined), {
      what: 'a live line after the restart',
    });

    follow.child.kill('SIGINT');
    expect(await follow.exit).toBe(0);
    const printed = messages(follow.out.stdout);
    expect(follow.out.stdout.startsWith(before)).toBe(true);
    // Both start-ups' lines, the shutdown between them, and no line twice.
    expect(printed.filter((m) => /^etld running/.test(m))).toHaveLength(2);
    expect(printed.filter((m) => /^etld stopped/.test(m))).toHaveLength(1);
    expect(new Set(follow.out.stdout.split('\n')).size).toBe(follow.out.stdout.split('\n').length);
    expect(follow.out.stderr).not.toMatch(/\n\s+at /);
  });

  it('Ctrl-C ends a follow of the files quietly with exit 0', async () => {
    await daemon?.stop();
    daemon = undefined;
    const follow = spawnEtlctl(['--home', home.dir, 'logs', '-f', '-n', '1']);
    await waitFor(
      () => (/reading its log files/.test(follow.out.stderr) && follow.out.stdout !== '' ? true : undefined),
      {
        what: 'the follow of the files',
      },
    );
    follow.child.kill('SIGINT');
    expect(await follow.exit).toBe(0);
    expect(follow.out.stderr).toBe(
      `etlctl: etld is not reachable; reading its log files in ${home.dir}/logs\n`,
    );
  });

  it('follows the files with the daemon down from the start, then the daemon when it comes', async () => {
    const follow = spawnEtlctl(['--home', home.dir, 'logs', 'etld', '-f', '-n', '0']);
    await waitFor(() => (/reading its log files/.test(follow.out.stderr) ? true : undefined), {
      what: 'the follow to fall back to the files',
    });
    daemon = await startDaemon();
    await waitFor(() => (/NOTICE +etld running/.test(follow.out.stdout) ? true : undefined), {
      what: 'the new daemon start-up lines',
    });
    follow.child.kill('SIGINT');
    expect(await follow.exit).toBe(0);
    // -n 0: nothing from before the follow started.
    expect(follow.out.stdout).not.toMatch(/etld stopped/);
    expect(follow.out.stderr).not.toMatch(/\n\s+at /);
  });
});
