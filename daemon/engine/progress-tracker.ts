/**
 * Per-part progress of one run: rows, bytes and rows/s per shard/chunk for `onProgress` (about
 * every 250 ms) and the state store's part rows (written at part start and end).
 */
import type { ErrorCode } from '../../shared/errors.js';
import type { RunPart } from '../../shared/protocol.js';
import type { ProgressSnapshot } from './engine.js';
import type { RunPartRow, StateStore } from '../state/store.js';

interface PartState {
  readonly id: string;
  readonly shard: string | null;
  readonly chunk: number | null;
  readonly estimatedRows: number | null;
  status: RunPartRow['status'];
  rows: number;
  bytes: number;
  startedMs: number | null;
  finishedMs: number | null;
  error: { code: ErrorCode; message: string } | null;
}

export class ProgressTracker {
  readonly #runId: string;
  readonly #store: StateStore | null;
  readonly #now: () => Date;
  readonly #parts = new Map<string, PartState>();
  #phase: ProgressSnapshot['phase'] = 'planning';
  #startedMs: number;

  constructor(runId: string, store: StateStore | null, now: () => Date) {
    this.#runId = runId;
    this.#store = store;
    this.#now = now;
    this.#startedMs = now().getTime();
  }

  set phase(phase: ProgressSnapshot['phase']) {
    this.#phase = phase;
  }

  addPart(id: string, shard: string | null, chunk: number | null, estimatedRows: number | null): void {
    const part: PartState = {
      id,
      shard,
      chunk,
      estimatedRows,
      status: 'pending',
      rows: 0,
      bytes: 0,
      startedMs: null,
      finishedMs: null,
      error: null,
    };
    this.#parts.set(id, part);
    this.#persist(part);
  }

  start(id: string): void {
    const part = this.#parts.get(id);
    if (part === undefined) return;
    part.status = 'running';
    part.startedMs = this.#now().getTime();
    this.#persist(part);
  }

  update(id: string, rows: number, bytes: number): void {
    const part = this.#parts.get(id);
    if (part === undefined) return;
    part.rows = rows;
    part.bytes = bytes;
  }

  finish(
    id: string,
    status: 'done' | 'failed' | 'cancelled',
    error?: { code: ErrorCode; message: string },
  ): void {
    const part = this.#parts.get(id);
    if (part === undefined) return;
    part.status = status;
    part.finishedMs = this.#now().getTime();
    part.error = error ?? null;
    this.#persist(part);
  }

  /** Parts never started are cancelled when the run stops early. */
  cancelPending(): void {
    for (const part of this.#parts.values()) if (part.status === 'pending') this.finish(part.id, 'cancelled');
  }

  get rows(): number {
    let total = 0;
    for (const part of this.#parts.values()) total += part.rows;
    return total;
  }

  get bytes(): number {
    let total = 0;
    for (const part of this.#parts.values()) total += part.bytes;
    return total;
  }

  parts(): RunPart[] {
    const nowMs = this.#now().getTime();
    return [...this.#parts.values()].map((p) => ({
      id: p.id,
      shard: p.shard,
      chunk: p.chunk,
      status: p.status,
      rows: p.rows,
      bytes: p.bytes,
      rows_per_s: rate(p.rows, p.startedMs, p.finishedMs ?? nowMs),
      estimated_rows: p.estimatedRows,
      error: p.error,
    }));
  }

  snapshot(): ProgressSnapshot {
    const parts = this.parts();
    const rows = this.rows;
    return {
      phase: this.#phase,
      rows,
      bytes: this.bytes,
      rowsPerSecond: rate(rows, this.#startedMs, this.#now().getTime()),
      parts,
    };
  }

  /** Calls `emit` every `intervalMs` until the returned function is called (which emits once more). */
  startTicker(emit: (snapshot: ProgressSnapshot) => void, intervalMs = 250): () => void {
    const timer = setInterval(() => emit(this.snapshot()), intervalMs);
    return () => {
      clearInterval(timer);
      emit(this.snapshot());
    };
  }

  #persist(part: PartState): void {
    if (this.#store === null) return;
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    this.#store.upsertPart({
      runId: this.#runId,
      partId: part.id,
      shard: part.shard,
      chunk: part.chunk,
      status: part.status,
      rows: part.rows,
      bytes: part.bytes,
      estimatedRows: part.estimatedRows,
      errorCode: part.error?.code ?? null,
      errorMessage: part.error?.message ?? null,
      startedAt: iso(part.startedMs),
      finishedAt: iso(part.finishedMs),
    });
  }
}

function rate(rows: number, fromMs: number | null, toMs: number): number {
  if (fromMs === null) return 0;
  const seconds = (toMs - fromMs) / 1000;
  return seconds <= 0 ? 0 : Math.round(rows / seconds);
}
