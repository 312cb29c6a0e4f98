/**
 * A pipeline's file as the operator wrote it, for the console's `y`: the text on disk, not the
 * parsed config, so comments, anchors and the order of keys are what the reviewer sees. Pipeline
 * files hold no secrets (a literal `password:` is refused), but an invalid file may, and nothing
 * secret leaves the daemon: every line passes through the same masking as log lines.
 */
import { open } from 'node:fs/promises';
import { EtlError } from '../../shared/errors.js';
import type { PipelineFile } from '../../shared/protocol.js';
import { redact } from '../logging/redact.js';

/** Pipeline files are a few kilobytes; a bound keeps one reply well inside a client's frame limits. */
export const MAX_PIPELINE_FILE_BYTES = 256 * 1024;

export async function readPipelineFile(pipeline: string, file: string): Promise<PipelineFile> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new EtlError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'CONFIG_INVALID',
      `cannot read ${file} of pipeline ${pipeline} (${code})${code === 'ENOENT' ? '; it was removed since the last reload' : ''}`,
      { cause: error },
    );
  }
  try {
    const stat = await handle.stat();
    const buffer = Buffer.alloc(Math.min(stat.size, MAX_PIPELINE_FILE_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    // A multi-byte character cut at the bound decodes as U+FFFD, which is honest about the cut.
    const raw = buffer.subarray(0, bytesRead).toString('utf8');
    const text = raw
      .split('\n')
      .map((line) => redact(line))
      .join('\n');
    return {
      pipeline,
      file,
      text,
      bytes: stat.size,
      modified_at: stat.mtime.toISOString(),
      truncated: stat.size > bytesRead,
      masked: text !== raw,
    };
  } finally {
    await handle.close();
  }
}
