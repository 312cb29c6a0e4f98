import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import type { DaemonClient } from '../../shared/client/client.js';
import { EtlError } from '../../shared/errors.js';
import { App } from '../../tui/console/app.js';
import { FakeClient } from './fake-client.js';
import { FakeDaemon } from './fake-daemon.js';
import { NOW, iso, logLine, part, pipeline, run } from './fixtures.js';
import { KEYS, frameMatching, press, stripAnsi } from './render-helpers.js';

afterEach(() => cleanup());

function fleet() {
  return [
    pipeline({ name: 'orders', state: 'running' }),
    pipeline({
      name: 'customers',
      state: 'failed',
      last_run: run({
        pipeline: 'customers',
        status: 'failed',
        error: { code: 'SOURCE_CONNECTION', message: 'cannot reach db1:5432' },
      }),
    }),
    pipeline({ name: 'invoices', schedule: '@daily', next_run_at: iso(3 * 3600) }),
    pipeline({
      name: 'broken',
      state: 'invalid',
      last_run: null,
      problems: ['broken.yaml:2:1 source: required'],
    }),
  ];
}

interface Mounted {
  readonly daemon: FakeDaemon;
  readonly client: FakeClient;
  readonly frame: () => string;
  readonly stdin: { write: (data: string) => void };
  readonly frames: string[];
  readonly waitFor: (predicate: (frame: string) => boolean, what: string) => Promise<string>;
}

async function mount(
  options: {
    readonly?: boolean;
    columns?: number;
    rows?: number;
    daemon?: FakeDaemon;
    connect?: () => Promise<DaemonClient>;
  } = {},
): Promise<Mounted> {
  const daemon = options.daemon ?? new FakeDaemon(fleet());
  const client = daemon.client();
  const instance = render(
    <App
      connect={options.connect ?? (() => Promise.resolve(client))}
      readonly={options.readonly ?? false}
      color={false}
      clock={() => NOW}
      size={{ columns: options.columns ?? 100, rows: options.rows ?? 24 }}
      flushIntervalMs={50}
      retryDelayMs={30}
    />,
  );
  const frame = (): string => stripAnsi(instance.lastFrame() ?? '');
  const waitFor = (predicate: (f: string) => boolean, what: string) => frameMatching(frame, predicate, what);
  if (options.connect === undefined) await waitFor((f) => f.includes('customers'), 'the pipeline list');
  return { daemon, client, frame, stdin: instance.stdin, frames: instance.frames, waitFor };
}

const rowOf = (frame: string, name: string): string =>
  frame.split('\n').find((line) => line.includes(` ${name} `)) ?? '';

