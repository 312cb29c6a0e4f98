/**
 * Shared set-up of the file reader tests: a temp directory, a DuckDB connection whose TimeZone is
 * not UTC (the reader must not depend on it), read specs, Parquet written by pyarrow (the oracle
 * virtualenv: a missing one is an error, never a skip), and the engine's own staging reader to
 * check that what the extraction writes is what the staging contract accepts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { stagingCsvSelect } from '../../../daemon/engine/csv-staging.js';
import { queryStrings } from '../../../daemon/duckdb/duck-sql.js';
import {
  extractFile,
  FILE_MODIFIED_AT_COLUMN,
  FILE_NAME_COLUMN,
} from '../../../daemon/sources/files/file-extract.js';
import { DEFAULT_CSV_OPTIONS, type FileReadSpec } from '../../../daemon/sources/files/file-read-spec.js';
import { EtlError } from '../../../shared/errors.js';
import type { CanonicalType, ColumnSchema } from '../../../shared/types.js';
import { oraclePython } from '../../conformance/delta-oracle.js';

const run = promisify(execFile);

export const MODIFIED_AT = new Date('2026-12-01T10:04:05.250Z');

export function column(name: string, type: CanonicalType): ColumnSchema {
  return { name, type, nullable: true };
}

export function fileSpec(overrides: Partial<FileReadSpec> = {}): FileReadSpec {
  return {
    format: 'csv',
    compression: 'none',
    csv: DEFAULT_CSV_OPTIONS,
    sampleRows: 20480,
    nested: 'json',
    ...overrides,
  };
}

export interface Workspace {
  readonly dir: string;
  readonly connection: DuckDBConnection;
  /** Writes `content` to `name` in the temp directory; returns its path. */
  write(name: string, content: string | Buffer): string;
  /** Runs `extractFile` into a fresh staging file; returns its text and the counts. */
  extract(
    path: string,
    spec: FileReadSpec,
    columns: readonly ColumnSchema[],
    signal?: AbortSignal,
  ): Promise<{ text: string; rows: number; bytes: number; outputPath: string }>;
  close(): void;
}

export async function openWorkspace(): Promise<Workspace> {
  const dir = mkdtempSync(join(tmpdir(), 'etld-file-reader-'));
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  await connection.run(`SET TimeZone = 'America/New_York'`);
  let outputs = 0;
  return {
    dir,
    connection,
    write(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
    async extract(path, spec, columns, signal) {
      outputs += 1;
      const outputPath = join(dir, `staging-${outputs}.csv`);
      const result = await extractFile(connection, path, spec, {
        columns,
        fileName: `in/${path.slice(dir.length + 1)}`,
        modifiedAt: MODIFIED_AT,
        outputPath,
        ...(signal === undefined ? {} : { signal }),
      });
      return { text: readFileSync(outputPath, 'utf8'), ...result, outputPath };
    },
    close() {
      connection.closeSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `script` (which writes its files into the directory given as argv[1]) with pyarrow. */
export async function runPyarrow(dir: string, script: string): Promise<void> {
  await run(oraclePython(), ['-c', script, dir], { env: { ...process.env, TZ: 'UTC' }, timeout: 120_000 });
}

/**
 * The staging file read back by the engine's staging reader (csv-staging.ts) with the batch's
 * columns and the two metadata columns: each value as DuckDB text, so a form the contract does
 * not accept fails here.
 */
export async function stageBack(
  connection: DuckDBConnection,
  outputPath: string,
  columns: readonly ColumnSchema[],
): Promise<(string | null)[][]> {
  const all = [
    ...columns,
    column(FILE_NAME_COLUMN, { kind: 'text' }),
    column(FILE_MODIFIED_AT_COLUMN, { kind: 'timestamptz' }),
  ];
  const list = all.map((c) => {
    const id = `"${c.name.replaceAll('"', '""')}"`;
    // Instants as epoch microseconds: the connection's TimeZone is not UTC.
    if (c.type.kind === 'timestamptz') return `CAST(epoch_us(${id}) AS VARCHAR)`;
    return c.type.kind === 'bytes' ? `lower(hex(${id}))` : `CAST(${id} AS VARCHAR)`;
  });
  return queryStrings(connection, `SELECT ${list.join(', ')} FROM (${stagingCsvSelect([outputPath], all)})`);
}

/** The EtlError `work` rejects with (fails the test when it resolves or throws something else). */
export async function failure(work: Promise<unknown>): Promise<EtlError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof EtlError) return error;
    throw error;
  }
  throw new Error('expected the work to fail');
}
