/**
 * The one place that knows `node-unix-socket`: sending (and, for test listeners, receiving) Unix
 * datagrams. Node's own `dgram` speaks UDP only, and both systemd's notify socket and journald's
 * native socket are AF_UNIX SOCK_DGRAM, so a small N-API addon with prebuilt binaries is used
 * rather than spawning `systemd-notify` for every keep-alive (a process per message, and a stuck
 * event loop could not even spawn it) or a C++ addon compiled at install time.
 *
 * A path starting with `@` names a Linux abstract socket (sd_notify(3) convention).
 */
import { DgramSocket } from 'node-unix-socket';

export interface DatagramSender {
  /** Resolves once the kernel took the datagram; rejects with the errno's message otherwise. */
  send(path: string, payload: Buffer): Promise<void>;
  close(): void;
}

export function socketAddress(path: string): string {
  return path.startsWith('@') ? `\0${path.slice(1)}` : path;
}

/** One unbound socket, opened on first use; close() releases it (an open socket keeps Node alive). */
export function unixDatagramSender(): DatagramSender {
  let socket: DgramSocket | null = null;
  return {
    send(path, payload) {
      return new Promise((resolve, reject) => {
        try {
          socket ??= new DgramSocket();
          // The callback may run synchronously (an immediate errno) or later.
          socket.sendTo(payload, 0, payload.length, socketAddress(path), (error) =>
            error ? reject(error) : resolve(),
          );
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    },
    close() {
      socket?.close();
      socket = null;
    },
  };
}

export interface DatagramListener {
  readonly path: string;
  close(): void;
}

/** Binds `path` and calls `onDatagram` for every datagram received (test listeners use this). */
export function listenDatagrams(path: string, onDatagram: (payload: Buffer) => void): DatagramListener {
  const socket = new DgramSocket();
  socket.on('data', (payload: Buffer) => onDatagram(payload));
  socket.bind(socketAddress(path));
  return { path, close: () => socket.close() };
}