describe('etl-console app (fake daemon client)', () => {
  it('lists pipelines with state, schedule in words, last run and a key bar', async () => {
    const { frame, client } = await mount();
    const text = frame();
    expect(rowOf(text, 'customers')).toMatch(/customers\s+failed\s+every 2 hours, in 37 min\s+failed 9m ago/);
    expect(rowOf(text, 'invoices')).toMatch(/invoices\s+idle\s+daily at 00:00, in 3 h/);
    expect(rowOf(text, 'broken')).toMatch(/broken\s+invalid.*never/);
    expect(text).toContain('pipelines 4 · 1 running · 1 failed · 1 invalid · 1 idle');
    expect(text).toContain('4 of 4 pipelines · sort name ↑');
    expect(text).toMatch(
      /s start {2}x stop {2}p pause\/resume {2}r retry {2}F full refresh {2}B backfill {2}l logs {2}y yaml {2}d error/,
    );
    expect(client.callsOf('subscribe')[0]?.params).toEqual({
      topics: ['runs', 'progress', 'pipelines', 'resources'],
    });
  });

  it('s starts the selected pipeline, then shows live progress and the result', async () => {
    const { client, stdin, waitFor } = await mount();
    await press(stdin, 'j', 'j');
    await press(stdin, 's');
    await waitFor((f) => f.includes('started invoices: run run-1'), 'the start notice');
    expect(client.callsOf('start').map((c) => c.params)).toEqual([{ pipeline: 'invoices' }]);
    client.emit('run.state', {
      run_id: 'run-1',
      attempt_id: 'run-1-1',
      pipeline: 'invoices',
      status: 'running',
      attempt: 1,
      at: iso(0),
      rows_loaded: 0,
      error: null,
    });
    client.emit('run.progress', {
      run_id: 'run-1',
      attempt_id: 'run-1-1',
      pipeline: 'invoices',
      rows: 45_000,
      bytes: 0,
      rows_per_s: 12_300,
      phase: 'extracting',
      parts: [],
    });
    const running = await waitFor((f) => rowOf(f, 'invoices').includes('12.3k r/s'), 'live throughput');
    expect(rowOf(running, 'invoices')).toMatch(/invoices\s+running.*45k\s+12\.3k r\/s/);
    client.emit('run.state', {
      run_id: 'run-1',
      attempt_id: 'run-1-1',
      pipeline: 'invoices',
      status: 'succeeded',
      attempt: 1,
      at: iso(0),
      rows_loaded: 45_000,
      error: null,
    });
    await waitFor((f) => /invoices\s+idle/.test(rowOf(f, 'invoices')), 'the run to end');
  });

  it('x asks for confirmation; y stops, anything else does not', async () => {
    const { client, stdin, waitFor } = await mount();
    await press(stdin, KEYS.down, KEYS.down, KEYS.down, 'x');
    await waitFor((f) => f.includes('Stop the running run of orders? [y/N]'), 'the confirmation');
    await press(stdin, 'n');
    await waitFor((f) => f.includes('stop cancelled'), 'the cancel notice');
    expect(client.callsOf('stop')).toHaveLength(0);
    await press(stdin, 'x', 'y');
    await waitFor((f) => f.includes('stopping orders'), 'the stop notice');
    expect(client.callsOf('stop').map((c) => c.params)).toEqual([{ pipeline: 'orders' }]);
  });

  it('p pauses and resumes; r retries a failed run', async () => {
    const { client, stdin, waitFor } = await mount();
    await press(stdin, 'p');
    await waitFor((f) => f.includes('paused broken'), 'pause');
    await waitFor((f) => /broken\s+invalid/.test(f), 'list');
    await press(stdin, 'j', 'r');
    await waitFor((f) => f.includes('retrying customers: run run-1'), 'retry');
    expect(client.callsOf('pause').map((c) => c.params)).toEqual([{ pipeline: 'broken' }]);
    expect(client.callsOf('start').map((c) => c.params)).toEqual([{ pipeline: 'customers' }]);
  });

  it('daemon refusals are shown with their error code', async () => {
    const { stdin, waitFor } = await mount();
    await press(stdin, 's');
    const frame = await waitFor((f) => f.includes('start broken failed'), 'the refusal');
    expect(frame).toContain('start broken failed: [ILLEGAL_STATE] broken is invalid');
  });

  it('/ filters by substring, regex and inverse; esc clears', async () => {
    const { stdin, waitFor, frame } = await mount();
    await press(stdin, '/', 'c', 'u', 's');
    let text = await waitFor((f) => f.includes('1 of 4 pipelines'), 'the filtered table');
    expect(text).toContain('filter /cus');
    expect(rowOf(text, 'orders')).toBe('');
    await press(stdin, KEYS.enter);
    await press(stdin, '/', KEYS.backspace, KEYS.backspace, KEYS.backspace, '!', '^', 'o');
    text = await waitFor((f) => f.includes('3 of 4 pipelines'), 'the inverse filter');
    expect(rowOf(text, 'orders')).toBe('');
    await press(stdin, '(');
    await waitFor((f) => f.includes('invalid regular expression'), 'the regex error');
    await press(stdin, KEYS.escape, KEYS.escape);
    await waitFor((f) => f.includes('4 of 4 pipelines · sort name ↑\n'), 'the cleared filter');
    expect(frame()).toContain('orders');
  });

  it('enter shows details with history, why and live per-part progress; esc goes back', async () => {
    const daemon = new FakeDaemon(fleet());
    daemon.history.set('invoices', [run({ id: 'h1', pipeline: 'invoices', trigger: 'manual' })]);
    const { client, stdin, waitFor } = await mount({ daemon, columns: 100, rows: 30 });
    await press(stdin, 'G', 'k', KEYS.enter);
    let text = await waitFor((f) => f.includes('why: paused by operator'), 'the detail view');
    expect(text).toMatch(/manual/);
    expect(client.callsOf('status').map((c) => c.params)).toEqual([{ pipeline: 'invoices' }]);
    await press(stdin, KEYS.escape, 'G', KEYS.enter);
    await waitFor((f) => f.includes('orders · running'), 'the orders detail');
    client.emit('run.progress', {
      run_id: 'run-77',
      attempt_id: 'run-77-1',
      pipeline: 'orders',
      rows: 600,
      bytes: 0,
      rows_per_s: 200,
      phase: 'extracting',
      parts: [
        part({ id: 'c0', chunk: 0, rows: 500 }),
        part({ id: 'c1', chunk: 1, rows: 100, estimated_rows: 1000 }),
      ],
    });
    text = await waitFor((f) => f.includes('▶ run run-77'), 'the live progress');
    expect(text).toMatch(/chunk 0\s+\[█+░+\]\s+50%/);
    expect(text).toMatch(/chunk 1\s+\[█+░+\]\s+10%/);
    expect(text).toContain('ETA 7s');
    // A run event for the pipeline on screen refreshes its details.
    const before = client.callsOf('status').length;
    client.emit('run.state', {
      run_id: 'run-77',
      attempt_id: 'run-77-1',
      pipeline: 'orders',
      status: 'succeeded',
      attempt: 1,
      at: iso(0),
      rows_loaded: 600,
      error: null,
    });
    await waitFor(() => client.callsOf('status').length > before, 'a details refresh');
    await press(stdin, KEYS.escape);
    await waitFor((f) => f.includes('4 of 4 pipelines'), 'the table');
  });

  it('l follows the log of a pipeline, pauses with space and searches', async () => {
    const daemon = new FakeDaemon(fleet());
    daemon.logs = [
      logLine('started run', { pipeline: 'customers' }),
      logLine('other pipeline', { pipeline: 'orders' }),
    ];
    const { client, stdin, waitFor } = await mount({ daemon });
    await press(stdin, 'j', 'l');
    await waitFor((f) => f.includes('started run'), 'the backlog');
    expect(client.callsOf('logs').map((c) => c.params)).toEqual([
      { pipeline: 'customers', lines: 200, follow: true },
    ]);
    client.emit('log', logLine('connection refused by db1', { pipeline: 'customers', level: 'error' }));
    client.emit('log', logLine('not for this pane', { pipeline: 'orders' }));
    let text = await waitFor((f) => f.includes('connection refused by db1'), 'a live line');
    expect(text).not.toContain('not for this pane');
    await press(stdin, ' ');
    client.emit('log', logLine('arrived while paused', { pipeline: 'customers' }));
    text = await waitFor((f) => f.includes('PAUSED (1 new below)'), 'the paused pane');
    expect(text).not.toContain('arrived while paused');
    await press(stdin, 'G', '/', 'r', 'e', 'f', 'u', 's', 'e', 'd', KEYS.enter);
    text = await waitFor((f) => f.includes('search "refused": 1 matching lines'), 'the search');
    expect(text).toContain('arrived while paused');
    // Leaving ends the follow (unsubscribe, then subscribe again); coming back follows anew.
    await press(stdin, KEYS.escape);
    await waitFor(() => client.callsOf('subscribe').length === 2, 'the renewed subscription');
    const order = client.calls.map((c) => c.method).filter((m) => m === 'unsubscribe' || m === 'subscribe');
    expect(order).toEqual(['subscribe', 'unsubscribe', 'subscribe']);
    await press(stdin, 'l');
    await waitFor(() => client.callsOf('logs').length === 2, 'the second logs call');
    expect(client.callsOf('logs')[1]?.params).toEqual({ pipeline: 'customers', lines: 200, follow: true });
  });

  it('--readonly hides the actions and refuses them', async () => {
    const { client, stdin, waitFor, frame } = await mount({ readonly: true });
    expect(frame()).toContain('[read-only]');
    expect(frame()).not.toMatch(/s start|x stop|pause\/resume|r retry/);
    await press(stdin, 's');
    await waitFor((f) => f.includes('read-only console'), 'the refusal');
    expect(client.callsOf('start')).toHaveLength(0);
  });

  it('? shows help over the table and any key closes it', async () => {
    const { stdin, waitFor } = await mount();
    await press(stdin, '?');
    await waitFor((f) => f.includes('etl-console keys') && f.includes('stop the run (confirm)'), 'help');
    await press(stdin, 'x');
    await waitFor(
      (f) => f.includes('4 of 4 pipelines') && !f.includes('etl-console keys'),
      'the table again',
    );
  });

  it('q quits and closes the client', async () => {
    const { client, stdin, waitFor } = await mount();
    await press(stdin, 'q');
    await waitFor(() => client.closed, 'the client to be closed');
  });

  it('says disconnected while the daemon is away and reloads when it is back', async () => {
    const { client, waitFor } = await mount();
    const lists = client.callsOf('list').length;
    client.setState('connecting', 'connection to etld at /x/etld.sock lost (1006)');
    let text = await waitFor((f) => f.includes('disconnected — reconnecting…'), 'the disconnected header');
    expect(text).toContain('connection to etld at /x/etld.sock lost (1006)');
    // The last known pipelines stay on screen meanwhile.
    expect(text).toContain('customers');
    client.setState('connected', null);
    text = await waitFor((f) => f.includes('● connected'), 'the reconnected header');
    expect(text).not.toContain('disconnected');
    await waitFor(() => client.callsOf('list').length > lists, 'a fresh list');
    expect(client.callsOf('subscribe')).toHaveLength(2);
  });

  it('opens a new client when the old one gives up, and when the first connect fails', async () => {
    const daemon = new FakeDaemon(fleet());
    const clients: FakeClient[] = [];
    let attempts = 0;
    const connect = (): Promise<DaemonClient> => {
      attempts += 1;
      if (attempts <= 2)
        return Promise.reject(
          new EtlError('DAEMON_UNREACHABLE', 'cannot reach etld at /x/etld.sock: no socket there'),
        );
      const client = daemon.client();
      clients.push(client);
      return Promise.resolve(client);
    };
    const { waitFor } = await mount({ daemon, connect });
    await waitFor(
      (f) => f.includes('customers') && f.includes('● connected'),
      'the list after two failed connects',
    );
    expect(attempts).toBe(3);
    clients[0]?.setState('disconnected', 'gave up after 3 attempts');
    await waitFor(() => clients.length === 2, 'a second client');
    expect(clients[0]?.closed).toBe(true);
    await waitFor((f) => f.includes('● connected'), 'connected again');
  });

  it('shows why it cannot connect before the daemon is up', async () => {
    const connect = (): Promise<DaemonClient> =>
      Promise.reject(
        new EtlError('DAEMON_UNREACHABLE', 'cannot reach etld at /x/etld.sock: no socket there'),
      );
    const { waitFor } = await mount({ connect });
    const text = await waitFor((f) => f.includes('no socket there'), 'the reason');
    expect(text).toContain('disconnected — reconnecting…');
    expect(text).toContain('waiting for the daemon…');
  });

  it('500 pipelines and a burst of 5,000 events render as a handful of frames', async () => {
    const many = Array.from({ length: 500 }, (_, i) =>
      pipeline({ name: `p${String(i).padStart(3, '0')}`, state: 'running' }),
    );
    const { client, frames, waitFor } = await mount({
      daemon: new FakeDaemon([...many, ...fleet()]),
      columns: 80,
      rows: 24,
    });
    const before = frames.length;
    for (let i = 0; i < 5000; i++) {
      client.emit('run.progress', {
        run_id: `r${i % 500}`,
        attempt_id: `r${i % 500}-1`,
        pipeline: `p${String(i % 500).padStart(3, '0')}`,
        rows: i,
        bytes: 0,
        rows_per_s: i,
        phase: 'extracting',
        parts: [],
      });
    }
    const text = await waitFor((f) => rowOf(f, 'p000').includes('4.5k'), 'the newest progress');
    // An observation window, not a wait: frames the rest of the burst would still cause (one per
    // event, were they not batched) have four flush intervals to show up, and nothing marks the end.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(frames.length - before).toBeLessThan(10);
    // The table shows only what fits 80×24.
    expect(text.split('\n').length).toBeLessThanOrEqual(24);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it(': opens the palette; :runs lists every run in full, /failed filters, enter shows the whole error', async () => {
    const daemon = new FakeDaemon(fleet());
    daemon.history.set('orders', [
      run({
        id: 'orders_from_the_eu_shop_shards-12',
        pipeline: 'orders',
        status: 'succeeded',
        started_at: iso(-60),
      }),
    ]);
    daemon.history.set('customers', [
      run({
        id: 'customers-7',
        pipeline: 'customers',
        status: 'failed',
        started_at: iso(-120),
        error: {
          code: 'SOURCE_QUERY',
          message: 'relation "orderz" does not exist\nLINE 1: SELECT * FROM orderz',
        },
      }),
    ]);
    const { client, stdin, waitFor } = await mount({ daemon, columns: 100, rows: 24 });
    await press(stdin, ':', 'r');
    await waitFor((f) => f.includes(':r▏  · :runs'), 'the palette with its completion');
    await press(stdin, 'u', 'n', 's', KEYS.enter);
    let text = await waitFor((f) => f.includes('2 runs, newest first'), 'the runs view');
    // A page and one more, to know whether there are more.
    expect(client.callsOf('runs')[0]?.params).toEqual({ limit: 201 });
    expect(text).toMatch(/orders_from_the_eu_shop_shards-12\s+succeeded/);
    expect(rowOf(text, 'customers-7')).toMatch(/failed\s+schedule\s+2 min ago.*\[SOURCE_/);
    expect(text).not.toContain('LINE 1');
    await press(stdin, '/', 'f', 'a', 'i', 'l', 'e', 'd', KEYS.enter);
    // The daemon filters (the whole history, not what is loaded).
    text = await waitFor((f) => f.includes('1 run, newest first · filter "failed"'), 'the filtered runs');
    expect(client.callsOf('runs').at(-1)?.params).toEqual({ limit: 201, text: 'failed', invert_text: false });
    expect(text).not.toContain('orders_from_the_eu_shop_shards-12');
    await press(stdin, KEYS.enter);
    text = await waitFor((f) => f.includes('run customers-7 · failed'), 'the run details');
    expect(text).toContain('LINE 1: SELECT * FROM orderz');
    await press(stdin, KEYS.escape);
    await waitFor((f) => f.includes('1 run, newest first') && !f.includes('LINE 1'), 'the list again');
    await press(stdin, ':', 'a', 'l', 'e', 'r', 't', 's', KEYS.enter);
    await waitFor((f) => f.includes('no alerts yet'), 'the alerts view');
  });

  it('y shows the pipeline file as the daemon read it; d the last error in full', async () => {
    const daemon = new FakeDaemon(fleet());
    daemon.files.set('customers', '# customers, from the CRM\nname: customers\nschedule: "0 */2 * * *"\n');
    const { client, stdin, waitFor } = await mount({ daemon });
    await press(stdin, 'j', 'y');
    const text = await waitFor((f) => f.includes('1 │ # customers, from the CRM'), 'the YAML view');
    expect(client.callsOf('pipeline_file').map((c) => c.params)).toEqual([{ pipeline: 'customers' }]);
    expect(text).toContain('yaml: customers · /etc/etld/pipelines/orders.yaml');
    expect(text).toContain('3 │ schedule: "0 */2 * * *"');
    await press(stdin, KEYS.escape, 'd');
    await waitFor((f) => f.includes('SOURCE_CONNECTION: cannot reach db1:5432'), 'the error details');
    await press(stdin, KEYS.escape, 'k', 'y');
    await waitFor((f) => f.includes('could not read the file: [NOT_FOUND]'), 'the missing file');
  });

  it(':hosts lists the daemons of the fleet, refreshes, says why it cannot, and esc goes back', async () => {
    const daemon = new FakeDaemon(fleet());
    daemon.fleet = {
      fleet: true,
      this_host: 'etl-a',
      hosts: [
        {
          host: 'etl-a',
          pid: 101,
          version: '0.2.0',
          started_at: iso(-3600),
          heartbeat_at: iso(-5),
          health: 'alive',
          running: ['orders'],
        },
        {
          host: 'etl-b',
          pid: 202,
          version: '0.2.0',
          started_at: iso(-7200),
          heartbeat_at: iso(-300),
          health: 'lost',
          running: ['invoices'],
        },
      ],
    };
    const { client, stdin, waitFor } = await mount({ daemon, columns: 100, rows: 24 });
    await press(stdin, ':', 'h', 'o', 's', 't', 's', KEYS.enter);
    let text = await waitFor((f) => f.includes('etl-b'), 'the hosts view');
    expect(text).toMatch(/HOST\s+HEALTH\s+PID\s+VERSION\s+STARTED\s+HEARTBEAT\s+RUNNING/);
    expect(rowOf(text, 'etl-a')).toMatch(/etl-a \*\s+alive\s+101\s+0\.2\.0\s+.*5 s(ec)? ago.*orders/);
    expect(rowOf(text, 'etl-b')).toMatch(/etl-b\s+lost\s+202\s.*invoices/);
    expect(text).toContain('* this daemon (etl-a); the hosts share one PostgreSQL state store');
    expect(text).toMatch(/esc back/);
    expect(text).not.toMatch(/s start/);
    expect(client.callsOf('hosts')).toHaveLength(1);
    // A run that ends changes what the hosts run: the view asks again.
    daemon.fleet = { ...daemon.fleet, hosts: daemon.fleet.hosts.map((h) => ({ ...h, running: [] })) };
    client.emit('run.state', {
      run_id: 'orders-9',
      attempt_id: 'orders-9-1',
      pipeline: 'orders',
      status: 'succeeded',
      attempt: 1,
      at: iso(0),
      rows_loaded: 10,
      error: null,
    });
    await waitFor((f) => !f.includes('invoices') && f.includes('etl-b'), 'the refreshed hosts');
    daemon.fleet = null;
    client.emit('run.state', {
      run_id: 'orders-10',
      attempt_id: 'orders-10-1',
      pipeline: 'orders',
      status: 'succeeded',
      attempt: 1,
      at: iso(0),
      rows_loaded: 10,
      error: null,
    });
    text = await waitFor((f) => f.includes('could not list the hosts'), 'the refusal');
    expect(text).toContain('UNKNOWN_METHOD');
    // The last answer stays on screen beside the error.
    expect(text).toContain('etl-b');
    await press(stdin, KEYS.escape);
    await waitFor((f) => f.includes('customers') && !f.includes('etl-b'), 'the pipeline table again');
  });

  it(':logs follows every pipeline’s log', async () => {
    const daemon = new FakeDaemon(fleet());
    daemon.logs = [
      logLine('etld running', { pipeline: null }),
      logLine('run started', { pipeline: 'orders' }),
    ];
    const { client, stdin, waitFor } = await mount({ daemon });
    await press(stdin, ':', 'l', 'o', 'g', 's', KEYS.enter);
    const text = await waitFor((f) => f.includes('logs: every pipeline'), 'the log of every pipeline');
    await waitFor((f) => /INFO orders run started/.test(f), 'the lines');
    expect(client.callsOf('logs')[0]?.params).toEqual({ lines: 200, follow: true });
    expect(text).not.toMatch(/s start/);
    client.emit('log', logLine('from customers', { pipeline: 'customers' }));
    await waitFor((f) => /INFO customers from customers/.test(f), 'a live line of another pipeline');
  });

  it('a read-only connection: [read-only] in the header, no action keys, and the daemon’s reason on refusal', async () => {
    const daemon = new FakeDaemon(fleet());
    const client = daemon.client();
    client.role = 'read-only';
    const refuse = (method: string) => {
      throw new EtlError(
        'READ_ONLY',
        `this connection is read-only (the read-only socket /run/etld/etld-ro.sock) and "${method}" changes the daemon's state; connect through the operator socket or with the operator token to do that`,
      );
    };
    const handlers = daemon.handlers();
    const readOnly = new FakeClient({
      ...handlers,
      start: () => refuse('start'),
      stop: () => refuse('stop'),
    });
    readOnly.role = 'read-only';
    const { stdin, waitFor, frame } = await mount({ daemon, connect: () => Promise.resolve(readOnly) });
    await waitFor((f) => f.includes('customers') && f.includes('[read-only]'), 'the read-only table');
    expect(frame()).not.toMatch(/s start|x stop|pause\/resume|r retry/);
    await press(stdin, 's');
    const text = await waitFor((f) => f.includes('[read-only] start broken refused'), 'the refusal');
    expect(text).toContain(
      '[read-only] start broken refused: this connection is read-only (the read-only socket',
    );
    // No confirmation for a stop the daemon will refuse anyway.
    await press(stdin, 'G', 'x');
    await waitFor((f) => f.includes('[read-only] stop orders refused'), 'the stop refusal');
    expect(readOnly.callsOf('stop')).toHaveLength(1);
    await press(stdin, '?');
    await waitFor((f) => f.includes('s x p r F B off: the daemon refuses'), 'the help');
  });
});
