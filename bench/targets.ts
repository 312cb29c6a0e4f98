/**
 * The performance issue's targets, checked against one bench run. A target is reported as met
 * (ok), missed, or not checkable (ok null: a case failed or did not run); the bench reports and
 * never fails because a target is missed.
 */
import type { CheckCost, ChecksReport } from './check-cost.js';
import type { IdleResult } from './idle.js';
import { fmt, signedPct } from './markdown.js';
import { baselineFor, ratioToBaseline, rowsPerSecond, type CaseResult } from './report.js';

export interface TargetCheck {
  readonly ok: boolean | null;
  readonly text: string;
}

const RSS_LIMIT_MB = 250;
const IDLE_LIMIT_MB = 70;

function find(results: readonly CaseResult[], caseName: string, tool = 'etld'): CaseResult | undefined {
  return results.find((r) => r.case === caseName && r.tool === tool);
}

function notCheckable(what: string, result: CaseResult | undefined): TargetCheck {
  return {
    ok: null,
    text: `${what}: ${result?.error !== null && result !== undefined ? `failed (${result.error})` : 'not run'}`,
  };
}

function ratioTarget(results: readonly CaseResult[], caseName: string, minimum: number): TargetCheck {
  const r = find(results, caseName);
  const what = `${caseName} ≥ ${minimum}× its baseline`;
  if (r === undefined || r.error !== null) return notCheckable(what, r);
  const baseline = baselineFor(r, results);
  if (baseline === undefined) return { ok: null, text: `${what}: the baseline failed or did not run` };
  const ratio = ratioToBaseline(r, results);
  return {
    ok: ratio >= minimum,
    text: `${what}: ${fmt(ratio, 2)}× (${fmt(rowsPerSecond(r))} vs ${baseline.tool} ${fmt(rowsPerSecond(baseline))} rows/s)`,
  };
}

function checkCostTarget(cost: CheckCost, targetPct: number): TargetCheck {
  const what = `checks cost < ${targetPct} % of the run's time on ${cost.unchecked?.case ?? cost.checked.case}`;
  if (cost.checked.error !== null || cost.unchecked?.error !== null)
    return notCheckable(what, cost.checked.error !== null ? cost.checked : cost.unchecked);
  return {
    ok: cost.ok,
    text: `${what}: ${signedPct(cost.pct)} (median wall ${fmt(cost.checked.seconds, 2)} vs ${fmt(cost.unchecked.seconds, 2)} s; fastest runs ${signedPct(cost.fastestPct)})`,
  };
}

export function checkTargets(
  results: readonly CaseResult[],
  idle: IdleResult | null,
  quality: ChecksReport | null,
): TargetCheck[] {
  const checks: TargetCheck[] = [
    ratioTarget(results, 'postgres → delta', 0.6),
    ratioTarget(results, 'mysql → delta', 0.5),
  ];

  const plain = find(results, 'postgres → delta');
  const p2 = find(results, 'postgres → delta chunked p2');
  const chunked = 'postgres → delta chunked p2 faster than unchunked';
  if (plain === undefined || plain.error !== null) checks.push(notCheckable(chunked, plain));
  else if (p2 === undefined || p2.error !== null) checks.push(notCheckable(chunked, p2));
  else
    checks.push({
      ok: rowsPerSecond(p2) > rowsPerSecond(plain),
      text: `${chunked}: ${fmt(rowsPerSecond(p2))} vs ${fmt(rowsPerSecond(plain))} rows/s (${fmt(rowsPerSecond(p2) / rowsPerSecond(plain), 2)}×)`,
    });

  const etld = results.filter((r) => r.kind === 'etld');
  const measured = etld.filter((r) => r.error === null);
  if (measured.length === 0)
    checks.push({
      ok: null,
      text: `peak RSS ≤ ${RSS_LIMIT_MB} MB in every etld case: no etld case succeeded`,
    });
  else {
    const over = measured.filter((r) => r.peakRssMb > RSS_LIMIT_MB);
    const worst = measured.reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a));
    const failed = etld.length - measured.length;
    checks.push({
      ok: over.length === 0,
      text:
        `peak RSS ≤ ${RSS_LIMIT_MB} MB in every etld case: ` +
        (over.length === 0
          ? `highest ${fmt(worst.peakRssMb)} MB (${worst.case})`
          : over.map((r) => `${r.case} ${fmt(r.peakRssMb)} MB`).join(', ')) +
        (failed > 0 ? ` (${failed} case(s) failed, not counted)` : ''),
    });
  }

  const idleWhat = `idle daemon ≤ ${IDLE_LIMIT_MB} MB`;
  if (idle === null || !Number.isFinite(idle.windowMaxRssMb))
    checks.push({ ok: null, text: `${idleWhat}: ${idle?.error ?? 'not run'}` });
  else
    checks.push({
      ok: idle.windowMaxRssMb <= IDLE_LIMIT_MB,
      text: `${idleWhat} (highest RSS while idle, ${idle.pipelines} pipelines): ${fmt(idle.windowMaxRssMb)} MB (steady ${fmt(idle.steadyRssMb)} MB, peak since start ${fmt(idle.peakRssMb)} MB)`,
    });

  if (quality !== null)
    for (const cost of quality.costs) checks.push(checkCostTarget(cost, quality.targetPct));

  for (const peer of results.filter((r) => r.kind === 'peer' && r.comparesWith !== null)) {
    const target = peer.comparesWith ?? '';
    const what = `etld ahead of ${peer.tool} on ${peer.case}`;
    const mine = find(results, target);
    if (mine === undefined || mine.error !== null)
      checks.push(notCheckable(`${what} (etld ${target})`, mine));
    else if (peer.error !== null) checks.push({ ok: null, text: `${what}: the peer failed (${peer.error})` });
    else
      checks.push({
        ok: rowsPerSecond(mine) > rowsPerSecond(peer),
        text: `${what}: etld ${target} ${fmt(rowsPerSecond(mine))} vs ${fmt(rowsPerSecond(peer))} rows/s (${fmt(rowsPerSecond(mine) / rowsPerSecond(peer), 2)}×)`,
      });
  }
  return checks;
}
