/**
 * Named pipes between an extracting part and the DuckDB INSERT reading it, so a part is staged
 * while it is extracted instead of after every part has been spooled to disk.
 *
 * The write end is opened O_NONBLOCK: that fails with ENXIO until the reader has opened its end,
 * so polling until it succeeds proves the reader is there (no data can be lost in a pipe nobody
 * reads) without parking a libuv pool thread in a blocking open(2). The descriptor is then driven
 * by a `net.Socket` (libuv pipe handle): writes go through the event loop, never the thread pool,
 * which the DuckDB queries reading the pipes already occupy (each one holds a pool thread).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { cancelledError, EtlError, toEtlError } from '../../shared/errors.js';

const POLL_MS = 2;

/** Creates a FIFO at `path` (Node has no mkfifo; coreutils' mkfifo is used). */
export function makeFifo(path: string): void {
  try {
    execFileSync('mkfifo', ['-m', '600', path], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new EtlError(
      'INTERNAL',
      `cannot create the staging pipe ${path}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/**
 * Opens the write end of the FIFO at `path` once its reader is there. Gives up with the reader's
 * error if `reader` settles first (it failed before opening the pipe), or when `signal` aborts.
 */
export async function openFifoWriter(
  path: string,
  reader: Promise<unknown>,
  signal: AbortSignal,
): Promise<Socket> {
  let settled = false;
  let readerError: unknown;
  reader.then(
    () => (settled = true),
    (error: unknown) => {
      settled = true;
      readerError = error;
    },
  );
  for (;;) {
    if (signal.aborted)
      throw signal.reason instanceof Error ? signal.reason : cancelledError('the extraction');
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'ENXIO')) {
        throw new EtlError(
          'INTERNAL',
          `cannot open the staging pipe ${path}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    }
    if (fd !== undefined) {
      try {
        return new Socket({ fd, readable: false, writable: true });
      } catch (error) {
        closeSync(fd);
        throw error;
      }
    }
    if (settled) {
      if (readerError !== undefined)
        throw readerError instanceof Error ? readerError : toEtlError(readerError, 'SOURCE_DATA');
      throw new EtlError('INTERNAL', `the reader of staging pipe ${path} finished without opening it`);
    }
    await sleep(POLL_MS);
  }
}
