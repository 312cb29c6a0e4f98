/**
 * Matches what a destination holds against an expectation, and classifies the difference.
 *
 * An expectation is a list of slots. A slot stands for one row the destination must hold
 * (`required`) or may hold (`optional`), and lists the renderings it accepts (usually one; a
 * merge identity whose newest version may legitimately be deferred accepts its old version too).
 * Required slots are matched first, then optional ones; every destination row fills at most one slot.
 *
 * Classification pairs unmatched slots and unmatched rows by identity (key + `_etl_shard`, or the
 * whole row for keyless tables): a pair is a row with wrong values; an unmatched slot alone is a
 * lost row; an unmatched row alone is a duplicated (or unexpected) row.
 */
import type { NormalRow } from '../conformance/normalise.js';
import { rowText } from '../conformance/normalise.js';

export interface Slot {
  readonly alternatives: readonly string[];
  readonly required: boolean;
}

export interface MatchResult {
  readonly missing: readonly Slot[];
  readonly extra: readonly string[];
  /** Per row text: how many optional slots it filled. */
  readonly optionalFilled: ReadonlyMap<string, number>;
}

export interface RowProblem {
  readonly kind: 'lost' | 'duplicated' | 'wrong';
  /** Human-readable, one per problem row; equal problems at two checks give equal lines. */
  readonly line: string;
}

export interface Classified {
  readonly lost: number;
  readonly duplicated: number;
  readonly wrong: number;
  readonly problems: readonly RowProblem[];
}

export function matchSlots(slots: readonly Slot[], actual: readonly NormalRow[]): MatchResult {
  const counts = new Map<string, number>();
  for (const row of actual) {
    const text = rowText(row);
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  const take = (slot: Slot): string | undefined => {
    for (const alternative of slot.alternatives) {
      const left = counts.get(alternative) ?? 0;
      if (left > 0) {
        counts.set(alternative, left - 1);
        return alternative;
      }
    }
    return undefined;
  };
  const missing: Slot[] = [];
  for (const slot of slots) if (slot.required && take(slot) === undefined) missing.push(slot);
  const optionalFilled = new Map<string, number>();
  for (const slot of slots) {
    if (slot.required) continue;
    const taken = take(slot);
    if (taken !== undefined) optionalFilled.set(taken, (optionalFilled.get(taken) ?? 0) + 1);
  }
  const extra: string[] = [];
  for (const [text, left] of counts) for (let i = 0; i < left; i++) extra.push(text);
  return { missing, extra, optionalFilled };
}

function parse(text: string): (string | null)[] {
  return JSON.parse(text) as (string | null)[];
}

function render(
  row: readonly (string | null)[],
  names: readonly string[],
  only?: ReadonlySet<number>,
): string {
  const parts: string[] = [];
  row.forEach((value, i) => {
    if (only !== undefined && !only.has(i)) return;
    const shown =
      value === null ? 'NULL' : JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
    parts.push(`${names[i] ?? `#${i}`}=${shown}`);
  });
  return parts.join(' ');
}

/**
 * `identity` lists the column indexes of a row's identity (null: the whole row). `names` are the
 * model's column names, for the lines.
 */
export function classify(
  result: MatchResult,
  identity: readonly number[] | null,
  names: readonly string[],
): Classified {
  const identityOf = (text: string): string =>
    identity === null ? text : JSON.stringify(identity.map((i) => parse(text)[i] ?? null));
  const identityLabel = (text: string): string =>
    identity === null ? 'row' : render(parse(text), names, new Set(identity));
  const groups = new Map<string, { missing: string[]; extra: string[] }>();
  const group = (key: string): { missing: string[]; extra: string[] } => {
    let g = groups.get(key);
    if (g === undefined) {
      g = { missing: [], extra: [] };
      groups.set(key, g);
    }
    return g;
  };
  for (const slot of result.missing) {
    const first = slot.alternatives[0];
    if (first !== undefined) group(identityOf(first)).missing.push(first);
  }
  for (const text of result.extra) group(identityOf(text)).extra.push(text);

  let lost = 0;
  let duplicated = 0;
  let wrong = 0;
  const problems: RowProblem[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key);
    if (g === undefined) continue;
    const pairs = Math.min(g.missing.length, g.extra.length);
    for (let i = 0; i < pairs; i++) {
      const expected = parse(g.missing[i] as string);
      const actual = parse(g.extra[i] as string);
      const differing = new Set(expected.flatMap((v, c) => (v === actual[c] ? [] : [c])));
      problems.push({
        kind: 'wrong',
        line: `wrong ${identityLabel(g.missing[i] as string)}: expected ${render(expected, names, differing)} | actual ${render(actual, names, differing)}`,
      });
    }
    for (const text of g.missing.slice(pairs))
      problems.push({
        kind: 'lost',
        line: `lost  ${identityLabel(text)}: expected ${render(parse(text), names)}`,
      });
    for (const text of g.extra.slice(pairs))
      problems.push({
        kind: 'duplicated',
        line: `dup   ${identityLabel(text)}: unexpected ${render(parse(text), names)}`,
      });
    wrong += pairs;
    lost += g.missing.length - pairs;
    duplicated += g.extra.length - pairs;
  }
  return { lost, duplicated, wrong, problems };
}
