/**
 * The canonical column types every source maps into and every destination maps out of.
 * Precision is carried, never rounded: decimals keep (precision, scale), int64 values travel as text.
 */
export type CanonicalType =
  | { readonly kind: 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'bool' }
  | { readonly kind: 'text' | 'bytes' | 'date' | 'time' | 'timestamp' | 'timestamptz' | 'json' | 'uuid' }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number };

export type CanonicalKind = CanonicalType['kind'];

export interface ColumnSchema {
  readonly name: string;
  readonly type: CanonicalType;
  readonly nullable: boolean;
  /** The source database's own type name, for messages and `plan`. */
  readonly sourceType?: string;
}

export const RUN_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
  'retrying',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const PIPELINE_STATES = [
  'idle',
  'running',
  'retrying',
  'paused',
  'failed',
  'invalid',
  'waiting',
] as const;
/** `waiting`: a run is queued behind the per-source governor or an overlap policy. */
export type PipelineState = (typeof PIPELINE_STATES)[number];

/** Whether a pipeline runs what its file says (PipelineSummary.file_status in protocol.ts). */
export const FILE_STATUSES = ['ok', 'last_good', 'invalid'] as const;

/** What an alert is about; channels may take a subset (`kinds`), the alert listing names it. */
export const ALERT_KINDS = [
  'failure',
  'recovery',
  'stall',
  'low_disk',
  'stale',
  'fresh',
  'checks',
  'maintenance',
  'files_quarantined',
  /** Fleet mode: the shared state store does not answer this host, or answers again. */
  'state_store',
] as const;

export const RUN_TRIGGERS = ['schedule', 'manual', 'retry', 'catchup', 'startup-recovery'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/**
 * What a run loads: `normal` (what the schedule runs), `full_refresh` (everything again, replacing
 * the destination's content in one commit) or `backfill` (a bounded re-read of a cursor range the
 * pipeline has already passed). A run keeps its kind across its retries.
 */
export const RUN_KINDS = ['normal', 'full_refresh', 'backfill'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** A backfill's cursor range `[from, to)`, in the cursor's canonical text; `shard` null: every shard. */
export interface BackfillRange {
  readonly from: string;
  readonly to: string;
  readonly shard: string | null;
}

/** A run's kind with what it needs: the range of a backfill. */
export type RunKindSpec =
  | { readonly kind: 'normal' }
  | { readonly kind: 'full_refresh' }
  | { readonly kind: 'backfill'; readonly range: BackfillRange };

export function typeToString(type: CanonicalType): string {
  return type.kind === 'decimal' ? `decimal(${type.precision},${type.scale})` : type.kind;
}

const TYPE_ALIASES: Record<string, CanonicalKind> = {
  int16: 'int16',
  smallint: 'int16',
  int32: 'int32',
  int: 'int32',
  integer: 'int32',
  int64: 'int64',
  bigint: 'int64',
  float32: 'float32',
  real: 'float32',
  float: 'float64',
  float64: 'float64',
  double: 'float64',
  bool: 'bool',
  boolean: 'bool',
  text: 'text',
  string: 'text',
  varchar: 'text',
  bytes: 'bytes',
  binary: 'bytes',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  datetime: 'timestamp',
  timestamptz: 'timestamptz',
  json: 'json',
  uuid: 'uuid',
};

/** Parses a type name written in a pipeline file (`decimal(18,2)`, `bigint`, `timestamptz`…). */
export function parseTypeName(text: string): CanonicalType | undefined {
  const normalized = text.trim().toLowerCase();
  const decimal = /^(?:decimal|numeric)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/.exec(normalized);
  if (decimal) {
    const precision = Number(decimal[1]);
    const scale = Number(decimal[2] ?? '0');
    if (precision < 1 || precision > 38 || scale > precision) return undefined;
    return { kind: 'decimal', precision, scale };
  }
  const kind = TYPE_ALIASES[normalized];
  if (kind === undefined || kind === 'decimal') return undefined;
  return { kind };
}

export const TYPE_NAME_HINT =
  'int16 | int32 | int64 | float32 | float64 | bool | text | bytes | date | time | timestamp | timestamptz | json | uuid | decimal(p,s)';
