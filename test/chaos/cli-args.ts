/**
 * `npm run chaos -- [--seed N] [--minutes M] [--steps K] [--fleet] [--verbose]`.
 *
 * - `--seed N`: one session (one world) with that seed. With `--steps K` exactly K rounds run
 *   (the replay form printed by a failing session); without, rounds run until `--minutes` is up.
 * - Without `--seed`: sessions with fresh random seeds run back to back until `--minutes` is up
 *   (default 3), each at most `--steps` rounds (default 8). So a soak (`--minutes 60`) sees many
 *   worlds (feature × destination assignments) rather than one long one, and every failing seed is
 *   reported with its own replay command.
 * - `--fleet`: every pipeline runs on three hosts sharing one PostgreSQL state store (fleet.ts).
 */
import { parseArgs } from 'node:util';

export interface ChaosArgs {
  readonly seed: number | null;
  readonly minutes: number;
  readonly steps: number | null;
  readonly fleet: boolean;
  readonly verbose: boolean;
  readonly help: boolean;
}

export const CHAOS_HELP = `npm run chaos -- [--seed N] [--minutes M] [--steps K] [--fleet] [--verbose]

Randomized, fault-injecting differential test of etld against real PostgreSQL and MariaDB.
  --seed N      replay one world (an unsigned 32-bit integer, printed by every run)
  --steps K     rounds per world (every pipeline takes one step per round); default: until time is up
                with --seed, else 8 per world
  --minutes M   time budget (default 3); without --seed, worlds with new seeds run back to back
  --fleet       fleet mode: each pipeline has three hosts (host-a/b/c: own home, lock and logs, same
                pipeline file and destination) sharing one PostgreSQL state store (lease 5s); each
                step runs on a host drawn from the seed, and a run left unfinished (SIGKILL,
                failpoint kill, state-store fault) is taken over by another host. The state-store
                fault is a PostgreSQL trigger on watermarks and committed_sequence instead of the
                SQLite one. A seed's world, workload and faults are the same with and without it
  --verbose     one line per pipeline step
Exit code 0 only when every destination matched the model and no run misbehaved.
`;

export const DEFAULT_SOAK_STEPS = 8;

function positive(name: string, text: string | undefined, integer: boolean): number | null {
  if (text === undefined) return null;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name}: expected a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  }
  return value;
}

export function parseChaosArgs(argv: readonly string[]): ChaosArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seed: { type: 'string' },
      minutes: { type: 'string' },
      steps: { type: 'string' },
      fleet: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  let seed: number | null = null;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new Error(`--seed: expected an integer 0..4294967295, got "${values.seed}"`);
  }
  return {
    seed,
    minutes: positive('minutes', values.minutes, false) ?? 3,
    steps: positive('steps', values.steps, true),
    fleet: values.fleet ?? false,
    verbose: values.verbose ?? false,
    help: values.help ?? false,
  };
}
