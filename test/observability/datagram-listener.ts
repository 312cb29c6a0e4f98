/**
 * A test listener on a Unix datagram socket (a fake NOTIFY_SOCKET or journald socket) in a
 * temporary directory; every datagram is kept with its arrival time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DgramSocket } from 'node-unix-socket';
import { socketAddress } from '../../daemon/observability/unix-datagram.js';
import { waitFor } from '../helpers/process.js';

export interface DatagramListener {
  readonly path: string;
  close(): void;
}

/** Binds `path` (`@name`: an abstract socket) and calls `onDatagram` for every datagram received. */
export function listenDatagrams(path: string, onDatagram: (payload: Buffer) => void): DatagramListener {
  const socket = new DgramSocket();
  socket.on('data', (payload: Buffer) => onDatagram(payload));
  socket.bind(socketAddress(path));
  return { path, close: () => socket.close() };
}

export interface Received {
  readonly at: number;
  readonly payload: Buffer;
}

export interface DatagramReceiver {
  readonly path: string;
  readonly received: Received[];
  texts(): string[];
  /** Waits until `count` datagrams satisfy `match`. */
  waitFor(match: (text: string) => boolean, what: string, count?: number): Promise<string[]>;
  close(): void;
}

export function startDatagramReceiver(name = 'notify.sock'): DatagramReceiver {
  const dir = mkdtempSync(join(tmpdir(), 'etld-dgram-'));
  const path = join(dir, name);
  const received: Received[] = [];
  const listener = listenDatagrams(path, (payload) => received.push({ at: Date.now(), payload }));
  const texts = (): string[] => received.map((r) => r.payload.toString('utf8'));
  return {
    path,
    received,
    texts,
    waitFor: (match, what, count = 1) =>
      waitFor(
        () => {
          const hits = texts().filter(match);
          return hits.length >= count ? hits : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 20, what },
      ),
    close: () => {
      listener.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
