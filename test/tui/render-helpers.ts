/** Helpers for ink-testing-library: Ink reads stdin on a later tick, so await around writes. */
export function tick(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function press(stdin: { write: (data: string) => void }, ...keys: string[]): Promise<void> {
  for (const key of keys) {
    await tick();
    stdin.write(key);
    await tick();
  }
}

/** Polls the latest frame until it satisfies `predicate` (event batches render ~150 ms later). */
export async function frameMatching(
  lastFrame: () => string | undefined,
  predicate: (frame: string) => boolean,
  what: string,
  attempts = 100,
): Promise<string> {
  for (let i = 0; i < attempts; i++) {
    const frame = lastFrame() ?? '';
    if (predicate(frame)) return frame;
    await tick(20);
  }
  throw new Error(`no frame showed ${what}; last frame:\n${lastFrame() ?? '(none)'}`);
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
