/**
 * Keeps row contents out of error messages. Rows can hold personal data, and only `preview` may
 * show data; but database and DuckDB errors quote the offending value ("Could not convert string
 * 'x'", `invalid input syntax for type integer: "x"`, DuckDB's "Original Line: …"). Every error
 * that leaves a run (state store, logs, socket, alert mail) passes through `withoutRowData`, and
 * the connector error mappers call it too. What stays: the error kind, the column, the line or
 * row number and the type — enough to find the row in the source, where the data already is.
 */

const ELLIPSIS = '…';

const RULES: readonly { readonly pattern: RegExp; readonly replace: string }[] = [
  // DuckDB CSV reader: the raw line and everything after it (help text, reader options).
  { pattern: /\n?\s*Original Line:[\s\S]*$/, replace: '' },
  // DuckDB: the statement echo under the message (`LINE 1: …` and its caret) holds literals.
  { pattern: /\n+\s*LINE \d+:[\s\S]*$/, replace: '' },
  // DuckDB casts: Could not convert string 'x' to INT32 / "x" to 'INTEGER'.
  { pattern: /Could not convert string .* to (\S+)/g, replace: 'Could not convert a value to $1' },
  // BigQuery load errors.
  {
    pattern: /Could not (parse|convert) (?:value )?'.*' (as|to) (\S+)/g,
    replace: 'Could not $1 a value $2 $3',
  },
  { pattern: /;?\s*Value: .*$/gm, replace: '' },
  // PostgreSQL data exceptions end in `: "value"` (also COPY's `column c: "value"` context).
  {
    pattern:
      /(invalid input syntax for type [\w ()]+|invalid input value for enum [\w."]+|out of range[\w ]*|column [\w"]+): ".*"/g,
    replace: `$1: "${ELLIPSIS}"`,
  },
  { pattern: /value ".*" is out of range/g, replace: 'a value is out of range' },
  { pattern: /value too long for type ([\w ()]+)/g, replace: 'value too long for type $1' },
  // PostgreSQL check and NOT NULL violations quote the whole row.
  { pattern: /Failing row contains \(.*\)\.?/g, replace: `Failing row contains (${ELLIPSIS})` },
  // PostgreSQL unique violations: Key (id)=(42) already exists.
  { pattern: /Key \(([^)]*)\)=\(.*?\)/g, replace: `Key ($1)=(${ELLIPSIS})` },
  // MySQL/MariaDB: Incorrect integer value: 'x' for column …, Duplicate entry 'x' for key …
  { pattern: /Incorrect (\w+) value: '.*?' for/g, replace: 'Incorrect $1 value for' },
  { pattern: /Duplicate entry '.*' for key/g, replace: 'Duplicate entry for key' },
  { pattern: /Truncated incorrect (\w+) value: '.*?'/g, replace: 'Truncated incorrect $1 value' },
];

/** Cheap first pass: most messages hold none of the shapes the rules look for. */
const TRIGGER =
  /Original Line|LINE \d+:|Could not (?:convert|parse)|Value: |: "|value ".*" is out|Key \(|Failing row|Incorrect \w+ value|Duplicate entry|Truncated incorrect/;

/** `message` without the row values that databases quote into their errors. */
export function withoutRowData(message: string): string {
  if (!TRIGGER.test(message)) return message;
  let out = message;
  for (const rule of RULES) out = out.replace(rule.pattern, rule.replace);
  return out.trimEnd();
}
