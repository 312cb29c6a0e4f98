/**
 * The format and compression of one file of a `files` source: configured, or read from the name.
 *
 * Decisions:
 * - Extensions are matched without regard to case (`ORDERS.CSV.GZ` is gzipped CSV).
 * - A compression suffix (`.gz`, `.gzip`, `.zst`, `.zstd`) is always taken off before the format
 *   extension is read; a configured `compression` then overrides what the suffix said (an operator
 *   whose `.gz` files are in fact plain says so once in the pipeline).
 * - `.tsv` is CSV: the reader's dialect sniffing finds the tab. `.json` is NDJSON (one document per
 *   line), the form exports and log shippers write; `.txt` is not guessed at.
 * - Parquet compresses inside the file, so a Parquet file wrapped in gzip or zstd cannot be read:
 *   a file named so is SOURCE_DATA (the file is wrong, not the pipeline), and a pipeline that
 *   configures Parquet with a compression is CONFIG_INVALID.
 */
import { EtlError } from '../../../shared/errors.js';

export const FILE_FORMATS = ['csv', 'ndjson', 'parquet'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

export const FILE_COMPRESSIONS = ['none', 'gzip', 'zstd'] as const;
export type FileCompression = (typeof FILE_COMPRESSIONS)[number];

export interface ConfiguredFileFormat {
  readonly format?: FileFormat;
  readonly compression?: FileCompression | 'auto';
}

export interface ResolvedFileFormat {
  readonly format: FileFormat;
  readonly compression: FileCompression;
}

const FORMAT_BY_EXTENSION: ReadonlyMap<string, FileFormat> = new Map([
  ['csv', 'csv'],
  ['tsv', 'csv'],
  ['ndjson', 'ndjson'],
  ['jsonl', 'ndjson'],
  ['json', 'ndjson'],
  ['parquet', 'parquet'],
  ['pq', 'parquet'],
]);

const COMPRESSION_BY_EXTENSION: ReadonlyMap<string, FileCompression> = new Map([
  ['gz', 'gzip'],
  ['gzip', 'gzip'],
  ['zst', 'zstd'],
  ['zstd', 'zstd'],
]);

const KNOWN_EXTENSIONS =
  '.csv, .tsv, .ndjson, .jsonl, .json, .parquet or .pq, optionally followed by .gz or .zst';

/** The extension of a file name, lower-cased; none for `name`, `.hidden` or `name.`. */
function extensionOf(name: string): { readonly stem: string; readonly extension: string | undefined } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return { stem: name, extension: undefined };
  return { stem: name.slice(0, dot), extension: name.slice(dot + 1).toLowerCase() };
}

export function formatOf(key: string, configured: ConfiguredFileFormat): ResolvedFileFormat {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const outer = extensionOf(name);
  const suffixCompression =
    outer.extension === undefined ? undefined : COMPRESSION_BY_EXTENSION.get(outer.extension);
  const inner = suffixCompression === undefined ? outer : extensionOf(outer.stem);
  const compression =
    configured.compression === undefined || configured.compression === 'auto'
      ? (suffixCompression ?? 'none')
      : configured.compression;
  const format =
    configured.format ??
    (inner.extension === undefined ? undefined : FORMAT_BY_EXTENSION.get(inner.extension));
  if (format === undefined) {
    throw new EtlError(
      'CONFIG_INVALID',
      `${key}: cannot tell the file format from its name (known: ${KNOWN_EXTENSIONS}); set source.format to one of ${FILE_FORMATS.join(', ')}`,
    );
  }
  if (format === 'parquet' && compression !== 'none') {
    if (configured.compression === compression) {
      throw new EtlError(
        'CONFIG_INVALID',
        `${key}: source.compression '${compression}' cannot apply to Parquet, which compresses inside the file; remove source.compression`,
      );
    }
    throw new EtlError(
      'SOURCE_DATA',
      `${key}: a Parquet file wrapped in ${compression} cannot be read (Parquet compresses inside the file); store it unwrapped or leave it out with source.pattern`,
    );
  }
  return { format, compression };
}
