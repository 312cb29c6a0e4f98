/**
 * Runs one case `repeat` times and checks every run: a command must exit 0, what it wrote must
 * hold exactly the table's rows (a tool that writes nothing, or half, must not look fast), and an
 * etld run must be recorded as succeeded with every row loaded. A failed check fails the case; a
 * case with a fallback (Sling Parquet → CSV) is then measured as its fallback, with a note.
 */
import { rmSync } from 'node:fs';
import type { BenchCase } from './cases.js';
import { measure, median, type Measurement } from './measure.js';
import type { CaseResult } from './report.js';
import { readNewestRun, type Stages } from './run-record.js';
import { groupThreads, threadNames } from './threads.js';

export interface RunContext {
  readonly rows: number;
  readonly repeat: number;
  readonly tableMb: number;
  /** Environment of every command (the bench's own, plus each case's). */
  readonly env: NodeJS.ProcessEnv;
  /** etld's home, where its state store is. */
  readonly etldHome: string;
  /** Counts the rows a tool wrote; null when the peers' virtualenv is not there. */
  readonly countRows: ((path: string) => Promise<number | string>) | null;
  readonly log: (text: string) => void;
}

interface RunOutcome {
  readonly measurement: Measurement;
  readonly error: string | null;
  readonly stages: Stages | null;
}

export async function runCase(benchCase: BenchCase, ctx: RunContext): Promise<CaseResult> {
  const outcomes: RunOutcome[] = [];
  for (let i = 0; i < ctx.repeat; i++) {
    ctx.log(`${benchCase.case} [${benchCase.tool}] run ${i + 1}/${ctx.repeat}… `);
    const outcome = await runOnce(benchCase, ctx);
    if (outcome.error !== null) {
      ctx.log(`failed: ${outcome.error}\n`);
      if (i === 0 && benchCase.fallback !== undefined) {
        const fallback = await runCase(benchCase.fallback, ctx);
        const note = `${benchCase.tool} ${benchCase.case} failed (${outcome.error}); measured ${benchCase.fallback.tool} instead`;
        return { ...fallback, note: fallback.note === null ? note : `${note}; ${fallback.note}` };
      }
      return failedResult(benchCase, ctx, outcome.error, outcomes);
    }
    const m = outcome.measurement;
    ctx.log(`${m.seconds.toFixed(2)} s, ${m.cpuSeconds.toFixed(1)} CPU s, ${m.peakRssMb.toFixed(0)} MB\n`);
    outcomes.push(outcome);
  }
  return summarise(benchCase, ctx, outcomes);
}

/**
 * Runs a case and its twin with checks alternately, run by run: on a shared machine the load
 * drifts over minutes, and two cases measured one after the other would compare two different
 * machines; alternating puts the drift into both. Either failing fails that case only (its twin
 * still gets its runs).
 */
export async function runTwins(
  unchecked: BenchCase,
  checked: BenchCase,
  ctx: RunContext,
): Promise<[CaseResult, CaseResult]> {
  const twins = [unchecked, checked] as const;
  const outcomes: [RunOutcome[], RunOutcome[]] = [[], []];
  const failed: [string | null, string | null] = [null, null];
  for (let i = 0; i < ctx.repeat; i++) {
    for (const side of [0, 1] as const) {
      if (failed[side] !== null) continue;
      const benchCase = twins[side];
      ctx.log(`${benchCase.case} [${benchCase.tool}] run ${i + 1}/${ctx.repeat}… `);
      const outcome = await runOnce(benchCase, ctx);
      if (outcome.error !== null) {
        ctx.log(`failed: ${outcome.error}\n`);
        failed[side] = outcome.error;
        continue;
      }
      const m = outcome.measurement;
      ctx.log(`${m.seconds.toFixed(2)} s, ${m.cpuSeconds.toFixed(1)} CPU s, ${m.peakRssMb.toFixed(0)} MB\n`);
      outcomes[side].push(outcome);
    }
  }
  const result = (side: 0 | 1): CaseResult => {
    const error = failed[side];
    return error === null
      ? summarise(twins[side], ctx, outcomes[side])
      : failedResult(twins[side], ctx, error, outcomes[side]);
  };
  return [result(0), result(1)];
}

