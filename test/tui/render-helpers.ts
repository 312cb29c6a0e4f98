import { waitFor } from '../helpers/wait.js';

/**
 * The gap `press` leaves before and after each key. Pacing, not a wait for a condition: Ink holds
 * a lone ESC for 20 ms to tell the Escape key from the start of an escape sequence (a key arriving
 * sooner would join it), and a key must reach the input handler of the render its predecessor
 * caused. What the keys lead to is awaited with `frameMatching`, never assumed after the gap.
 */
const KEY_GAP_MS = 20;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Types `keys` into ink-testing-library's stdin, paced as a person types them. */
export async function press(stdin: { write: (data: string) => void }, ...keys: string[]): Promise<void> {
  for (const key of keys) {
    await pause(KEY_GAP_MS);
    stdin.write(key);
    await pause(KEY_GAP_MS);
  }
}

/**
 * The latest frame once it satisfies `predicate` (event batches render ~150 ms later). Polled:
 * ink-testing-library announces no frame.
 */
export async function frameMatching(
  lastFrame: () => string | undefined,
  predicate: (frame: string) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<string> {
  try {
    return await waitFor(
      () => {
        const frame = lastFrame() ?? '';
        return predicate(frame) ? frame : undefined;
      },
      { timeoutMs, intervalMs: 10, what: `a frame showing ${what}` },
    );
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}; last frame:\n${lastFrame() ?? '(none)'}`,
      {
        cause: error,
      },
    );
  }
}

export const KEYS = {
  up: '\u001B[A',
  down: '\u001B[B',
  enter: '\r',
  escape: '\u001B',
  backspace: '\u007F',
  ctrlC: '\u0003',
} as const;

/** SGR colour parameters (foreground/background, basic, bright, 256 and truecolor). */
// eslint-disable-next-line no-control-regex -- matching terminal escape codes is the point
export const COLOR_CODE = /\u001B\[(?:[0-9;]*;)?(?:3[0-79]|4[0-79]|9[0-7]|10[0-7]|38;|48;)[0-9;]*m/;

/** The text a reader sees: every escape sequence removed. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex -- removing terminal escape codes is the point
  return text.replace(/\u001B\[[0-9;]*[A-Za-z]/g, '');
}
