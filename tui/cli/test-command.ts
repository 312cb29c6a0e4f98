/**
 * `etlctl test <pipeline>`: the daemon connects to the pipeline's source and destination and
 * checks what a run needs, moving no row (protocol method `test`). One line per check, a summary,
 * exit 0 when nothing failed (warnings and skipped checks included), 1 when a check failed.
 */
import type { ConnectionCheck, ConnectionTest } from '../../shared/protocol.js';
import type { CommandContext } from './context.js';
import type { Style } from './format.js';
import { EXIT } from './io.js';
import { withClient } from './run-commands.js';

/** The daemon's checks wait for the source's connect timeout and each check's own deadline. */
const TEST_TIMEOUT_MS = 300_000;

function statusWord(status: ConnectionCheck['status'], style: Style): string {
  switch (status) {
    case 'ok':
      return style.green('ok');
    case 'warning':
      return style.yellow('warn');
    // Capitals so a failure stands out under NO_COLOR too.
    case 'failed':
      return style.red('FAIL');
    case 'skipped':
      return style.dim('skip');
  }
}

function where(check: ConnectionCheck): string {
  return check.target === 'source' ? `source/${check.shard ?? 'default'}` : 'destination';
}

function count(checks: readonly ConnectionCheck[], status: ConnectionCheck['status']): number {
  return checks.filter((c) => c.status === status).length;
}

export function renderConnectionTest(result: ConnectionTest, style: Style): string {
  const places = result.checks.map(where);
  const placeWidth = Math.max(0, ...places.map((p) => p.length));
  const checkWidth = Math.max(0, ...result.checks.map((c) => c.check.length));
  const lines = result.checks.map(
    (c, i) =>
      `${statusWord(c.status, style)}${' '.repeat(5 - (c.status === 'ok' ? 2 : 4))}${(places[i] ?? '').padEnd(placeWidth)}  ${c.check.padEnd(checkWidth)}  ${c.detail}`,
  );
  const tally = [
    `${count(result.checks, 'ok')} ok`,
    ...(['warning', 'skipped', 'failed'] as const)
      .filter((s) => count(result.checks, s) > 0)
      .map((s) => `${count(result.checks, s)} ${s}`),
  ].join(', ');
  const verdict = result.ok
    ? style.green(`${result.pipeline} can run: ${tally}`)
    : style.red(`${result.pipeline} cannot run as configured: ${tally}`);
  return [
    style.dim(
      `${result.pipeline}: ${result.source} → ${result.destination} (${result.mode}); nothing is read or written`,
    ),
    ...lines,
    verdict,
  ].join('\n');
}

export function testCommand(ctx: CommandContext): Promise<number> {
  return withClient(ctx, async (client) => {
    const result = await client.call(
      'test',
      { pipeline: ctx.positionals[0] ?? '' },
      { timeoutMs: TEST_TIMEOUT_MS },
    );
    if (ctx.flags.json) ctx.printJson(result);
    else ctx.print(renderConnectionTest(result, ctx.style));
    return result.ok ? EXIT.ok : EXIT.failed;
  });
}
