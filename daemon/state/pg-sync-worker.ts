/**
 * The worker thread behind pg-sync-client.ts: it owns one PostgreSQL connection and answers the
 * main thread's statements in order. It has no relative imports on purpose, so Node can run this
 * file as TypeScript (type stripping) when tests load the daemon from source.
 *
 * Protocol: the main thread posts `{id, sql, params}` on `port` and sleeps on `signal`; the worker
 * posts `{id, ok, rows | error}` back and wakes it. While the server is unreachable the worker
 * refuses statements at once for a short back-off instead of letting every state call wait for a
 * connect timeout: the daemon's event loop is blocked while a call waits.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import pg from 'pg';

interface WorkerSettings {
  readonly url: string;
  readonly applicationName: string;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly retryAfterFailureMs: number;
  readonly signal: SharedArrayBuffer;
  readonly port: MessagePort;
}

interface Request {
  readonly id: number;
  readonly sql: string;
  readonly params: readonly unknown[];
}

interface Failure {
  readonly message: string;
  /** SQLSTATE when the server answered; null for a connection that failed or broke. */
  readonly sqlState: string | null;
  readonly connection: boolean;
}

// int8 and numeric counts fit a JavaScript number in everything the state store keeps.
pg.types.setTypeParser(20, (value) => Number(value));

const settings = workerData as WorkerSettings;
const signal = new Int32Array(settings.signal);
let client: pg.Client | null = null;
let unreachableUntil = 0;
let lastConnectError = '';

async function connected(): Promise<pg.Client> {
  if (client !== null) return client;
  if (Date.now() < unreachableUntil) throw new Error(lastConnectError);
  const next = new pg.Client({
    connectionString: settings.url,
    application_name: settings.applicationName,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    keepAlive: true,
  });
  // A connection that breaks between statements reports here; the next statement reconnects.
  next.on('error', () => {
    if (client === next) client = null;
  });
  try {
    await next.connect();
  } catch (error) {
    lastConnectError = (error as Error).message;
    unreachableUntil = Date.now() + settings.retryAfterFailureMs;
    await next.end().catch(() => undefined);
    throw error;
  }
  client = next;
  return next;
}

/** `duringConnect`: the connection could not be opened, whatever the server answered (a refused login too). */
function describeFailure(error: unknown, duringConnect: boolean): Failure {
  const sqlState = (error as { code?: unknown }).code;
  const answered = typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState);
  return {
    message: (error as Error).message,
    sqlState: answered ? sqlState : null,
    // Class 08 is a connection exception; 57P0x is an administrator or crash shutdown.
    connection: duringConnect || !answered || sqlState.startsWith('08') || sqlState.startsWith('57P'),
  };
}

async function answer(request: Request): Promise<unknown> {
  let active: pg.Client;
  try {
    active = await connected();
  } catch (error) {
    return { id: request.id, ok: false, error: describeFailure(error, true) };
  }
  try {
    const result = await active.query(request.sql, request.params as unknown[]);
    return { id: request.id, ok: true, rows: result.rows };
  } catch (error) {
    const failure = describeFailure(error, false);
    if (failure.connection) {
      if (client === active) client = null;
      await active.end().catch(() => undefined);
    }
    return { id: request.id, ok: false, error: failure };
  }
}

// Statements are answered strictly one after another: a transaction's statements must reach the
// one connection in the order the main thread sent them.
let queue: Promise<void> = Promise.resolve();
settings.port.on('message', (request: Request | 'close') => {
  queue = queue.then(async () => {
    if (request === 'close') {
      await client?.end().catch(() => undefined);
      client = null;
      settings.port.close();
      return;
    }
    settings.port.postMessage(await answer(request));
    Atomics.add(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
});
parentPort?.postMessage('ready');
