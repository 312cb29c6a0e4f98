/**
 * `npm run chaos -- [--seed N] [--minutes M] [--steps K] [--verbose]`.
 *
 * - `--seed N`: one session (one world) with that seed. With `--steps K` exactly K rounds run
 *   (the replay form printed by a failing session); without, rounds run until `--minutes` is up.
 * - Without `--seed`: sessions with fresh random seeds run back to back until `--minutes` is up
 *   (default 3), each at most `--steps` rounds (default 8). So a soak (`--minutes 60`) sees many
 *   worlds (feature × destination assignments) rather than one long one, and every failing seed is
 *   reported with its own replay command.
 */
import { parseArgs } from 'node:util';

export interface ChaosArgs {
  readonly seed: number | null;
  readonly minutes: number;
  readonly steps: number | null;
  readonly verbose: boolean;
  readonly help: boolean;
}

export const CHAOS_HELP = `npm run chaos -- [--seed N] [--minutes M] [--steps K] [--verbose]

Randomized, fault-injecting differential test of etld against real PostgreSQL and MariaDB.
  --seed N      replay one world (an unsigned 32-bit integer, printed by every run)
  --steps K     rounds per world (every pipeline takes one step per round); default: until time is up
                with --seed, else 8 per world
  --minutes M   time budget (default 3); without --seed, worlds with new seeds run back to back
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
    verbose: values.verbose ?? false,
    help: values.help ?? false,
  };
}
