import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../helpers/process.js';

const repo = resolve(import.meta.dirname, '..', '..');
const script = join(repo, '.ci', 'check-systemd.sh');
const unitText = readFileSync(join(repo, 'systemd', 'etld.service'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'etld-systemd-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function check(unit?: string): Promise<{ code: number | null; output: string }> {
  const result = await runCommand('bash', [script], {
    env: { ...process.env, ...(unit ? { UNIT: unit } : {}) },
  });
  if (result.code === 2) {
    throw new Error(
      `systemd-analyze is missing and could not be installed (apt-get install systemd):\n${result.stderr}`,
    );
  }
  return { code: result.code, output: result.stdout + result.stderr };
}

describe('systemd/etld.service', () => {
  it('passes systemd-analyze verify and rates at exposure 2.0 or lower', async () => {
    const { code, output } = await check();
    expect(output, output).toContain('systemd-analyze verify etld.service: ok');
    expect(output).toMatch(/exposure (1\.\d|2\.0|0\.\d) \(<= 2\.0\): ok/);
    expect(output).toContain('sysusers.d and tmpfiles.d snippets: ok');
    expect(output).toContain('Type=notify, WatchdogSec=, RestartPreventExitStatus=78: ok');
    expect(code, output).toBe(0);
  });

  it('has the settings the spec asks for', () => {
    for (const line of [
      'Type=notify',
      'NotifyAccess=main',
      'WatchdogSec=30s',
      'RestartPreventExitStatus=78',
      'User=etld',
      'Group=etl',
      'ExecStart=/usr/local/bin/etld',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'Restart=on-failure',
      'TimeoutStopSec=90',
      'StateDirectory=etld',
      'LogsDirectory=etl',
      'RuntimeDirectory=etld',
      'ConfigurationDirectory=etld',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'CapabilityBoundingSet=',
      'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
      'SystemCallFilter=@system-service',
      // V8's JIT needs writable+executable pages: turning this on would stop Node from starting.
      'MemoryDenyWriteExecute=no',
    ]) {
      expect(unitText.split('\n'), line).toContain(line);
    }
  });

  it('the check fails for a unit with a bad value or an unknown key', async () => {
    const bad = join(scratch, 'bad.service');
    writeFileSync(bad, unitText.replace('Restart=on-failure', 'Restart=sometimes\nProtectSystm=strict'));
    const { code, output } = await check(bad);
    expect(code).toBe(1);
    expect(output).toContain("Unknown key 'ProtectSystm'");
    expect(output).toContain('systemd-analyze verify reported problems in bad.service');
  });

  it('the check fails for a unit without hardening', async () => {
    const weak = join(scratch, 'weak.service');
    writeFileSync(weak, '[Unit]\nDescription=weak\n\n[Service]\nType=exec\nExecStart=/usr/local/bin/etld\n');
    const { code, output } = await check(weak);
    expect(code).toBe(1);
    expect(output).toMatch(/weak\.service exposure \d+\.\d is above 2\.0/);
  });
});
