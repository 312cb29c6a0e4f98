/**
 * The unit's service-manager contract, checked by .ci/check-systemd.sh: a unit that would restart
 * forever on a bad etld.yaml, or that lost its watchdog, fails the check.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/daemon-process.js';
import { runCommand } from '../helpers/process.js';

const unitText = readFileSync(join(REPO_ROOT, 'systemd', 'etld.service'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'etld-unit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function check(text: string): Promise<{ code: number | null; output: string }> {
  const unit = join(scratch, 'etld.service');
  writeFileSync(unit, text);
  const result = await runCommand('bash', [join(REPO_ROOT, '.ci', 'check-systemd.sh')], {
    env: { ...process.env, UNIT: unit },
  });
  if (result.code === 2) throw new Error(`systemd-analyze is missing:\n${result.stderr}`);
  return { code: result.code, output: result.stdout + result.stderr };
}

describe('systemd/etld.service service-manager contract', () => {
  it('passes as shipped', async () => {
    const { code, output } = await check(unitText);
    expect(output).toContain('Type=notify, WatchdogSec=, RestartPreventExitStatus=78: ok');
    expect(code, output).toBe(0);
  });

  it.each([
    ['RestartPreventExitStatus=78\n', 'expected the line RestartPreventExitStatus=78'],
    ['WatchdogSec=30s\n', 'expected WatchdogSec='],
    ['Type=notify\n', 'expected the line Type=notify'],
  ])('fails without %s', async (line, message) => {
    const { code, output } = await check(unitText.replace(line, ''));
    expect(code).toBe(1);
    expect(output).toContain(message);
  });
});
