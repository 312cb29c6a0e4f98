/** docs/etlctl.md, generated from etlctl's verb table and the protocol's zod schemas. */
import type { z } from 'zod';
import { ERROR_CODES, isRetryableCode } from '../../shared/errors.js';
import { EXIT } from '../../tui/cli/io.js';
import { JSON_SCHEMA_VERSION, type JsonSpec } from '../../tui/cli/json-output.js';
import { GLOBAL_HELP, VERBS, type VerbSpec } from '../../tui/cli/verbs.js';
import { code, generatedNote, slug, table } from './markdown.js';
import { objectShape, peel, typeText, type ObjectRef, type Shape } from './zod-fields.js';

type Schema = z.core.$ZodType;

/** What each exit code means: a new code in EXIT does not compile until it is described here. */
const EXIT_MEANING: Record<keyof typeof EXIT, string> = {
  ok: 'the operation succeeded (`start --wait`: the run succeeded; `logs -f`: ended with Ctrl-C)',
  failed:
    'the operation failed (`start --wait`: the run failed or was cancelled; `validate`: a file is invalid)',
  usage: 'usage error: an unknown verb or option, a missing or malformed argument',
  unreachable: 'the daemon is unreachable; the message names the socket or URL tried and how to start etld',
  interrupted:
    'Ctrl-C while `start --wait` waited (the run goes on; `etlctl stop` cancels it), or a second Ctrl-C',
};

const verbTitle = (verb: VerbSpec): string => code(`etlctl ${verb.name}`);

/** The error code enum as typeText writes it, shown as a link to the table of codes instead. */
const ERROR_CODE_TYPE = `one of ${ERROR_CODES.map((c) => code(c)).join(', ')}`;

/** Rows of a JSON document's fields, nested objects flattened as `a.b` and `a[].b`. */
function jsonRows(
  shape: Shape,
  prefix: string,
  seen: Map<Shape, string>,
  where: string,
  rows: string[][],
): void {
  for (const [name, schema] of Object.entries(shape)) {
    const peeled = peel(schema);
    const isList = peeled.core._zod.def.type === 'array';
    const path = `${prefix}${name}${isList ? '[]' : ''}`;
    const nested: [Shape, string][] = [];
    const ref: ObjectRef = (child) => {
      const earlier = seen.get(child);
      if (earlier !== undefined) return `the fields of ${earlier}`;
      seen.set(child, `${code(path)} in ${where}`);
      nested.push([child, `${path}.`]);
      return 'below';
    };
    const written = typeText(peeled, ref, 'object');
    const type = written === ERROR_CODE_TYPE ? 'an [error code](#error-codes)' : written;
    rows.push([code(path), type + (peeled.optional ? ' (may be absent)' : ''), peeled.description]);
    for (const [child, childPrefix] of nested) jsonRows(child, childPrefix, seen, where, rows);
  }
}

function jsonDocument(verb: VerbSpec, json: JsonSpec, seen: Map<Shape, string>): string[] {
  const where = `[${verbTitle(verb)}](#${slug(verbTitle(verb))})`;
  const describe = (shape: Schema, intro: string): string[] => {
    const peeled = peel(shape);
    const isList = peeled.core._zod.def.type === 'array';
    const item = isList ? peel((peeled.core._zod.def as unknown as { element: Schema }).element) : peeled;
    const fields = objectShape(item.core);
    if (fields === null) return [intro, ''];
    const earlier = seen.get(fields);
    if (earlier !== undefined) return [`${intro} The fields of ${earlier}.`, ''];
    seen.set(fields, `${isList ? `${code(json.listKey ?? '')} items` : 'the document'} of ${where}`);
    const rows: string[][] = [];
    jsonRows(fields, '', seen, where, rows);
    return [intro, '', table(['Field', 'Type', 'Description'], rows), ''];
  };
  const version = `"schema": ${JSON_SCHEMA_VERSION}`;
  const intro = json.perLine
    ? `With \`--json\`: one document per line, \`{${version}, …}\`, with these fields besides \`schema\`:`
    : json.listKey !== undefined
      ? `With \`--json\`: \`{${version}, "${json.listKey}": [ … ]}\`, each item with these fields:`
      : `With \`--json\`: \`{${version}, …}\` with these fields besides \`schema\`:`;
  return [
    ...describe(json.shape, intro),
    ...(json.variants ?? []).flatMap((variant) =>
      describe(
        variant.shape,
        `${variant.when[0]?.toUpperCase() ?? ''}${variant.when.slice(1)}, \`--json\` prints \`{${version}, …}\` instead:`,
      ),
    ),
  ];
}

