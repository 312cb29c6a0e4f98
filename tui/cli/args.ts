import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { closestMatch } from '../../shared/did-you-mean.js';
import { EtlError } from '../../shared/errors.js';
import { findVerb, GLOBAL_OPTIONS, VERBS, type VerbSpec } from './verbs.js';

export interface GlobalFlags {
  readonly json: boolean;
  readonly home?: string;
  readonly socket?: string;
  readonly url?: string;
  readonly tokenFile?: string;
  readonly noColor: boolean;
}

export type OptionValues = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

export type ParsedCommand =
  | { readonly kind: 'help'; readonly verb: VerbSpec | null }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'verb';
      readonly verb: VerbSpec;
      readonly positionals: readonly string[];
      readonly values: OptionValues;
      readonly flags: GlobalFlags;
    };

const VALUE_OPTIONS = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, spec]) => spec.type === 'string')
    .map(([name]) => `--${name}`),
);

/** Parses `etlctl [global options] VERB [args]`; global options may also follow the verb. Throws USAGE. */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  const verbIndex = findVerbIndex(argv);
  if (verbIndex === -1) {
    const { values } = parseOrThrow(argv, GLOBAL_OPTIONS, null);
    if (values.version === true) return { kind: 'version' };
    return { kind: 'help', verb: null };
  }
  const name = argv[verbIndex] ?? '';
  const verb = findVerb(name);
  if (!verb) {
    const verbs = VERBS.map((v) => v.name);
    const hint = closestMatch(name, verbs);
    throw new EtlError(
      'USAGE',
      hint === undefined
        ? `unknown verb "${name}" (verbs: ${verbs.join(', ')})`
        : `unknown verb "${name}": did you mean "${hint}"? (etlctl ${hint} --help)`,
    );
  }
  const rest = [...argv.slice(0, verbIndex), ...argv.slice(verbIndex + 1)];
  const { values, positionals } = parseOrThrow(rest, { ...GLOBAL_OPTIONS, ...verb.options }, verb);
  if (values.help === true) return { kind: 'help', verb };
  if (values.version === true) return { kind: 'version' };
  const { min, max, names } = verb.positionals;
  if (positionals.length < min) {
    throw new EtlError(
      'USAGE',
      `missing <${names[positionals.length] ?? names[0] ?? 'argument'}> for ${verb.name} (see etlctl ${verb.name} --help)`,
    );
  }
  if (positionals.length > max) {
    throw new EtlError(
      'USAGE',
      `too many arguments for ${verb.name}: ${positionals.slice(max).join(' ')} (see etlctl ${verb.name} --help)`,
    );
  }
  const text = (key: string): string | undefined => {
    const value = values[key];
    return typeof value === 'string' ? value : undefined;
  };
  const flags: GlobalFlags = {
    json: values.json === true,
    home: text('home'),
    socket: text('socket'),
    url: text('url'),
    tokenFile: text('token-file'),
    noColor: values['no-color'] === true,
  };
  return { kind: 'verb', verb, positionals, values, flags };
}

function findVerbIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (token === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (token.startsWith('-')) {
      if (VALUE_OPTIONS.has(token)) i++;
      continue;
    }
    return i;
  }
  return -1;
}

function parseOrThrow(
  args: readonly string[],
  options: ParseArgsOptionsConfig,
  verb: VerbSpec | null,
): { values: OptionValues; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
    return { values: parsed.values as OptionValues, positionals: parsed.positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const option = /'(-{1,2}[^'\s]+)/.exec(message)?.[1];
    const see = verb ? `etlctl ${verb.name} --help` : 'etlctl --help';
    const code = (error as { code?: string }).code;
    const what =
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined
        ? `unknown option ${option}${verb ? ` for ${verb.name}` : ''}`
        : code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined
          ? `option ${option} ${/argument missing/.test(message) ? 'needs a value' : 'takes no value'}`
          : (message.split('\n')[0] ?? message);
    throw new EtlError('USAGE', `${what} (see ${see})`, { cause: error });
  }
}

/** A whole-number option value from `min` (default 1) to `max`, or the default; USAGE names the option otherwise. */
export function intOption(
  values: OptionValues,
  name: string,
  fallback: number,
  max: number,
  min = 1,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new EtlError(
      'USAGE',
      `--${name} expects a whole number from ${min} to ${max}, got "${String(raw)}"`,
    );
  }
  return value;
}
