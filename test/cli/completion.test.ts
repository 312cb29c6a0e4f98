/**
 * Shell completion, run in the real shells: the bash script's `_etlctl` is called with COMP_WORDS as
 * bash would, and the zsh script is checked by `zsh -n` and registered with compinit (completing in
 * zsh needs a terminal; .ci/run installs zsh).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../control/harness.js';
import { runCommand } from '../helpers/process.js';
import { VERBS } from '../../tui/cli/verbs.js';
import { etlctl } from './cli-harness.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'tui', 'cli', 'main.js');
let t: TestServer;
let bin: string;
let bashScript: string;

beforeAll(async () => {
  t = await startTestServer();
  // The scripts call `etlctl` as the user typed it (COMP_WORDS[0]): put one on PATH.
  bin = join(t.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'etlctl'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'etlctl'), 0o755);
  // Generated once; one test sources it the documented way, `source <(etlctl completion bash)`.
  bashScript = join(t.dir, 'etlctl.bash');
  writeFileSync(bashScript, (await etlctl(['completion', 'bash'])).stdout);
});
afterAll(async () => {
  await t?.dispose();
});

/** What bash's completion offers for `words`, the last one being completed. */
async function bashComplete(words: readonly string[], source = `source '${bashScript}'`): Promise<string[]> {
  const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = [
    `${source} || exit 9`,
    `COMP_WORDS=(${quoted})`,
    'COMP_CWORD=$((${#COMP_WORDS[@]} - 1))',
    '_etlctl',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = await runCommand('bash', ['--norc', '--noprofile', '-c', script], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, ETLD_HOME: '' },
  });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return r.stdout.split('\n').filter((w) => w !== '');
}

describe('etlctl completion bash', () => {
  it('completes every verb of the table, and a prefix to its verbs', async () => {
    expect(await bashComplete(['etlctl', ''], 'source <(etlctl completion bash)')).toEqual(
      VERBS.map((v) => v.name),
    );
    expect(await bashComplete(['etlctl', 'st'])).toEqual(['status', 'start', 'stop']);
    expect(await bashComplete(['etlctl', '--json', 'va'])).toEqual(['validate', 'vacuum']);
  });

  it("completes each verb's own flags and the global ones", async () => {
    for (const verb of VERBS) {
      const offered = await bashComplete(['etlctl', verb.name, '--']);
      for (const option of [...Object.keys(verb.options), 'json', 'home', 'help']) {
        expect({ verb: verb.name, offered: offered.includes(`--${option}`) }).toEqual({
          verb: verb.name,
          offered: true,
        });
      }
    }
    expect(await bashComplete(['etlctl', 'logs', 'orders', '-f', '--s'])).toEqual(['--since', '--socket']);
    // Multi-table pipelines: --table of history and preview, --run of tables, --tables of generate.
    expect(await bashComplete(['etlctl', 'history', 'orders', '--ta'])).toEqual(['--table']);
    expect(await bashComplete(['etlctl', 'preview', 'orders', '--ta'])).toEqual(['--table']);
    expect(await bashComplete(['etlctl', 'tables', 'orders', '--r'])).toEqual(['--run']);
    expect(await bashComplete(['etlctl', 'generate', 'x', '--ta'])).toEqual(['--tables']);
    expect(await bashComplete(['etlctl', 'ta'])).toEqual(['tables']);
  });

  it('completes the values of positionals and options from the table', async () => {
    expect(await bashComplete(['etlctl', 'watermark', ''])).toEqual(['show', 'set', 'reset']);
    expect(await bashComplete(['etlctl', 'completion', ''])).toEqual(['bash', 'zsh']);
    expect(await bashComplete(['etlctl', 'generate', 'x', '--dest', 'd'])).toEqual(['delta', 'duckdb']);
    // The value of an option is not a positional: after `-n 5` the pipeline is still the first.
    const aim = ['--socket', t.socketPath];
    expect(await bashComplete(['etlctl', ...aim, 'history', '-n', '5', ''])).toEqual(['orders', 'users']);
    expect(await bashComplete(['etlctl', ...aim, 'history', 'orders', ''])).toEqual([]);
    // A verb's sub-command is offered beside the pipeline names; after it, the pipeline comes.
    expect(await bashComplete(['etlctl', ...aim, 'files', ''])).toEqual(['forget', 'orders', 'users']);
    expect(await bashComplete(['etlctl', ...aim, 'files', 'forget', ''])).toEqual(['orders', 'users']);
    expect(await bashComplete(['etlctl', ...aim, 'files', 'forget', 'orders', ''])).toEqual([]);
  });

  it('completes pipeline names from the daemon the command line aims at, else from its files', async () => {
    expect(await bashComplete(['etlctl', '--socket', t.socketPath, 'status', ''])).toEqual([
      'orders',
      'users',
    ]);
    expect(await bashComplete(['etlctl', '--socket', t.socketPath, 'tables', ''])).toEqual([
      'orders',
      'users',
    ]);
    expect(await bashComplete(['etlctl', '--socket', t.socketPath, 'tables', 'orders', ''])).toEqual([]);
    expect(await bashComplete(['etlctl', '--home', t.dir, 'watermark', 'set', 'o'])).toEqual(['orders']);
    const down = join(t.dir, 'down');
    mkdirSync(join(down, 'pipelines'), { recursive: true });
    expect((await etlctl(['generate', 'nightly', '-o', join(down, 'pipelines', 'nightly.yaml')])).code).toBe(
      0,
    );
    expect(await bashComplete(['etlctl', '--home', down, 'logs', ''])).toEqual(['nightly']);
    // Nothing reachable, nothing on disk: no names, and no error text in the command line.
    expect(await bashComplete(['etlctl', '--home', join(t.dir, 'nowhere'), 'start', ''])).toEqual([]);
  });

  it('__complete is not a verb: not in help, and silent on bad input', async () => {
    expect((await etlctl(['--help'])).stdout).not.toContain('__complete');
    expect(await etlctl(['__complete', 'bogus', '--bogus'])).toMatchObject({
      code: 0,
      stdout: '',
      stderr: '',
    });
  });
});

describe('etlctl completion zsh', () => {
  it('is valid zsh and registers _etlctl for etlctl with compinit', async () => {
    const script = (await etlctl(['completion', 'zsh'])).stdout;
    expect(script.startsWith('#compdef etlctl\n')).toBe(true);
    const file = join(t.dir, '_etlctl');
    writeFileSync(file, script);
    expect(await runCommand('zsh', ['-n', file])).toMatchObject({ code: 0, stderr: '' });
    const registered = await runCommand(
      'zsh',
      [
        '-f',
        '-c',
        `autoload -U compinit && compinit -u -d ${t.dir}/zcompdump && source ${file} && print -r -- $_comps[etlctl]`,
      ],
      { env: { ...process.env, HOME: t.dir } },
    );
    expect(registered).toMatchObject({ code: 0, stdout: '_etlctl\n' });
    for (const verb of VERBS)
      expect(script).toContain(`'${verb.name}:${verb.summary.replace(/'/g, `'\\''`)}'`);
  });

  it('refuses another shell with a usage error', async () => {
    const r = await etlctl(['completion', 'fish']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('etlctl: completion: expected bash or zsh, got "fish"\n');
  });
});
