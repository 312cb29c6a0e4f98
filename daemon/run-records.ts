import type { RunDetail, RunPart, RunRecord } from '../shared/protocol.js';
import type { RunPartRow, RunRow } from './state/store.js';

/** State-store rows → the wire's snake_case records (SPEC §11 `--json` contract). */
export function toRunRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    pipeline: row.pipeline,
    status: row.status,
    trigger: row.trigger,
    attempt: row.attempt,
    sequence: row.sequence,
    started_at: row.startedAt,
    finished_at: row.finishedAt,
    rows_extracted: row.rowsExtracted,
    rows_loaded: row.rowsLoaded,
    bytes: row.bytes,
    verdict: row.verdict,
    error: row.errorCode === null ? null : { code: row.errorCode, message: row.errorMessage ?? '' },
  };
}

export function toRunPart(row: RunPartRow): RunPart {
  const seconds =
    row.startedAt === null ? 0 : ((row.finishedAt === null ? Date.now() : Date.parse(row.finishedAt)) - Date.parse(row.startedAt)) / 1000;
  return {
    id: row.partId,
    shard: row.shard,
    chunk: row.chunk,
    status: row.status,
    rows: row.rows,
    bytes: row.bytes,
    rows_per_s: seconds > 0 ? row.rows / seconds : 0,
    estimated_rows: row.estimatedRows,
    error: row.errorCode === null ? null : { code: row.errorCode, message: row.errorMessage ?? '' },
  };
}

interface PlannedRange {
  readonly from?: string | null;
  readonly to?: string | null;
}

/** The watermark range an attempt planned, summarised across shards for display. */
function plannedRange(planJson: string | null): { from: string | null; to: string | null } {
  if (planJson === null) return { from: null, to: null };
  try {
    const parsed = JSON.parse(planJson) as { watermarkFrom?: string | null; watermarkTo?: string | null; shards?: Record<string, PlannedRange> };
    if (parsed.watermarkFrom !== undefined || parsed.watermarkTo !== undefined) {
      return { from: parsed.watermarkFrom ?? null, to: parsed.watermarkTo ?? null };
    }
    const shards = Object.values(parsed.shards ?? {});
    const froms = shards.map((s) => s.from).filter((v): v is string => typeof v === 'string').sort();
    const tos = shards.map((s) => s.to).filter((v): v is string => typeof v === 'string').sort();
    return { from: froms[0] ?? null, to: tos.at(-1) ?? null };
  } catch {
    return { from: null, to: null };
  }
}

export function toRunDetail(row: RunRow, parts: readonly RunPartRow[]): RunDetail {
  const range = plannedRange(row.planJson);
  return { ...toRunRecord(row), parts: parts.map(toRunPart), watermark_from: range.from, watermark_to: range.to };
}
