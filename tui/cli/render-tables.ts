/**
 * Multi-table pipelines in etlctl: the `tables` block of `etlctl plan`, and the tables of one run
 * (`etlctl tables`, the end of `etlctl status`).
 *
 * Decisions:
 * - A plan's summary table comes first, so a pipeline of forty tables reads at a glance; each
 *   table's own plan follows under a heading, rendered as a single-table plan is.
 * - A table's row count sums the estimates of its parts; a plan whose parts have no estimate
 *   shows `-` rather than 0, which would read as "nothing to load".
 * - Errors show their code and first line only: `etlctl history P --table T` and `etlctl run`
 *   have the whole message, and one table per line keeps the view scannable.
 */
import type { Plan } from '../../shared/protocol.js';
import type { RunTable, RunTables } from '../../shared/protocol-tables.js';
import { colorStatus, formatCount, renderTable, type Style } from './format.js';

export type PlanTable = NonNullable<Plan['tables']>[number];
type SinglePlan = NonNullable<PlanTable['plan']>;

/** The rows a table's plan expects: its files', else the sum of its parts' estimates (null: none). */
export function planRows(plan: SinglePlan): number | null {
  if (plan.files !== undefined) return plan.files.estimated_rows;
  const estimates = plan.parts.map((p) => p.estimated_rows).filter((n): n is number => n !== null);
  return estimates.length === 0 ? null : estimates.reduce((a, b) => a + b, 0);
}

function planMode(table: PlanTable, style: Style): string {
  if (table.plan !== null) return table.plan.mode;
  return table.problem === null ? style.dim('not planned') : style.red('refused');
}

/** The summary table of a multi-table plan: one line per selected table. */
export function renderPlanTablesSummary(tables: readonly PlanTable[], style: Style): string {
  const rows = tables.map((t) => {
    const rows = t.plan === null ? null : planRows(t.plan);
    return [
      t.table,
      t.destination,
      planMode(t, style),
      rows === null ? '-' : `~${formatCount(rows)}`,
      t.new ? style.cyan('new') : '-',
    ];
  });
  return renderTable(['TABLE', 'DESTINATION', 'MODE', 'EST. ROWS', 'NEW'], rows, style);
}

/** `3 tables: 1 new, 1 refused`. */
export function planTablesTally(tables: readonly PlanTable[]): string {
  const refused = tables.filter((t) => t.plan === null && t.problem !== null).length;
  const fresh = tables.filter((t) => t.new).length;
  const parts = [...(fresh > 0 ? [`${fresh} new`] : []), ...(refused > 0 ? [`${refused} refused`] : [])];
  const count = `${tables.length} table${tables.length === 1 ? '' : 's'}`;
  return parts.length === 0 ? count : `${count}: ${parts.join(', ')}`;
}

/**
 * The tables block of a multi-table plan: the summary, then each table under a heading with its
 * own plan (`single` renders one, so this file need not know how) or why it was refused.
 */
export function renderPlanTables(
  tables: readonly PlanTable[],
  style: Style,
  single: (plan: SinglePlan, style: Style) => string,
): string {
  if (tables.length === 0) return 'no table matches source.tables\n';
  let out = renderPlanTablesSummary(tables, style);
  for (const t of tables) {
    out += `\n${style.bold(`── ${t.table} → ${t.destination}`)}${t.new ? ` ${style.cyan('(new)')}` : ''}\n`;
    out += style.dim(`state name ${t.state_name}`) + '\n';
    if (t.plan !== null) out += single(t.plan, style);
    else if (t.problem !== null) out += `${style.red(`refused: ${t.problem}`)}\n`;
    else out += `${style.dim('not planned')}\n`;
  }
  return out;
}

function tableStatus(status: RunTable['status'], style: Style): string {
  switch (status) {
    case 'refused':
      return style.red(status);
    case 'pending':
    case 'gone':
      return style.dim(status);
    default:
      return colorStatus(status, style);
  }
}

function verdictText(verdict: RunTable['verdict'], style: Style): string {
  if (verdict === null) return '-';
  if (verdict === 'mismatch') return style.red(verdict);
  return verdict === 'match' ? style.green(verdict) : verdict;
}

/** `CODE: the first line of the message`, or empty when the table has no error. */
export function tableErrorText(error: RunTable['error']): string {
  if (error === null) return '';
  const first = error.message.split('\n')[0] ?? '';
  return first === '' ? error.code : `${error.code}: ${first}`;
}

/** `5 tables: 3 succeeded, 1 failed, 1 running` (statuses in a fixed order). */
export function runTablesTally(tables: readonly RunTable[]): string {
  const counts = new Map<string, number>();
  for (const t of tables) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  const order: readonly RunTable['status'][] = [
    'succeeded',
    'failed',
    'refused',
    'running',
    'pending',
    'cancelled',
    'gone',
  ];
  const parts = order.filter((s) => counts.has(s)).map((s) => `${counts.get(s) ?? 0} ${s}`);
  return `${tables.length} table${tables.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/** The table of the tables of one run: status, attempts, rows loaded, verdict, error. */
export function renderRunTablesTable(tables: readonly RunTable[], style: Style): string {
  const rows = tables.map((t) => [
    t.table,
    tableStatus(t.status, style),
    t.sequence === null ? '-' : String(t.sequence),
    String(t.attempts),
    formatCount(t.rows_loaded),
    verdictText(t.verdict, style),
    t.error === null ? '' : style.red(tableErrorText(t.error)),
  ]);
  return renderTable(['TABLE', 'STATUS', 'SEQ', 'ATTEMPTS', 'ROWS', 'VERDICT', 'ERROR'], rows, style);
}

/** True when the answer of `tables` is about a multi-table run (else the pipeline has one table). */
export function hasRunTables(result: RunTables): boolean {
  return result.sequence !== null && result.tables.length > 0;
}

/** `etlctl tables P [--run SEQ]`: which run, a tally, then the table. */
export function renderRunTables(result: RunTables, style: Style): string {
  if (!hasRunTables(result))
    return `${result.pipeline} has no multi-table run (a pipeline with source.tables lists its tables here once it ran)\n`;
  return `${style.bold(`${result.pipeline} run ${result.sequence ?? '?'}`)}: ${runTablesTally(result.tables)}\n${renderRunTablesTable(result.tables, style)}`;
}

/** The part `etlctl status` appends for a multi-table pipeline (empty for a single-table one). */
export function renderStatusTables(result: RunTables, style: Style): string {
  if (!hasRunTables(result)) return '';
  return `\ntables of run ${result.sequence ?? '?'} (${runTablesTally(result.tables)}):\n${renderRunTablesTable(result.tables, style)}`;
}
