/**
 * One log file family: `<dir>/<base>` (the live file) and its rotated generations
 * `<base>.000001`, `<base>.000002`… (`.gz` once compressed). Numbers only grow, so a higher number
 * is newer and `ls` lists generations in order; a rotated file is never renamed again, which keeps
 * readers and the background compressor free of races.
 *
 * Writes are synchronous (`writeSync` on an append-mode descriptor) and rotation is close + rename +
 * open inside the same synchronous call, so no line can be lost or written twice across a rotation:
 * nothing else runs in between. Errors are thrown to the owner (the sink), which degrades.
 */
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { listGenerations } from '../../shared/logs/log-files.js';
import { parseJsonLine } from '../../shared/logs/log-record.js';

export interface RotationPolicy {
  /** Rotate before a write would take the live file past this many bytes. */
  readonly maxSize: number;
  /** Rotate when the live file's first line is older than this. */
  readonly maxAgeMs: number;
}

export interface RotatedGeneration {
  /** Current path: `<base>.NNNNNN` or `<base>.NNNNNN.gz`. */
  path: string;
  readonly seq: number;
  size: number;
  compressed: boolean;
  readonly rotatedAt: number;
  deleted: boolean;
}

const SEQ_WIDTH = 6;

function generationPath(livePath: string, seq: number): string {
  return `${livePath}.${String(seq).padStart(SEQ_WIDTH, '0')}`;
}

/**
 * Rotated generations of `base` found in `dir`, oldest first. With `cleanup` (the writer, at
 * start-up) leftovers of an interrupted compression are removed.
 */
function scanGenerations(dir: string, base: string, cleanup: boolean): RotatedGeneration[] {
  const scan = listGenerations(dir, base);
  if (cleanup) for (const path of scan.leftovers) unlinkQuietly(path);
  return scan.generations.map((g) => ({ ...g, deleted: false }));
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** The time of the first line of an existing live file (for age-based rotation after a restart). */
function firstLineTime(fd: number): number | undefined {
  const buffer = Buffer.alloc(4096);
  const read = readSync(fd, buffer, 0, buffer.length, 0);
  const text = buffer.subarray(0, read).toString('utf8');
  const end = text.indexOf('\n');
  const parsed = parseJsonLine(end === -1 ? text : text.slice(0, end));
  const ms = parsed ? Date.parse(parsed.ts) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function endsWithNewline(fd: number, size: number): boolean {
  const last = Buffer.alloc(1);
  return readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a;
}

export class RotatingFile {
  readonly dir: string;
  readonly base: string;
  readonly livePath: string;
  readonly generations: RotatedGeneration[];
  readonly #policy: RotationPolicy;
  readonly #now: () => number;
  readonly #onRotated: (file: RotatingFile, generation: RotatedGeneration) => void;
  #fd: number | null = null;
  #size: number;
  #openedAt: number | null = null;
  #nextSeq: number;
  #pending: string[] = [];
  #pendingBytes = 0;
  /** A write failed part-way: the file ends in a torn line that the next write must terminate. */
  #torn = false;

  constructor(
    dir: string,
    base: string,
    policy: RotationPolicy,
    now: () => number,
    onRotated: (file: RotatingFile, generation: RotatedGeneration) => void,
  ) {
    this.dir = dir;
    this.base = base;
    this.livePath = join(dir, base);
    this.#policy = policy;
    this.#now = now;
    this.#onRotated = onRotated;
    this.generations = scanGenerations(dir, base, true);
    this.#nextSeq = (this.generations.at(-1)?.seq ?? 0) + 1;
    let size = 0;
    try {
      size = statSync(this.livePath).size;
    } catch {
      // not created yet
    }
    this.#size = size;
  }

  /** Bytes in the live file (as far as this process knows). */
  get size(): number {
    return this.#size;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  enqueue(line: string): void {
    this.#pending.push(line);
    this.#pendingBytes += Buffer.byteLength(line);
  }

  /** Drops queued lines (the sink is degraded) and says how many there were. */
  discardPending(): number {
    const count = this.#pending.length;
    this.#pending = [];
    this.#pendingBytes = 0;
    return count;
  }

  /** Writes every queued line, rotating where the policy says. Throws on a file-system error. */
  flushSync(): void {
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    let chunk: string[] = [];
    let chunkBytes = 0;
    let i = 0;
    try {
      this.#ensureOpen();
      for (; i < lines.length; i++) {
        const line = lines[i] as string;
        const bytes = Buffer.byteLength(line);
        const used = this.#size + chunkBytes;
        const tooBig = used > 0 && used + bytes > this.#policy.maxSize;
        const tooOld =
          used > 0 && this.#openedAt !== null && this.#now() - this.#openedAt >= this.#policy.maxAgeMs;
        if (tooBig || tooOld) {
          this.#writeChunk(chunk, chunkBytes);
          chunk = [];
          chunkBytes = 0;
          this.#rotate();
        }
        if (this.#openedAt === null) this.#openedAt = this.#now();
        chunk.push(line);
        chunkBytes += bytes;
      }
      this.#writeChunk(chunk, chunkBytes);
    } catch (error) {
      // Hand the unwritten lines back so the owner can count (and drop) them.
      for (const line of chunk) this.enqueue(line);
      for (const line of lines.slice(i)) this.enqueue(line);
      throw error;
    }
  }

  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      closeSync(fd);
    } catch {
      // nothing useful to do
    }
  }

  #ensureOpen(): void {
    if (this.#fd !== null) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    const fd = openSync(this.livePath, 'a+', 0o640);
    try {
      const stat = fstatSync(fd);
      this.#size = stat.size;
      this.#openedAt = stat.size > 0 ? (firstLineTime(fd) ?? stat.mtimeMs) : null;
      // A crash mid-write leaves a torn last line; the first write then starts on a fresh line.
      this.#torn = stat.size > 0 && !endsWithNewline(fd, stat.size);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    this.#fd = fd;
  }

  #writeChunk(chunk: string[], bytes: number): void {
    if (chunk.length === 0) return;
    this.#ensureOpen();
    const fd = this.#fd as number;
    const prefix = this.#torn ? '\n' : '';
    const buffer = Buffer.from(prefix + chunk.join(''), 'utf8');
    let offset = 0;
    try {
      while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (error) {
      // The reader skips a torn line; terminating it keeps the next line parseable.
      this.#size += offset;
      if (offset > 0) this.#torn = true;
      throw error;
    }
    this.#torn = false;
    this.#size += bytes + prefix.length;
  }

  #rotate(): void {
    this.close();
    const seq = this.#nextSeq++;
    const path = generationPath(this.livePath, seq);
    renameSync(this.livePath, path);
    const generation: RotatedGeneration = {
      path,
      seq,
      size: this.#size,
      compressed: false,
      rotatedAt: this.#now(),
      deleted: false,
    };
    this.generations.push(generation);
    this.#size = 0;
    this.#openedAt = null;
    this.#torn = false;
    this.#onRotated(this, generation);
    this.#ensureOpen();
  }
}