function verbSection(verb: VerbSpec, seen: Map<Shape, string>): string {
  return [
    `### ${verbTitle(verb)}`,
    '',
    `${verb.summary[0]?.toUpperCase() ?? ''}${verb.summary.slice(1)}.`,
    '',
    '```',
    `etlctl ${verb.name}${verb.usage === '' ? '' : ` ${verb.usage}`}`,
    '```',
    '',
    ...(verb.optionHelp.length === 0 ? [] : ['Options:', '', '```', ...verb.optionHelp, '```', '']),
    'Examples:',
    '',
    '```sh',
    ...verb.examples,
    '```',
    '',
    ...(verb.json === null ? ['No `--json` output.', ''] : jsonDocument(verb, verb.json, seen)),
  ].join('\n');
}

export function etlctlReference(): string {
  const seen = new Map<Shape, string>();
  return [
    '# etlctl reference',
    '',
    generatedNote('the verb table `tui/cli/verbs.ts` and the protocol `shared/protocol.ts`'),
    '',
    '`etlctl` drives etld through its control socket. It finds the daemon with `--url` (the TCP',
    'listener, with `--token-file`), else `--socket`, else `--home DIR` or `$ETLD_HOME` (`DIR/run/etld.sock`),',
    'else `/run/etld/etld.sock`. `generate`, `validate FILE…` and `completion` need no daemon; `validate` and',
    '`logs` fall back to the files of the daemon on this host when it is down.',
    '',
    '```',
    'etlctl [global options] VERB [arguments]',
    '```',
    '',
    '## Global options',
    '',
    'They may come before or after the verb.',
    '',
    '```',
    ...GLOBAL_HELP,
    '```',
    '',
    '## Exit codes',
    '',
    table(
      ['Code', 'Meaning'],
      Object.entries(EXIT).map(([name, value]) => [
        code(String(value)),
        EXIT_MEANING[name as keyof typeof EXIT],
      ]),
    ),
    '',
    'Errors are one line on stderr, `etlctl: <message>`, naming the file, field or value concerned;',
    'never a stack trace. `logs -f` ends with exit 0 on Ctrl-C, as `journalctl -f` does: following until',
    'interrupted is its normal end.',
    '',
    '## JSON output',
    '',
    `With \`--json\` every verb that prints something prints JSON documents with snake_case keys, and every`,
    `document carries its version, \`"schema": ${JSON_SCHEMA_VERSION}\`. A list is wrapped under a key (\`list\` →`,
    '`pipelines`, `history` → `runs`) so the version has a place; `logs` prints one document per line.',
    'Times are ISO-8601 in UTC; a missing value is `null`, not an absent key, unless the table says',
    '"may be absent".',
    '',
    `The version changes only when a key a script may rely on is removed or renamed, or its meaning or`,
    'type changes. New keys are added without a change, so scripts should ignore keys they do not know.',
    'An error under `--json` is a document on stderr, with the exit code as above:',
    '',
    '```json',
    `{ "schema": ${JSON_SCHEMA_VERSION}, "error": { "code": "NOT_FOUND", "message": "no pipeline named \\"ghost\\" …", "retryable": false } }`,
    '```',
    '',
    '`code` is one of the stable [error codes](#error-codes); `retryable` says whether trying again later',
    'may succeed. Each verb below shows its document.',
    '',
    '## Error codes',
    '',
    'Errors carry one of these codes, in `--json` errors, in `error` of runs and parts, and in the',
    'messages of the control protocol. Codes are only ever added. Whether an error is retryable is decided',
    'where it happens; the column gives the default for the code.',
    '',
    table(
      ['Code', 'Retryable by default'],
      ERROR_CODES.map((c) => [code(c), isRetryableCode(c) ? 'yes' : 'no']),
    ),
    '',
    '## Shell completion',
    '',
    '`etlctl completion bash` and `etlctl completion zsh` print a completion script for verbs, their options',
    'and option values, and pipeline names (asked of the daemon the command line points at, else read from',
    "that home's pipeline files):",
    '',
    '```sh',
    '# bash (with the bash-completion package):',
    'mkdir -p ~/.local/share/bash-completion/completions',
    'etlctl completion bash > ~/.local/share/bash-completion/completions/etlctl',
    '# bash, this shell only (or add the line to ~/.bashrc):',
    'source <(etlctl completion bash)',
    '# zsh: a directory on $fpath, then restart zsh',
    'etlctl completion zsh > "${fpath[1]}/_etlctl"',
    '```',
    '',
    '## Verbs',
    '',
    table(
      ['Verb', 'What it does'],
      VERBS.map((verb) => [`[${code(verb.name)}](#${slug(verbTitle(verb))})`, verb.summary]),
    ),
    '',
    ...VERBS.map((verb) => verbSection(verb, seen)),
  ].join('\n');
}
