import { lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { EtlError } from '../../shared/errors.js';

/** True when a process accepts connections on the Unix socket at `path`. */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(false);
      else
        reject(
          new EtlError('LOCKED', `cannot probe the control socket ${path}: ${error.message}`, {
            cause: error,
          }),
        );
    });
  });
}

/**
 * Makes `path` free for a new listener: a socket left by a crashed daemon is removed, a live
 * daemon's socket is never taken over, and anything that is not a socket is left alone.
 */
export async function claimSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!isSocket) {
    throw new EtlError(
      'LOCKED',
      `${path} exists and is not a socket; refusing to replace it (remove it or choose another socket path)`,
    );
  }
  if (await socketIsLive(path)) {
    throw new EtlError(
      'LOCKED',
      `another etld is already listening on ${path}; stop it first (etlctl info --socket ${path} shows it)`,
    );
  }
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
