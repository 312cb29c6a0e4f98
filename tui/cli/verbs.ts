import type { ParseArgsOptionsConfig } from 'node:util';
import { z } from 'zod';
import { logLineSchema, METHODS } from '../../shared/protocol.js';
import { DEST_KINDS, SOURCE_KINDS } from './generate.js';
import type { JsonSpec } from './json-output.js';
import { validationJsonSchema } from './validation-json.js';

/**
 * One etlctl verb. The table is the single source of the command line: parsing, --help, shell
 * completion (completion.ts) and docs/etlctl.md (npm run docs) are all generated from it.
 */
export interface VerbSpec {
  readonly name: string;
  readonly summary: string;
  /** Arguments after the verb, e.g. `<pipeline> [--wait]`. */
  readonly usage: string;
  readonly examples: readonly string[];
  readonly positionals: {
    readonly min: number;
    readonly max: number;
    /** A positional named `pipeline` completes to the daemon's pipeline names, `file` to files. */
    readonly names: readonly string[];
    /** The values a positional takes, by name (completion offers them). */
    readonly choices?: Readonly<Record<string, readonly string[]>>;
    /**
     * Words the first positional may be instead, each starting a sub-command (`files forget`);
     * completion offers them beside that positional's values.
     */
    readonly subcommands?: readonly string[];
  };
  readonly options: ParseArgsOptionsConfig;
  /** One line per verb option for --help. */
  readonly optionHelp: readonly string[];
  /** The values a string option takes, by long name (completion offers them). */
  readonly optionChoices?: Readonly<Record<string, readonly string[]>>;
  /** What --json prints; null when the verb has no JSON output. */
  readonly json: JsonSpec | null;
}

const one = (name: string) => ({ min: 1, max: 1, names: [name] });
const none = { min: 0, max: 0, names: [] };

