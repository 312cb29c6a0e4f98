/**
 * The one place that knows `node-unix-socket`: sending (and, for test listeners, receiving) Unix
 * datagrams. Node's own `dgram` speaks UDP only, and both systemd's notify socket and journald's
 * native socket are AF_UNIX SOCK_DGRAM, so a small N-API addon with prebuilt binaries is used
 * rather than spawning `systemd-notify` for every keep-alive (a process per message, and a stuck
 * event loop could not even spawn it) or a C++ addon compiled at install time.
 *
 * A path starting with `@` names a Linux abstract socket (sd_notify(3) convention).
 */
import { arch, platform } from 'node:os';
import type { DgramSocket } from 'node-unix-socket';

export interface DatagramSender {
  /** Resolves once the kernel took the datagram; rejects with the errno's message otherwise. */
  send(path: string, payload: Buffer): Promise<void>;
  close(): void;
}

export function socketAddress(path: string): string {
  return path.startsWith('@') ? `\0${path.slice(1)}` : path;
}

let addon: Promise<typeof DgramSocket> | undefined;

/**
 * The addon, loaded on the first datagram: only a daemon under systemd (notify, watchdog, the
 * journal) sends any, and its prebuilt binaries exist for Linux x64 alone, so elsewhere the daemon
 * still starts and only this feature fails, by name.
 */
function dgramSocketClass(): Promise<typeof DgramSocket> {
  addon ??= import('node-unix-socket').then(
    (module) => module.DgramSocket,
    (error: unknown) => {
      throw new Error(
        `Unix datagrams (systemd notify, journald) need node-unix-socket's prebuilt binary, which ${platform()}-${arch()} lacks: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    },
  );
  return addon;
}

/** One unbound socket, opened on first use; close() releases it (an open socket keeps Node alive). */
export function unixDatagramSender(): DatagramSender {
  let socket: DgramSocket | null = null;
  let closed = false;
  return {
    async send(path, payload) {
      const SocketClass = await dgramSocketClass();
      return new Promise((resolve, reject) => {
        if (closed) {
          reject(new Error('the datagram sender is closed'));
          return;
        }
        try {
          socket ??= new SocketClass();
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
      closed = true;
      socket?.close();
      socket = null;
    },
  };
}
