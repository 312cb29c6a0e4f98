/**
 * The sections of `etlctl plan` that only some pipelines answer: the files the next run of a
 * files source loads, and what a BigQuery destination would bill for the load.
 *
 * Decisions:
 * - The files section names the plan's sample (the first keys, in load order) and leaves the
 *   per-file parts out: a run can take hundreds of files, and `--json` has every one.
 * - A truncated plan says that more files wait, not how many: the daemon stops listing once the
 *   run is full, so it does not know.
 * - Money shows as `~$X.XX`; an estimate above zero but under half a cent is `< $0.01`, so a
 *   query that bills something never reads as free.
 */
import type { Plan } from '../../shared/protocol.js';
import { formatBytes } from '../../shared/format-bytes.js';
import { formatCount, type Style } from './format.js';

type PlanFiles = NonNullable<Plan['files']>;
type PlanCost = NonNullable<Plan['cost']>;

function counted(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function rowsText(files: PlanFiles): string {
  return files.rows_exact
    ? `${counted(files.estimated_rows, 'row')} (counted)`
    : `~${counted(files.estimated_rows, 'row')} (estimated from the first files, scaled by size)`;
}

export function renderPlanFiles(files: PlanFiles, style: Style): string {
  const head =
    files.count === 0
      ? 'no new file to load'
      : `${counted(files.count, 'file')}, ${formatBytes(files.bytes)}, ${rowsText(files)}`;
  const lines = [`${style.bold('files')}: ${head}`, ...files.sample.map((name) => `  ${name}`)];
  if (files.count > files.sample.length)
    lines.push(`  … ${formatCount(files.count - files.sample.length)} more`);
  if (files.truncated)
    lines.push(style.yellow('  + more files wait for the next runs (source.max_files_per_run reached)'));
  lines.push(
    `  listed ${formatCount(files.listed)}, matched ${formatCount(files.matched)}, ` +
      `already loaded ${formatCount(files.already_loaded)}, would quarantine ${formatCount(files.quarantined)}`,
  );
  return `${lines.join('\n')}\n`;
}

function money(usd: number): string {
  return usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** A price as configured: two decimals, more when it has them (6.125 stays 6.125). */
function price(perTib: number): string {
  return perTib.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 6 });
}

export function renderPlanCost(cost: PlanCost, style: Style): string {
  const usd =
    cost.estimated_usd > 0 && cost.estimated_usd < 0.005 ? '< $0.01' : `~$${money(cost.estimated_usd)}`;
  const queries = cost.query_bytes === 0 ? 'none' : `~${formatBytes(cost.query_bytes)}`;
  return (
    `${style.bold('cost (BigQuery)')}: load ${formatBytes(cost.load_bytes)} (not billed), ` +
    `queries ${queries}, ${usd} at $${price(cost.price_per_tib)}/TiB\n  ${cost.detail}\n`
  );
}
