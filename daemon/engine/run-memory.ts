/**
 * How a run's DuckDB memory budget (`defaults.memory_limit`) is spent. A part streamed into
 * DuckDB while it is extracted needs about STREAM_BYTES of it: one CSV read buffer as large as the
 * largest row a run accepts (8 MiB), the Parquet writer's open row group, and the statement's own
 * vectors. Parts beyond what the budget streams at once are spooled to disk and read when a
 * stream frees up, so a small budget makes a run slower, never failed. (Measured on the bench's
 * 12-column table: one stream fits 64 MiB, two run out of memory at 64 MiB and fit 96 MiB.)
 */

const MIB = 1024 * 1024;
const STREAM_BYTES = 48 * MIB;
/**
 * Each stream holds a libuv pool thread (4 by default) while it runs, and file writes and the
 * destination's calls still need pool threads: two at most, whatever the budget.
 */
const MAX_STREAMS = 2;

/** Parts a run streams into DuckDB at once with `memoryLimitBytes`: at least one. */
export function streamsFor(memoryLimitBytes: number): number {
  return Math.max(1, Math.min(MAX_STREAMS, Math.floor(memoryLimitBytes / STREAM_BYTES)));
}

/** DuckDB's `memory_limit` setting for a budget in bytes, in whole MiB (at least 1). */
export function duckMemoryLimit(memoryLimitBytes: number): string {
  return `${Math.max(1, Math.floor(memoryLimitBytes / MIB))}MiB`;
}

/**
 * DuckDB's CSV reader holds about 30 MiB of buffers per file it reads (measured with DuckDB
 * 1.5: two plain CSV files fit a 96 MiB limit, three do not), so a files run reads at most this
 * many files at once within its memory limit, whatever its parallelism: at least one.
 */
const FILE_READER_BYTES = 40 * MIB;

export function fileReadersFor(memoryLimit: string, parallelism: number): number {
  const mib = Number(/^(\d+)MiB$/.exec(memoryLimit)?.[1] ?? '0');
  return Math.max(1, Math.min(parallelism, Math.floor((mib * MIB) / FILE_READER_BYTES)));
}
