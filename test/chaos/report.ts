/**
 * The chaos session's tallies and the final report text.
 *
 * A session passes only when rows lost, duplicated and wrong are all 0 and there were no other
 * problems: runs that failed without a fault (and without a reason to fail), runs that succeeded
 * though the spec says they must fail, hung runs, destinations that could not be read, harness
 * errors, runs whose own reconciliation verdict says `mismatch`, and `etld --once` exits that left
 * their run unfinished (the README promises that `--once` applies the retry policy).
 */
import { FAULT_KINDS, type FaultKind } from './fault-plan.js';

export interface FaultTally {
  injected: number;
  fired: number;
  unavailable: number;
}

export interface Problem {
  readonly pipeline: string;
  readonly step: number;
  readonly detail: string;
}

export interface Finding {
  readonly pipeline: string;
  readonly summary: string;
  readonly step: number;
  readonly fault: string;
  readonly outcome: string;
  readonly resolution: string;
  readonly lost: number;
  readonly duplicated: number;
  readonly wrong: number;
}

export interface SessionReport {
  readonly seed: number;
  /** Fleet mode (`--fleet`): part of the replay command. */
  readonly fleet: boolean;
  rounds: number;
  runs: number;
  /** Daemon restarts that recovered an unfinished run (daemon-recovery.ts). */
  recoveries: number;
  /** Fleet mode: recoveries by another host than the one the step ran on (all of them). */
  takeovers: number;
  /** …of which the taker started while the dead host's run lease was still live. */
  takeoversWhileLeaseLive: number;
  /** Fleet mode: steps whose host was paused (SIGSTOP) instead of killed, and woken afterwards. */
  pausedHosts: number;
  wallSeconds: number;
  readonly pipelines: { readonly name: string; readonly summary: string }[];
  readonly faults: Record<FaultKind, FaultTally>;
  rowsCompared: number;
  lost: number;
  duplicated: number;
  wrong: number;
  readonly findings: Finding[];
  /** The first mismatch of each pipeline, at most 20 lines each. */
  readonly diffs: string[][];
  readonly unexpectedFailures: Problem[];
  readonly mustFailViolations: Problem[];
  readonly verdictMismatches: Problem[];
  /** `etld --once` exited (not killed) while its run still waited for a retry: a restart finished it. */
  readonly onceUnfinished: Problem[];
  readonly hung: Problem[];
  readonly readErrors: Problem[];
  readonly harnessErrors: Problem[];
  /** Why a fault kind could not be applied (e.g. tmpfs), once per kind. */
  readonly unavailableReasons: Partial<Record<FaultKind, string>>;
  workDir: string;
}

export function emptyReport(
  seed: number,
  pipelines: SessionReport['pipelines'],
  workDir: string,
  fleet: boolean,
): SessionReport {
  const faults = Object.fromEntries(
    FAULT_KINDS.map((k) => [k, { injected: 0, fired: 0, unavailable: 0 }]),
  ) as Record<FaultKind, FaultTally>;
  return {
    seed,
    fleet,
    rounds: 0,
    runs: 0,
    recoveries: 0,
    takeovers: 0,
    takeoversWhileLeaseLive: 0,
    pausedHosts: 0,
    wallSeconds: 0,
    pipelines,
    faults,
    rowsCompared: 0,
    lost: 0,
    duplicated: 0,
    wrong: 0,
    findings: [],
    diffs: [],
    unexpectedFailures: [],
    mustFailViolations: [],
    verdictMismatches: [],
    onceUnfinished: [],
    hung: [],
    readErrors: [],
    harnessErrors: [],
    unavailableReasons: {},
    workDir,
  };
}

export function reportOk(report: SessionReport): boolean {
  return (
    report.lost + report.duplicated + report.wrong === 0 &&
    report.unexpectedFailures.length +
      report.mustFailViolations.length +
      report.verdictMismatches.length +
      report.onceUnfinished.length +
      report.hung.length +
      report.readErrors.length +
      report.harnessErrors.length ===
      0
  );
}