function summarise(benchCase: BenchCase, ctx: RunContext, outcomes: readonly RunOutcome[]): CaseResult {
  const seconds = outcomes.map((o) => o.measurement.seconds);
  // Threads and stages come from one run, the median one by wall time, so they add up.
  const byTime = [...outcomes].sort((a, b) => a.measurement.seconds - b.measurement.seconds);
  const middle = byTime[Math.floor((byTime.length - 1) / 2)];
  const threads = middle?.measurement.threads ?? null;
  const poolSize = Number(benchCase.env.UV_THREADPOOL_SIZE ?? ctx.env.UV_THREADPOOL_SIZE ?? 4) || 4;
  return {
    ...identity(benchCase, ctx),
    seconds: median(seconds),
    allSeconds: seconds,
    cpuSeconds: median(outcomes.map((o) => o.measurement.cpuSeconds)),
    peakRssMb: Math.max(...outcomes.map((o) => o.measurement.peakRssMb)),
    error: null,
    note: null,
    stages: middle?.stages ?? null,
    medianRunCpuSeconds: middle?.measurement.cpuSeconds ?? Number.NaN,
    threads: threads === null ? null : groupThreads(threads, poolSize),
    threadNames: threads === null ? null : threadNames(threads),
    threadDetail: threads,
  };
}

async function runOnce(benchCase: BenchCase, ctx: RunContext): Promise<RunOutcome> {
  if (benchCase.output?.removeBeforeRun === true) {
    rmSync(benchCase.output.path, { recursive: true, force: true });
  }
  const measurement = await measure(
    benchCase.command,
    benchCase.args,
    { ...ctx.env, ...benchCase.env },
    { sampleThreads: benchCase.kind === 'etld' },
  );
  if (measurement.exitCode !== 0) {
    const reason = measurement.output.trim().split('\n').slice(-3).join(' | ');
    return { measurement, error: `exit ${measurement.exitCode}: ${reason}`, stages: null };
  }
  let stages: Stages | null = null;
  if (benchCase.pipeline !== undefined) {
    const record = readNewestRun(ctx.etldHome, benchCase.pipeline);
    if (record === undefined) return { measurement, error: 'no run recorded in the state store', stages };
    if (record.status !== 'succeeded' || record.rowsLoaded !== ctx.rows) {
      return {
        measurement,
        error: `run ${record.status}, ${record.rowsLoaded} of ${ctx.rows} rows loaded`,
        stages,
      };
    }
    stages = record.stages;
  }
  if (benchCase.output !== undefined && ctx.countRows !== null) {
    const count = await ctx.countRows(benchCase.output.path);
    if (count !== ctx.rows) {
      const what =
        typeof count === 'number'
          ? `wrote ${count.toLocaleString('en-US')} of ${ctx.rows.toLocaleString('en-US')} rows`
          : `output unreadable (${count})`;
      return { measurement, error: what, stages };
    }
  }
  return { measurement, error: null, stages };
}

function identity(
  benchCase: BenchCase,
  ctx: RunContext,
): Pick<CaseResult, 'case' | 'tool' | 'kind' | 'rows' | 'mb' | 'comparesWith' | 'uncheckedCase'> {
  return {
    case: benchCase.case,
    tool: benchCase.tool,
    kind: benchCase.kind,
    rows: ctx.rows,
    mb: ctx.tableMb,
    comparesWith: benchCase.comparesWith ?? null,
    uncheckedCase: benchCase.uncheckedCase ?? null,
  };
}

function failedResult(
  benchCase: BenchCase,
  ctx: RunContext,
  error: string,
  before: readonly RunOutcome[],
): CaseResult {
  return {
    ...identity(benchCase, ctx),
    seconds: Number.NaN,
    allSeconds: before.map((o) => o.measurement.seconds),
    cpuSeconds: Number.NaN,
    peakRssMb: Number.NaN,
    error,
    note: null,
    stages: null,
    medianRunCpuSeconds: Number.NaN,
    threads: null,
    threadNames: null,
    threadDetail: null,
  };
}
