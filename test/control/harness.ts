import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { ControlServer, type ControlServerOptions } from '../../daemon/control/server.js';
import { FanoutLogger, type LogRecord } from '../../daemon/logging/logger.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { nextEvent } from '../helpers/wait.js';
import { FakeApi } from './fake-api.js';

export interface TestServer {
  readonly server: ControlServer;
  readonly api: FakeApi;
  readonly dir: string;
  readonly socketPath: string;
  readonly records: LogRecord[];
  /** The first log record (already written or still to come) that `accept` takes. */
  nextRecord(accept: (record: LogRecord) => boolean, what: string, timeoutMs?: number): Promise<LogRecord>;
  dispose(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ControlServerOptions> = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'etld-ctl-'));
  const api = new FakeApi();
  const records: LogRecord[] = [];
  const listeners = new Set<(record: LogRecord) => void>();
  const logger = new FanoutLogger([
    {
      write: (record) => {
        records.push(record);
        for (const listener of [...listeners]) listener(record);
      },
    },
  ]);
  const socketPath = join(dir, 'run', 'etld.sock');
  const server = new ControlServer({
    api,
    socketPath,
    socketMode: 0o660,
    maxClients: 300,
    maxFrameBytes: 64 * 1024,
    maxSendBufferBytes: 1024 * 1024,
    heartbeatMs: 60_000,
    logger,
    daemonInfo: { version: '0.1.0-test', host: 'testhost', pid: process.pid },
    ...overrides,
  });
  await server.start();
  return {
    server,
    api,
    dir,
    socketPath,
    records,
    nextRecord(accept, what, timeoutMs = 15_000) {
      const written = records.find(accept);
      if (written !== undefined) return Promise.resolve(written);
      return nextEvent<LogRecord>(
        (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
        what,
        { accept, timeoutMs },
      );
    },
    async dispose() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Frames are inspected loosely in tests; the protocol schemas are exercised by the code under test.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Frame = Record<string, any>;

/** A bare `ws` client that records every frame, for driving the server with exactly the bytes a test wants. */
export class RawClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString('utf8')) as Frame;
      this.frames.push(frame);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    ws.on('error', () => undefined);
  }

  static connect(target: { socketPath: string } | { url: string; token?: string }): Promise<RawClient> {
    const address = 'socketPath' in target ? `ws+unix://${target.socketPath}:/` : target.url;
    const headers =
      'token' in target && target.token !== undefined
        ? { authorization: `Bearer ${target.token}` }
        : undefined;
    const ws = new WebSocket(address, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  static async ready(target: { socketPath: string } | { url: string; token?: string }): Promise<RawClient> {
    const client = await RawClient.connect(target);
    await client.hello();
    return client;
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  next(pred: (f: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const found = this.frames.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no matching frame within ${timeoutMs} ms; last: ${JSON.stringify(this.frames.at(-1) ?? null).slice(0, 300)}`,
            ),
          ),
        timeoutMs,
      );
      this.#waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  async hello(version = PROTOCOL_VERSION): Promise<Frame> {
    this.send({ type: 'hello', version, client: 'test' });
    return this.next((f) => f.type === 'hello' || (f.type === 'reply' && f.id === null));
  }

  async request(method: string, params?: unknown): Promise<Frame> {
    const id = `r${this.#nextId++}`;
    this.send({ type: 'request', id, method, params });
    return this.next((f) => f.type === 'reply' && f.id === id);
  }

  close(): void {
    this.ws.close();
  }
}