/** The shells `etlctl completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;

export const GLOBAL_OPTIONS = {
  json: { type: 'boolean' },
  home: { type: 'string' },
  socket: { type: 'string' },
  url: { type: 'string' },
  'token-file': { type: 'string' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const satisfies ParseArgsOptionsConfig;

export const GLOBAL_HELP = [
  '--json              machine-readable output (snake_case keys)',
  '--home DIR          the daemon home (socket DIR/run/etld.sock); default $ETLD_HOME',
  '--socket PATH       the control socket (default /run/etld/etld.sock)',
  '--url ws://H:P      reach a daemon over TCP (needs --token-file)',
  '--token-file FILE   the bearer token for --url',
  '--no-color          no colours (also when NO_COLOR is set)',
  '-h, --help          help; `etlctl VERB --help` for one verb',
  '-V, --version       print the etlctl version',
];

export const VERBS: readonly VerbSpec[] = [
  {
    name: 'list',
    summary: 'list pipelines with state, schedule, next and last run',
    usage: '',
    examples: ['etlctl list', 'etlctl list --json | jq -r ".pipelines[].name"'],
    positionals: none,
    options: {},
    optionHelp: [
      'In a fleet (daemons sharing a PostgreSQL state store; etlctl hosts says fleet: true) a HOST column',
      "shows the host running each pipeline's current run (- when none runs). A daemon alone has no",
      "such column; --json always carries each entry's host.",
    ],
    json: { shape: METHODS.list.result, listKey: 'pipelines' },
  },
  {
    name: 'status',
    summary:
      'one pipeline in detail: state, current run, statistics, why (and its tables, if it has several)',
    usage: '<pipeline>',
    examples: [
      'etlctl status orders',
      'etlctl status shop   # a multi-table pipeline: each table of its newest run',
    ],
    positionals: one('pipeline'),
    options: {},
    optionHelp: [
      'A multi-table pipeline (source.tables) ends with the tables of its newest run: status, attempts,',
      'rows loaded, verdict and error of each (etlctl tables for another run; --json prints the status',
      'alone, etlctl tables --json the tables).',
    ],
    json: { shape: METHODS.status.result },
  },
  {
    name: 'info',
    summary: 'the daemon: version, host, uptime, pipelines, resources',
    usage: '',
    examples: ['etlctl info', 'etlctl --home ~/etld info'],
    positionals: none,
    options: {},
    optionHelp: [],
    json: { shape: METHODS.info.result },
  },
  {
    name: 'hosts',
    summary: 'the daemons sharing the state store: health, last heartbeat, the pipelines each runs',
    usage: '',
    examples: [
      'etlctl hosts',
      'etlctl hosts --json | jq -r \'.hosts[] | select(.health != "alive") | .host\'',
    ],
    positionals: none,
    options: {},
    optionHelp: [
      'HEALTH: alive (a heartbeat within the lease time), lost (none since: its leases expire and',
      'other hosts take its pipelines), stopped (it shut down cleanly). RUNNING: the pipelines whose',
      'run lease the host holds. * marks the daemon that answered. A daemon with its own (SQLite)',
      'state store is a fleet of one: it lists itself, and --json says fleet: false.',
    ],
    json: { shape: METHODS.hosts.result },
  },
  {
    name: 'start',
    summary: 'start a run of a pipeline now (--full-refresh: reload everything)',
    usage: '<pipeline> [--full-refresh] [--wait|--attach] [--timeout D]',
    examples: [
      'etlctl start orders',
      'etlctl start orders --wait && echo loaded',
      'etlctl start orders --full-refresh --attach   # replace the destination with everything, and watch',
    ],
    positionals: one('pipeline'),
    options: {
      wait: { type: 'boolean', short: 'w' },
      attach: { type: 'boolean' },
      'full-refresh': { type: 'boolean' },
      timeout: { type: 'string' },
    },
    optionHelp: [
      '-w, --wait          show live progress; exit 0 if the run succeeded, 1 if it failed or was cancelled',
      '--attach            the same as --wait (Ctrl-C detaches; the run goes on)',
      '--full-refresh      read everything again (from start_from) and replace the destination in one commit;',
      '                    the watermark becomes the new high-water mark',
      '--timeout D         with --wait: stop waiting after D (90s, 10m, 1h); exit 1, the run goes on',
    ],
    json: {
      shape: METHODS.start.result,
      variants: [{ when: 'with --wait, once the run ended', shape: METHODS.run.result }],
    },
  },
  {
    name: 'backfill',
    summary: 'read a cursor range [from, to) again, below the watermark (merged, or appended if missing)',
    usage: '<pipeline> --from VALUE --to VALUE [--shard NAME] [--wait|--attach] [--timeout D]',
    examples: [
      'etlctl backfill orders --from 2026-01-01 --to 2026-02-01 --wait',
      'etlctl backfill orders --from 1000 --to 2000 --shard s2 --json',
    ],
    positionals: one('pipeline'),
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      shard: { type: 'string' },
      wait: { type: 'boolean', short: 'w' },
      attach: { type: 'boolean' },
      timeout: { type: 'string' },
    },
    optionHelp: [
      "--from VALUE        first cursor value read (included), checked against the cursor column's type",
      '--to VALUE          end of the range (excluded); rows from where the next scheduled run starts',
      '                    reading (the watermark minus load.lag) are left to that run',
      '--shard NAME        one shard only (default: every shard)',
      '-w, --wait          show live progress; exit 0 if the backfill succeeded, 1 if not',
      '--attach            the same as --wait',
      '--timeout D         with --wait: stop waiting after D; exit 1, the run goes on',
    ],
    json: {
      shape: METHODS.backfill.result,
      variants: [{ when: 'with --wait, once the run ended', shape: METHODS.run.result }],
    },
  },
  {
    name: 'wait',
    summary: "wait for a pipeline's current run (or a named run) to end; exit 0 if it succeeded",
    usage: '<pipeline|run-id> [--timeout D]',
    examples: [
      'etlctl wait orders --timeout 30m && echo loaded',
      'etlctl wait orders-42 --json | jq .rows_loaded',
    ],
    positionals: one('pipeline|run-id'),
    options: { timeout: { type: 'string' } },
    optionHelp: [
      '--timeout D         stop waiting after D (90s, 10m, 1h): exit 1, the run goes on',
      '                    (a pipeline without an active run: its latest run, which may have ended)',
    ],
    json: { shape: METHODS.run.result },
  },
  {
    name: 'stop',
    summary: 'cancel the running run of a pipeline (destination untouched)',
    usage: '<pipeline>',
    examples: ['etlctl stop orders'],
    positionals: one('pipeline'),
    options: {},
    optionHelp: [],
    json: { shape: METHODS.stop.result },
  },
  {
    name: 'pause',
    summary: 'stop firing the schedule of a pipeline (persisted)',
    usage: '<pipeline>',
    examples: ['etlctl pause orders'],
    positionals: one('pipeline'),
    options: {},
    optionHelp: [],
    json: { shape: METHODS.pause.result },
  },
  {
    name: 'resume',
    summary: 'fire the schedule of a paused pipeline again',
    usage: '<pipeline>',
    examples: ['etlctl resume orders'],
    positionals: one('pipeline'),
    options: {},
    optionHelp: [],
    json: { shape: METHODS.resume.result },
  },
  {
    name: 'history',
    summary: 'recent runs of a pipeline, newest first, and the operator changes of its watermark',
    usage: '<pipeline> [-n N] [--status S[,S]] [--since D] [--before RUN] [--table T] [--changes]',
    examples: [
      'etlctl history orders -n 50',
      'etlctl history orders --status failed --since 24h',
      'etlctl history shop --table public.orders     # one table of a multi-table pipeline: its own runs',
      'etlctl history orders --json | jq -r ".runs[0].status"',
      'etlctl history orders --changes --json | jq ".changes[0]"   # who changed the watermark, when, old → new',
    ],
    positionals: one('pipeline'),
    options: {
      limit: { type: 'string', short: 'n' },
      status: { type: 'string' },
      failed: { type: 'boolean' },
      since: { type: 'string' },
      before: { type: 'string' },
      table: { type: 'string' },
      changes: { type: 'boolean' },
    },
    optionHelp: [
      '-n, --limit N       how many runs (default 20)',
      '--status S[,S]      only runs with these statuses (succeeded, failed, cancelled, running, …)',
      '--failed            the same as --status failed',
      '--since D           only runs that started within D (30m, 24h, 7d) or after an ISO time',
      '--before RUN        only runs listed after RUN: the next page after a listing ending with it',
      '--table T           a multi-table pipeline: the runs of table T (public.orders, or orders when',
      '                    only one table is named so), each with its own sequence',
      '--changes           only the operator changes (watermark set/reset: by whom, old → new value);',
      '                    without it the human listing shows those of the same window below the runs',
    ],
    json: {
      shape: METHODS.history.result,
      listKey: 'runs',
      variants: [{ when: 'with --changes', shape: z.object({ changes: METHODS.changes.result }) }],
    },
  },
  {
    name: 'runs',
    summary: 'runs of every pipeline, newest first (the fleet view)',
    usage: '[--failed] [--status S[,S]] [--since D] [--pipeline P] [--before RUN] [-n N]',
    examples: [
      'etlctl runs --failed --since 24h',
      'etlctl runs --status running,retrying --json',
      'etlctl runs -n 100 --before orders-4711   # the next 100 after run orders-4711',
    ],
    positionals: none,
    options: {
      failed: { type: 'boolean' },
      status: { type: 'string' },
      since: { type: 'string' },
      pipeline: { type: 'string' },
      before: { type: 'string' },
      limit: { type: 'string', short: 'n' },
    },
    optionHelp: [
      '--failed            only failed runs (the same as --status failed)',
      '--status S[,S]      only runs with these statuses',
      '--since D           only runs that started within D (30m, 24h, 7d) or after an ISO time',
      '--pipeline P        one pipeline only',
      '--before RUN        only runs listed after RUN: the next page after a listing ending with it',
      '-n, --limit N       how many runs (default 50)',
    ],
    json: { shape: METHODS.runs.result, listKey: 'runs' },
  },
  {
    name: 'run',
    summary: 'one run in detail, with its shards/chunks and data quality checks',
    usage: '<run-id>',
    examples: ['etlctl run 01J9Z3K2M4'],
    positionals: one('run-id'),
    options: {},
    optionHelp: [],
    json: { shape: METHODS.run.result },
  },
  {
    name: 'tables',
    summary: 'the tables of a run of a multi-table pipeline: status, attempts, rows, verdict, error',
    usage: '<pipeline> [--run SEQ]',
    examples: [
      'etlctl tables shop',
      'etlctl tables shop --run 41                     # the tables of run 41 of the pipeline',
      'etlctl tables shop --json | jq -r \'.tables[] | select(.status == "failed") | .table\'',
    ],
    positionals: one('pipeline'),
    options: { run: { type: 'string' } },
    optionHelp: [
      "--run SEQ           the pipeline's run by sequence (default: its newest run that loaded tables)",
      'Each table loads as a run of its own under its state name (<pipeline>/<table>); the SEQ column',
      "is that run's own sequence, and etlctl history PIPELINE --table TABLE lists those runs.",
    ],
    json: { shape: METHODS.tables.result },
  },
  {
    name: 'logs',
    summary: 'log lines of the daemon or of one pipeline (from the files when etld is down); -f follows',
    usage: '[pipeline] [-f] [-n N] [--since 2h] [--errors] [--run ID] [--grep RE]',
    examples: [
      'etlctl logs orders -n 200',
      'etlctl logs orders -f --errors',
      'etlctl logs --since 30m --grep "shard s2"',
      "etlctl logs etld -n 50                 # the daemon's own lines",
    ],
    positionals: { min: 0, max: 1, names: ['pipeline'] },
    options: {
      follow: { type: 'boolean', short: 'f' },
      lines: { type: 'string', short: 'n' },
      since: { type: 'string' },
      errors: { type: 'boolean' },
      run: { type: 'string' },
      grep: { type: 'string' },
    },
    optionHelp: [
      '-f, --follow        keep printing new lines until Ctrl-C (exit 0), across daemon restarts',
      '-n, --lines N       how many past lines (default 100; -n 0 -f: only new ones)',
      '--since WHEN        only lines newer than a duration (30m, 2h, 1d) or an ISO time',
      '--errors            only errors and warnings',
      '--run ID            only lines of one run',
      '--grep RE           only lines matching a regular expression',
      '--json              one JSON object per line',
    ],
    json: { shape: logLineSchema, perLine: true },
  },
  {
    name: 'reload',
    summary: 're-read the pipeline files and connections.yaml (like SIGHUP); exit 1 if any is invalid',
    usage: '',
    examples: ['etlctl reload', 'etlctl reload || etlctl problems'],
    positionals: none,
    options: {},
    optionHelp: [],
    json: { shape: METHODS.reload.result },
  },
  {
    name: 'problems',
    summary: 'every problem of the running configuration: invalid files, last good versions, warnings',
    usage: '',
    examples: ['etlctl problems', 'etlctl problems --json | jq -r ".problems[].problems[]"'],
    positionals: none,
    options: {},
    optionHelp: [],
    json: { shape: METHODS.problems.result, listKey: 'problems' },
  },
  {
    name: 'validate',
    summary: 'check pipeline files, connections.yaml and etld.yaml; works without a daemon',
    usage: '[file|dir ...] [--settings FILE] | --sources',
    examples: [
      'etlctl validate pipelines/orders.yaml',
      "etlctl validate            # the daemon's files, or the pipelines dir if it is down",
      'etlctl validate --settings /etc/etld/etld.yaml /etc/etld/pipelines',
      "etlctl validate --sources  # also each source's table and columns, and the checks' SQL",
    ],
    positionals: { min: 0, max: Number.POSITIVE_INFINITY, names: ['file'] },
    options: { sources: { type: 'boolean' }, settings: { type: 'string' } },
    optionHelp: [
      '--settings FILE     also check a daemon settings file (etld.yaml) as etld would read it',
      "--sources           the daemon introspects each valid pipeline's source (no row is read):",
      "                    the table, its columns, and the checks' columns and SQL against them",
    ],
    json: { shape: validationJsonSchema },
  },
  {
    name: 'why',
    summary: 'when a pipeline runs next and why it did not run',
    usage: '<pipeline>',
    examples: ['etlctl why orders'],
    positionals: one('pipeline'),
    options: {},
    optionHelp: [],
    json: { shape: METHODS.why.result },
  },
  {
    name: 'plan',
    summary: 'what the next run would do, without writing anything',
    usage: '<pipeline>',
    examples: [
      'etlctl plan orders',
      'etlctl plan shop            # a multi-table pipeline: a summary of its tables, then each plan',
    ],
    positionals: one('pipeline'),
    options: {},
    optionHelp: [
      'A multi-table pipeline (source.tables) lists each selected table (destination, mode, estimated',
      'rows, new or not), then the plan of each table; a table that cannot load as configured is',
      'refused, with the reason.',
    ],
    json: { shape: METHODS.plan.result },
  },
  {
    name: 'test',
    summary: 'connect to the source and destination and check tables and permissions; no data moved',
    usage: '<pipeline>',
    examples: [
      'etlctl test orders',
      'etlctl test orders && etlctl resume orders   # enable it only when every check passes',
      'etlctl test orders --json | jq -r \'.checks[] | select(.status == "failed") | .detail\'',
    ],
    positionals: one('pipeline'),
    options: {},
    optionHelp: [
      'Checks each source shard (connect, table, columns, cursor and key columns, SELECT permission',
      'with a query returning no row) and the destination (connection, table, the privileges or',
      'directory permissions the load mode needs, the schema a first run would create or change).',
      'Reads no row, creates and writes nothing. Exit 0 when no check failed (warnings included), 1 otherwise.',
    ],
    json: { shape: METHODS.test.result },
  },
  {
    name: 'preview',
    summary: 'the first transformed rows of the next run',
    usage: '<pipeline> [-n 20] [--table T]',
    examples: ['etlctl preview orders -n 5', 'etlctl preview shop --table public.customers -n 5'],
    positionals: one('pipeline'),
    options: { limit: { type: 'string', short: 'n' }, table: { type: 'string' } },
    optionHelp: [
      '-n, --limit N       how many rows (default 20)',
      '--table T           a multi-table pipeline: the table to preview (default: the first it selects)',
    ],
    json: { shape: METHODS.preview.result },
  },
  {
    name: 'vacuum',
    summary: 'remove data files no longer referenced by a Delta table',
    usage: '<pipeline> [--dry-run]',
    examples: ['etlctl vacuum orders --dry-run'],
    positionals: one('pipeline'),
    options: { 'dry-run': { type: 'boolean' } },
    optionHelp: ['--dry-run           list what would be removed'],
    json: { shape: METHODS.vacuum.result },
  },
  {
    name: 'watermark',
    summary: 'show, set or reset the incremental position of a pipeline (recorded in its change history)',
    usage: 'show|set|reset <pipeline> [VALUE] [--shard NAME]',
    examples: [
      'etlctl watermark show orders',
      'etlctl watermark set orders "2026-11-30 00:00:00+00"   # the destination holds every row up to this cursor value',
      'etlctl watermark reset orders                        # read from start_from again',
    ],
    positionals: {
      min: 2,
      max: 3,
      names: ['action', 'pipeline', 'value'],
      choices: { action: METHODS.watermark.params.shape.action.unwrap().options },
    },
    options: { shard: { type: 'string' } },
    optionHelp: [
      '--shard NAME        set or reset one shard only (default: every shard)',
      'set and reset are refused while a run of the pipeline is active (stop it or wait for it);',
      "VALUE is checked against the cursor column's type; every change is kept with who made it",
      '(etlctl history PIPELINE --changes)',
    ],
    json: { shape: METHODS.watermark.result },
  },
  {
    name: 'files',
    summary: 'the files a files source loaded or quarantined, each once; forget makes some load again',
    usage:
      '<pipeline> [--loaded|--quarantined] [--grep TEXT] [--after KEY] [-n N] | <pipeline> --pending [-n N] | forget <pipeline> (KEY...|--all) [--yes]',
    examples: [
      'etlctl files orders',
      'etlctl files orders --quarantined                   # which files were set aside, and why',
      'etlctl files orders --grep 2026-11 -n 500',
      'etlctl files orders --pending                       # what its next run would load',
      'etlctl files orders --json | jq -r ".files[].key"',
      'etlctl files forget orders incoming/2026-11-30.csv  # its next run loads this file again',
      'etlctl files forget orders --all --yes              # every file again (append mode: rows twice)',
    ],
    positionals: {
      min: 1,
      max: Number.POSITIVE_INFINITY,
      names: ['pipeline', 'pipeline', 'key'],
      subcommands: ['forget'],
    },
    options: {
      loaded: { type: 'boolean' },
      quarantined: { type: 'boolean' },
      pending: { type: 'boolean' },
      grep: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string', short: 'n' },
      all: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
    },
    optionHelp: [
      '--loaded            only the files loaded',
      '--quarantined       only the files quarantined (with the reason: a line or column, never a value)',
      "--pending           the files its next run would take, from the source's listing (writes nothing):",
      '                    new, changed since loaded, or quarantined and replaced; -n caps the list',
      '--grep TEXT         only files whose key or reason contains TEXT, ignoring case',
      '--after KEY         only keys after KEY: the next page after a listing ending with it',
      '-n, --limit N       how many files (default 100); the listing ends with the next-page command',
      '--all               forget: every file in the ledger',
      '-y, --yes           forget without asking (required when stdin is not a terminal)',
      'forget removes ledger entries: the next run loads those files again; in append mode their rows',
      'are loaded a second time. It is refused while a run of the pipeline is active, and exits 1',
      'when a KEY is not in the ledger (the others are forgotten).',
    ],
    json: {
      shape: METHODS.files.result,
      variants: [
        { when: 'for files --pending', shape: METHODS.files_pending.result },
        { when: 'for files forget', shape: METHODS.files_forget.result },
      ],
    },
  },
  {
    name: 'generate',
    summary: 'write a commented pipeline file to start from (no daemon needed)',
    usage:
      '<name> [--source postgres|mysql|sqlserver|files] [--tables PATTERN[,PATTERN]] [--dest delta|bigquery|duckdb|postgres] [-o FILE]',
    examples: [
      'etlctl generate orders --source mysql --dest delta -o /etc/etld/pipelines/orders.yaml',
      'etlctl generate trial > trial.yaml',
      "etlctl generate shop --source postgres --tables 'public.*' --dest duckdb   # every table of a schema",
      "etlctl generate sales --tables 'sales.order_*' --tables sales.customers --dest delta",
    ],
    positionals: one('name'),
    options: {
      source: { type: 'string' },
      tables: { type: 'string', multiple: true },
      dest: { type: 'string' },
      output: { type: 'string', short: 'o' },
      force: { type: 'boolean' },
    },
    optionHelp: [
      '--source TYPE       postgres | mysql | sqlserver | files (default postgres)',
      '--tables PATTERNS   a multi-table pipeline: source.tables with these names and patterns (* and ?),',
      '                    repeated or comma-separated; the destination names each table by a template',
      '--dest TYPE         delta | bigquery | duckdb | postgres (default duckdb)',
      '-o, --output FILE   write to FILE instead of stdout (refuses to overwrite)',
      '--force             overwrite FILE',
    ],
    optionChoices: { source: SOURCE_KINDS, dest: DEST_KINDS },
    json: null,
  },
  {
    name: 'completion',
    summary: 'print a shell completion script (bash or zsh)',
    usage: 'bash|zsh',
    examples: [
      'etlctl completion bash > ~/.local/share/bash-completion/completions/etlctl   # bash-completion loads it',
      'etlctl completion zsh > "${fpath[1]}/_etlctl"    # zsh: a directory on $fpath; then restart zsh',
      'source <(etlctl completion bash)                 # this shell only',
    ],
    positionals: { min: 1, max: 1, names: ['shell'], choices: { shell: COMPLETION_SHELLS } },
    options: {},
    optionHelp: [],
    json: null,
  },
];

export function findVerb(name: string): VerbSpec | undefined {
  return VERBS.find((v) => v.name === name);
}

export function verbHelp(verb: VerbSpec): string {
  const lines = [
    `Usage: etlctl ${verb.name}${verb.usage ? ` ${verb.usage}` : ''}`,
    '',
    `  ${verb.summary}`,
    '',
  ];
  if (verb.optionHelp.length > 0) lines.push('Options:', ...verb.optionHelp.map((l) => `  ${l}`), '');
  lines.push(
    'Examples:',
    ...verb.examples.map((e) => `  ${e}`),
    '',
    'Global options:',
    ...GLOBAL_HELP.map((l) => `  ${l}`),
    '',
  );
  return lines.join('\n');
}

export function mainHelp(): string {
  const width = Math.max(...VERBS.map((v) => v.name.length));
  return [
    'Usage: etlctl [global options] VERB [arguments]',
    '',
    'Controls etld, the ETL daemon, through its control socket.',
    '',
    'Verbs:',
    ...VERBS.map((v) => `  ${v.name.padEnd(width)}  ${v.summary}`),
    '',
    'Global options:',
    ...GLOBAL_HELP.map((l) => `  ${l}`),
    '',
    'Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 daemon unreachable.',
    'Example: etlctl list; etlctl start orders --wait; etlctl logs orders -f',
    'Reference: docs/etlctl.md in the etld package (verbs, exit codes, --json documents).',
    '',
  ].join('\n');
}
