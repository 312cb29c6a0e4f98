/**
 * Checks of a file's bytes made in Node rather than DuckDB:
 * - `verifyDecompression` reads a gzip or zstd file through zlib to its end. DuckDB's own
 *   decompression checks neither the gzip CRC nor the end of a zstd frame: a corrupted gzip member
 *   loads altered rows, and a truncated zstd file loads as zero rows, both without an error.
 *   zlib checks the CRC, the length and the frame ends.
 * - `hasContent` tells an empty file (nothing but white space after a byte-order mark) from a
 *   file with rows: DuckDB refuses an empty NDJSON file and names an empty CSV's one column
 *   `column0`, where an empty file simply has no rows and no columns.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline as pipelineCallback, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { cancelledError, EtlError } from '../../../shared/errors.js';
import type { FileReadSpec } from './file-read-spec.js';
import { corruptFileError, fileSystemError } from './file-read-errors.js';

type Compression = FileReadSpec['compression'];

function decompressor(compression: Exclude<Compression, 'none'>): NodeJS.ReadWriteStream & Readable {
  return compression === 'gzip' ? createGunzip() : createZstdDecompress();
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** zlib's reason ("unexpected end of file", "incorrect header check"): it never holds file content. */
function zlibReason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Errors while reading `localPath` (the file system's, or zlib's about the content) as EtlError. */
function readFailure(error: unknown, fileName: string, compression: Compression): EtlError {
  if (isAbort(error)) return cancelledError(`reading ${fileName}`, undefined, error);
  const fsError = error as NodeJS.ErrnoException;
  // File system errors name the call that failed; zlib's carry only a code.
  if (fsError.syscall !== undefined) return fileSystemError(fsError.code, fileName, error);
  return corruptFileError(fileName, `${compression}: ${zlibReason(error)}`, error);
}

/** Decompresses the whole file, discarding the bytes; rejects with SOURCE_DATA when it is corrupt. */
export async function verifyDecompression(
  localPath: string,
  compression: Exclude<Compression, 'none'>,
  fileName: string,
  signal?: AbortSignal,
): Promise<void> {
  const discard = new Writable({
    write(_chunk, _encoding, done): void {
      done();
    },
  });
  try {
    await pipeline(createReadStream(localPath), decompressor(compression), discard, { signal });
  } catch (error) {
    throw readFailure(error, fileName, compression);
  }
}

/**
 * Decompresses the whole file into `outputPath` (checked as `verifyDecompression` checks), so
 * DuckDB reads plain text: its own gzip reader holds about 60 MiB of buffers per file read.
 */
export async function decompressFile(
  localPath: string,
  compression: Exclude<Compression, 'none'>,
  outputPath: string,
  fileName: string,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await pipeline(createReadStream(localPath), decompressor(compression), createWriteStream(outputPath), {
      signal,
    });
  } catch (error) {
    // The local copy failing (a full disk) is the run's trouble, not the file's: retried, never quarantined.
    if ((error as NodeJS.ErrnoException).path === outputPath) {
      throw new EtlError(
        'STAGING',
        `${fileName}: writing its decompressed copy failed (${(error as NodeJS.ErrnoException).code ?? 'I/O error'})`,
        { cause: error, retryable: true },
      );
    }
    throw readFailure(error, fileName, compression);
  }
}

const BLANK = new Set([0x00, 0x09, 0x0a, 0x0d, 0x20]);
const BYTE_ORDER_MARKS = [
  Buffer.from([0xef, 0xbb, 0xbf]),
  Buffer.from([0xff, 0xfe]),
  Buffer.from([0xfe, 0xff]),
];

/** Bytes to skip at the start of the content: a byte-order mark, when there is one. */
function markLength(head: Buffer): number {
  return BYTE_ORDER_MARKS.find((mark) => head.subarray(0, mark.length).equals(mark))?.length ?? 0;
}

/**
 * Whether the (decompressed) content holds anything but white space; reads only as far as the
 * first such byte. A missing or corrupt file rejects with SOURCE_DATA.
 */
export async function hasContent(
  localPath: string,
  compression: Compression,
  fileName: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const file = createReadStream(localPath, { signal });
  // The callback form: leaving the loop early destroys the chain, which is not a failure.
  const content: Readable =
    compression === 'none' ? file : pipelineCallback(file, decompressor(compression), () => undefined);
  let first = true;
  try {
    for await (const chunk of content) {
      const bytes = chunk as Buffer;
      const start = first ? markLength(bytes) : 0;
      first = false;
      for (let index = start; index < bytes.length; index += 1) {
        if (!BLANK.has(bytes[index] ?? 0)) return true;
      }
    }
    return false;
  } catch (error) {
    throw readFailure(error, fileName, compression);
  } finally {
    content.destroy();
    file.destroy();
  }
}
