/**
 * Where a run's CPU goes, from the engine's own timings: process CPU (every thread) and main
 * thread CPU read at the edges of the attempt's phases. During the one-pass load, the main thread
 * runs the source protocol and writes the staging CSV (`extract`), and DuckDB's threads parse,
 * transform and encode it into destination files (`load`); `settle` is the work between the last
 * part and the commit (the watermark boundary, a merge), `commit` the destination's commit.
 */
export interface CpuReading {
  /** CPU seconds of the whole process so far. */
  readonly process: number;
  /** CPU seconds of the main (JavaScript) thread so far. */
  readonly mainThread: number;
}

export type CpuClock = () => CpuReading;

export const STAGES = ['prepare', 'extract', 'load', 'settle', 'commit'] as const;
export type Stage = (typeof STAGES)[number];
export type StageSeconds = Partial<Record<Stage, number>>;

type Phase = 'prepare' | 'stream' | 'settle' | 'commit';

export class StageClock {
  readonly #clock: CpuClock;
  readonly #seconds: StageSeconds = {};
  #phase: Phase = 'prepare';
  #since: CpuReading;

  constructor(clock: CpuClock) {
    this.#clock = clock;
    this.#since = clock();
  }

  /** Closes the current phase and starts `next`. */
  enter(next: Phase): void {
    const now = this.#clock();
    const process = now.process - this.#since.process;
    if (this.#phase === 'stream') {
      const main = now.mainThread - this.#since.mainThread;
      this.#add('extract', main);
      this.#add('load', process - main);
    } else {
      this.#add(this.#phase, process);
    }
    this.#phase = next;
    this.#since = now;
  }

  /** Seconds per stage so far (the running phase included), rounded to milliseconds. */
  snapshot(): StageSeconds {
    this.enter(this.#phase);
    return { ...this.#seconds };
  }

  #add(stage: Stage, seconds: number): void {
    const rounded = Math.round(Math.max(0, seconds) * 1000) / 1000;
    this.#seconds[stage] = Math.round(((this.#seconds[stage] ?? 0) + rounded) * 1000) / 1000;
  }
}

/** A clock that reads nothing (tests, and callers that pass none). */
export const NO_CPU_CLOCK: CpuClock = () => ({ process: 0, mainThread: 0 });
