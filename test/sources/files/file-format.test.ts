import { describe, expect, it } from 'vitest';
import {
  FILE_COMPRESSIONS,
  FILE_FORMATS,
  formatOf,
  type ConfiguredFileFormat,
  type ResolvedFileFormat,
} from '../../../daemon/sources/files/file-format.js';
import { EtlError } from '../../../shared/errors.js';

function refusal(key: string, configured: ConfiguredFileFormat): EtlError {
  try {
    formatOf(key, configured);
  } catch (error) {
    if (error instanceof EtlError) return error;
    throw error;
  }
  throw new Error(`${key} was accepted`);
}

/** [key, format, compression] read from the name alone. */
const FROM_NAME: readonly (readonly [
  string,
  ResolvedFileFormat['format'],
  ResolvedFileFormat['compression'],
])[] = [
  ['a.csv', 'csv', 'none'],
  ['dir/sub/a.tsv', 'csv', 'none'],
  ['a.ndjson', 'ndjson', 'none'],
  ['a.jsonl', 'ndjson', 'none'],
  ['a.json', 'ndjson', 'none'],
  ['a.parquet', 'parquet', 'none'],
  ['a.pq', 'parquet', 'none'],
  ['a.csv.gz', 'csv', 'gzip'],
  ['a.csv.gzip', 'csv', 'gzip'],
  ['a.jsonl.zst', 'ndjson', 'zstd'],
  ['a.ndjson.zstd', 'ndjson', 'zstd'],
  ['a.tsv.gz', 'csv', 'gzip'],
  ['ORDERS.CSV.GZ', 'csv', 'gzip'],
  ['Report.Parquet', 'parquet', 'none'],
  ['2026.12.01.orders.csv', 'csv', 'none'],
  ['my files/été 2026.json', 'ndjson', 'none'],
  // the directory's dots are not the file's
  ['v1.parquet/data.csv', 'csv', 'none'],
];

describe('formatOf', () => {
  it.each(FROM_NAME)('%s is %s, compression %s', (key, format, compression) => {
    expect(formatOf(key, {})).toEqual({ format, compression });
    expect(formatOf(key, { compression: 'auto' })).toEqual({ format, compression });
  });

  it('a configured format wins over the extension, and names files with none', () => {
    expect(formatOf('export.txt', { format: 'csv' })).toEqual({ format: 'csv', compression: 'none' });
    expect(formatOf('export.txt.gz', { format: 'csv' })).toEqual({ format: 'csv', compression: 'gzip' });
    expect(formatOf('events', { format: 'ndjson' })).toEqual({ format: 'ndjson', compression: 'none' });
    expect(formatOf('a.json', { format: 'csv' })).toEqual({ format: 'csv', compression: 'none' });
  });

  it('a configured compression wins over the suffix', () => {
    expect(formatOf('a.csv.gz', { compression: 'none' })).toEqual({ format: 'csv', compression: 'none' });
    expect(formatOf('a.csv', { compression: 'zstd' })).toEqual({ format: 'csv', compression: 'zstd' });
    expect(formatOf('a.csv.zst', { compression: 'gzip' })).toEqual({ format: 'csv', compression: 'gzip' });
  });

  it.each(['a.txt', 'a', 'a.gz', '.csv', 'csv.gz', 'a.', 'dir.csv/file', 'a.xlsx.zst'])(
    '%s without a configured format asks for source.format',
    (key) => {
      const error = refusal(key, {});
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain(`${key}: cannot tell the file format`);
      expect(error.message).toContain('set source.format to one of csv, ndjson, parquet');
    },
  );

  it.each(['a.parquet.gz', 'a.pq.zst', 'x/a.PARQUET.GZIP'])(
    '%s (Parquet in gzip or zstd) is refused by name',
    (key) => {
      const error = refusal(key, {});
      expect(error.code).toBe('SOURCE_DATA');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(key);
      expect(error.message).toContain('Parquet compresses inside the file');
    },
  );

  it('a configured format parquet with a suffix is refused too; with compression none it is read as is', () => {
    expect(refusal('a.bin.gz', { format: 'parquet' }).code).toBe('SOURCE_DATA');
    expect(formatOf('a.parquet.gz', { compression: 'none' })).toEqual({
      format: 'parquet',
      compression: 'none',
    });
  });

  it('a configured compression on Parquet is a configuration error', () => {
    const error = refusal('a.parquet', { compression: 'gzip' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain("source.compression 'gzip' cannot apply to Parquet");
    expect(refusal('a.bin', { format: 'parquet', compression: 'zstd' }).code).toBe('CONFIG_INVALID');
  });

  it('exports the lists the configuration schema offers', () => {
    expect(FILE_FORMATS).toEqual(['csv', 'ndjson', 'parquet']);
    expect(FILE_COMPRESSIONS).toEqual(['none', 'gzip', 'zstd']);
  });
});
