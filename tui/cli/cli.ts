import { EtlError, toEtlError } from '../../shared/errors.js';
import { parseCommandLine } from './args.js';
import { COMMANDS } from './commands.js';
import { completeWords } from './completion-command.js';
import { CLI_VERSION, createContext } from './context.js';
import { EXIT, type CliIo } from './io.js';
import { jsonErrorDocument } from './json-output.js';
import { mainHelp, verbHelp } from './verbs.js';

/** etlctl without the process: parses argv, runs the verb, prints one-line errors, returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // The completion scripts' helper: not a verb (no help, no docs), and silent whatever happens.
  if (argv[0] === '__complete') return completeWords(argv.slice(1), io);
  const json = argv.includes('--json');
  try {
    const parsed = parseCommandLine(argv);
    switch (parsed.kind) {
      case 'help':
        io.stdout(parsed.verb ? verbHelp(parsed.verb) : mainHelp());
        return EXIT.ok;
      case 'version':
        io.stdout(`etlctl ${CLI_VERSION}\n`);
        return EXIT.ok;
      case 'verb': {
        const command = COMMANDS[parsed.verb.name];
        if (!command) throw new EtlError('INTERNAL', `verb ${parsed.verb.name} has no implementation`);
        return await command(createContext(io, parsed.verb, parsed.flags, parsed.positionals, parsed.values));
      }
    }
  } catch (thrown) {
    const error = toEtlError(thrown);
    const oneLine = error.message.replace(/\s*\n\s*/g, ' ');
    // A refusal of the read-only role carries the marker, so it reads as a refusal, not a failure.
    const marker = error.code === 'READ_ONLY' ? '[read-only] ' : '';
    io.stderr(
      json ? `${JSON.stringify(jsonErrorDocument(error, oneLine))}\n` : `etlctl: ${marker}${oneLine}\n`,
    );
    return exitCodeFor(error);
  }
}

function exitCodeFor(error: EtlError): number {
  switch (error.code) {
    case 'USAGE':
      return EXIT.usage;
    case 'DAEMON_UNREACHABLE':
      return EXIT.unreachable;
    default:
      return EXIT.failed;
  }
}
