/**
 * The built daemon (dist/daemon/main.js) as systemd runs it: NOTIFY_SOCKET and WATCHDOG_USEC set,
 * a fake notify socket listening, the HTTP endpoint on a free loopback port with a token file.
 * READY=1 arrives only after the daemon says it is running; /metrics passes promtool; SIGTERM
 * gives STOPPING=1; a bad etld.yaml exits 78, which the unit's RestartPreventExitStatus=78 keeps
 * from restarting.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempHome, spawnDaemon, type DaemonProcess, type TempHome } from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';
import { startDatagramReceiver } from './datagram-listener.js';
import { promtoolCheck, samples } from './prometheus.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

function home(): TempHome {
  const h = makeTempHome('etld-obs-');
  cleanups.push(() => h.remove());
  return h;
}

function start(h: TempHome, env: Record<string, string>): DaemonProcess {
  const d = spawnDaemon(h.dir, { env });
  cleanups.push(async () => {
    if (d.child.exitCode === null && d.child.signalCode === null) await d.stop();
  });
  return d;
}

const pipelineYaml = (name: string, extra = ''): string => `name: ${name}
source:
  type: postgres
  connection: { host: 127.0.0.1, port: 1, database: shop, user: etl }
  table: public.orders
load: { mode: full }
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
${extra}`;

describe('etld under a (fake) service manager', () => {
  it('notifies READY only once running, keeps the watchdog fed, serves /metrics and /readyz, and notifies STOPPING on SIGTERM', async () => {
    const h = home();
    const notify = startDatagramReceiver();
    cleanups.push(() => notify.close());
    const port = await freePort();
    writeFileSync(join(h.dir, 'metrics.token'), 'tok-e2e-91c2\n');
    h.writeSettings(
      `http: { listen: "127.0.0.1:${port}", token_file: ${join(h.dir, 'metrics.token')} }\ndefaults: { freshness: 6h }\n`,
    );
    h.writePipeline('orders.yaml', pipelineYaml('orders', 'freshness: 2h\n'));
    h.writePipeline('billing.yaml', pipelineYaml('billing'));
    const d = start(h, { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '600000' });

    const [ready] = await notify.waitFor((t) => t.startsWith('READY=1'), 'READY=1');
    expect(ready).toBe('READY=1\nSTATUS=2 pipelines; 0 runs active');
    // READY follows the daemon's own "running" line, never precedes it.
    expect(d.lines.some((l) => /etld running: 2 pipeline\(s\) loaded/.test(l))).toBe(true);
    const firstReady = notify.texts().findIndex((t) => t.startsWith('READY=1'));
    expect(notify.texts().slice(0, firstReady)).toContainEqual(
      expect.stringMatching(/^STATUS=starting: 2 pipelines/),
    );
    await notify.waitFor((t) => t === 'WATCHDOG=1', 'keep-alives every 200 ms', 5);

    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).text()).toBe('ready\n');
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const text = await (
      await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer tok-e2e-91c2' } })
    ).text();
    await promtoolCheck(text);
    const m = samples(text);
    expect(m.get('etld_runs_total{pipeline="orders",status="succeeded"}')).toBe(0);
    expect(m.get('etld_pipeline_freshness_seconds{pipeline="orders"}')).toBe(7200);
    expect(m.get('etld_pipeline_freshness_seconds{pipeline="billing"}')).toBe(21600);
    expect(m.get('etld_pipeline_state{pipeline="billing",state="idle"}')).toBe(1);
    expect(m.get('process_resident_memory_bytes')).toBeGreaterThan(10_000_000);

    d.signal('SIGTERM');
    const [stopping] = await notify.waitFor((t) => t.startsWith('STOPPING=1'), 'STOPPING=1');
    expect(stopping).toBe('STOPPING=1\nSTATUS=draining: 0 runs active');
    expect(await d.exited()).toBe(0);
    const order = notify
      .texts()
      .filter((t) => t !== 'WATCHDOG=1')
      .map((t) => t.split('\n')[0]!.replace(/=.*/, ''));
    expect(order[0]).toBe('STATUS');
    expect(order.indexOf('READY')).toBeLessThan(order.indexOf('STOPPING'));
    // After STOPPING only STATUS lines of the drain may follow.
    expect(order.slice(order.indexOf('STOPPING') + 1).every((k) => k === 'STATUS')).toBe(true);
  });

  it('exits 78 on an invalid etld.yaml and never sends READY=1', async () => {
    const h = home();
    const notify = startDatagramReceiver();
    cleanups.push(() => notify.close());
    h.writeSettings('http: { listen: "127.0.0.1:9464", token: "literal-secret" }\n');
    const d = start(h, { NOTIFY_SOCKET: notify.path });
    expect(await d.exited()).toBe(78);
    expect(d.lines.join('\n')).toMatch(
      /bearer token is never written in etld.yaml: use token_env or token_file/,
    );
    expect(d.lines.join('\n')).not.toContain('literal-secret');
    expect(notify.texts().some((t) => t.includes('READY=1'))).toBe(false);
  });
});
