import type { ParseArgsOptionsConfig } from 'node:util';
import { GLOBAL_HELP, GLOBAL_OPTIONS, VERBS, type VerbSpec } from './verbs.js';

/** What completes after a flag that takes a value, or at a positional. */
export type ValueKind =
  | { readonly kind: 'none' }
  | { readonly kind: 'file' }
  | { readonly kind: 'dir' }
  /** The daemon's pipeline names, and `words` beside them (a verb's sub-commands). */
  | { readonly kind: 'pipeline'; readonly words?: readonly string[] }
  | { readonly kind: 'choices'; readonly values: readonly string[] };

export interface FlagModel {
  /** `-n`, `--limit`. */
  readonly names: readonly string[];
  readonly help: string;
  /** Null for a flag without a value. */
  readonly value: ValueKind | null;
}

export interface VerbModel {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly FlagModel[];
  readonly positionals: readonly ValueKind[];
  /** The last positional repeats (`validate FILE...`). */
  readonly repeats: boolean;
}

export interface CompletionModel {
  readonly verbs: readonly VerbModel[];
  readonly globalFlags: readonly FlagModel[];
}

const NONE: ValueKind = { kind: 'none' };

/** The help text of `--name` in a help table line such as `-n, --limit N       how many runs`. */
function helpFor(lines: readonly string[], name: string): string {
  const index = lines.findIndex((line) => new RegExp(`^\\s*(-\\w, )?--${name}(\\s|$)`).test(line));
  if (index === -1) return '';
  const text = (lines[index] ?? '').replace(/^\s*(-\w, )?--[\w-]+( \S+)?\s{2,}/, '');
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Which values an option takes: its choices in the verb table, else files for `--*-file` and
 * `--output`, a directory for `--home`, a socket path for `--socket`, nothing to offer otherwise.
 */
function optionValue(name: string, choices: readonly string[] | undefined): ValueKind {
  if (choices !== undefined) return { kind: 'choices', values: choices };
  if (name === 'home') return { kind: 'dir' };
  if (name === 'socket' || name === 'output' || name.endsWith('-file')) return { kind: 'file' };
  return NONE;
}

function flags(
  options: ParseArgsOptionsConfig,
  help: readonly string[],
  choices: Readonly<Record<string, readonly string[]>>,
): FlagModel[] {
  return Object.entries(options).map(([name, spec]) => ({
    names: [...(spec.short === undefined ? [] : [`-${spec.short}`]), `--${name}`],
    help: helpFor(help, name),
    value: spec.type === 'string' ? optionValue(name, choices[name]) : null,
  }));
}

function positional(verb: VerbSpec, name: string, index: number): ValueKind {
  const subcommands = index === 0 ? (verb.positionals.subcommands ?? []) : [];
  const choices = verb.positionals.choices?.[name];
  if (choices !== undefined) return { kind: 'choices', values: [...subcommands, ...choices] };
  if (name === 'pipeline')
    return subcommands.length > 0 ? { kind: 'pipeline', words: subcommands } : { kind: 'pipeline' };
  if (subcommands.length > 0) return { kind: 'choices', values: subcommands };
  if (name === 'file') return { kind: 'file' };
  return NONE;
}

/** The command line of etlctl as completion scripts need it, from the verb table. */
export function completionModel(verbs: readonly VerbSpec[] = VERBS): CompletionModel {
  return {
    verbs: verbs.map((verb) => ({
      name: verb.name,
      summary: verb.summary,
      flags: flags(verb.options, verb.optionHelp, verb.optionChoices ?? {}),
      positionals: verb.positionals.names.map((name, index) => positional(verb, name, index)),
      repeats: verb.positionals.max > verb.positionals.names.length,
    })),
    globalFlags: flags(GLOBAL_OPTIONS, GLOBAL_HELP, {}),
  };
}