export function replayCommand(report: SessionReport): string {
  return `npm run chaos -- --seed ${report.seed} --steps ${report.rounds}${report.fleet ? ' --fleet' : ''}`;
}

/** Problems grouped per pipeline: count, steps and the first detail. */
function problemLines(title: string, problems: readonly Problem[]): string[] {
  if (problems.length === 0) return [];
  const byPipeline = new Map<string, Problem[]>();
  for (const p of problems) byPipeline.set(p.pipeline, [...(byPipeline.get(p.pipeline) ?? []), p]);
  const lines = [`${title}: ${problems.length}`];
  for (const [pipeline, list] of [...byPipeline].sort(([a], [b]) => a.localeCompare(b))) {
    const steps = list.map((p) => p.step).join(',');
    lines.push(`  ${pipeline} (steps ${steps}): ${list[0]?.detail ?? ''}`);
  }
  return lines;
}

function findingLines(report: SessionReport): string[] {
  if (report.findings.length === 0) return [];
  const byPipeline = new Map<string, Finding[]>();
  for (const f of report.findings) byPipeline.set(f.pipeline, [...(byPipeline.get(f.pipeline) ?? []), f]);
  const lines = ['mismatches by pipeline (step: fault → run outcome, resolution, lost/dup/wrong):'];
  for (const [pipeline, list] of [...byPipeline].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${pipeline} [${list[0]?.summary ?? ''}]`);
    for (const f of list.slice(0, 6)) {
      lines.push(
        `    step ${f.step}: ${f.fault} → ${f.outcome}, ${f.resolution}, lost ${f.lost} dup ${f.duplicated} wrong ${f.wrong}`,
      );
    }
    if (list.length > 6) lines.push(`    … ${list.length - 6} more steps`);
  }
  return lines;
}

export function formatReport(report: SessionReport): string {
  const ok = reportOk(report);
  const faults = FAULT_KINDS.map((k) => {
    const t = report.faults[k];
    return `${k} ${t.injected}/${t.fired}${t.unavailable > 0 ? ` (+${t.unavailable} unavailable)` : ''}`;
  }).join(', ');
  const lines = [
    `== etld chaos report: seed ${report.seed}${report.fleet ? ' (fleet)' : ''} ==`,
    `steps (rounds) ${report.rounds}, runs ${report.runs} (+${report.recoveries} restarts after a crash), pipelines ${report.pipelines.length}, wall ${report.wallSeconds.toFixed(1)} s`,
    `faults injected/fired: ${faults}`,
  ];
  if (report.fleet)
    lines.push(
      `fleet: 3 hosts per pipeline; takeovers by another host ${report.takeovers} (${report.takeoversWhileLeaseLive} started while the dead host's lease was live); hosts paused instead of killed and woken after the takeover ${report.pausedHosts}`,
    );
  for (const [kind, reason] of Object.entries(report.unavailableReasons))
    lines.push(`  fault ${kind} unavailable: ${reason}`);
  lines.push(
    `rows compared ${report.rowsCompared}; rows lost ${report.lost}, duplicated ${report.duplicated}, wrong ${report.wrong}`,
  );
  lines.push(
    ...problemLines('runs failed without a fault', report.unexpectedFailures),
    ...problemLines('runs succeeded though they must fail', report.mustFailViolations),
    ...problemLines('runs whose own verdict was mismatch', report.verdictMismatches),
    ...problemLines(
      'etld --once exits that left their run unfinished (retry pending)',
      report.onceUnfinished,
    ),
    ...problemLines('hung runs', report.hung),
    ...problemLines('destinations unreadable', report.readErrors),
    ...problemLines('harness errors', report.harnessErrors),
    ...findingLines(report),
  );
  for (const diff of report.diffs) lines.push(...diff);
  lines.push(
    ok
      ? 'result: PASS'
      : `result: FAIL — replay: ${replayCommand(report)}  (work dir kept: ${report.workDir})`,
  );
  return lines.join('\n');
}
