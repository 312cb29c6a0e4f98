/**
 * Colour on and off. Ink's colours come from chalk, which decides its level when it is first
 * imported; vitest's stdout is not a terminal, so colour is forced before anything loads Ink.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { render as renderType, cleanup as cleanupType } from 'ink-testing-library';
import type { App as AppType } from '../../tui/console/app.js';
import { FakeDaemon } from './fake-daemon.js';
import { NOW, checksOfEveryStatus, logLine, pipeline, run } from './fixtures.js';
import { COLOR_CODE, frameMatching, press, stripAnsi } from './render-helpers.js';

let render: typeof renderType;
let cleanup: typeof cleanupType;
let App: typeof AppType;

beforeAll(async () => {
  process.env.FORCE_COLOR = '1';
  ({ render, cleanup } = await import('ink-testing-library'));
  ({ App } = await import('../../tui/console/app.js'));
});

afterEach(() => cleanup());

const FLEET = [
  pipeline({ name: 'good', last_run: run({ status: 'succeeded', checks: checksOfEveryStatus() }) }),
  pipeline({ name: 'bad', state: 'failed', last_run: run({ status: 'failed', pipeline: 'bad' }) }),
  pipeline({ name: 'busy', state: 'running' }),
  pipeline({ name: 'again', state: 'retrying' }),
  pipeline({ name: 'resting', paused: true }),
];

async function screen(
  color: boolean,
): Promise<{ frame: string; stdin: { write: (s: string) => void }; lastFrame: () => string | undefined }> {
  const daemon = new FakeDaemon(FLEET);
  daemon.logs = [logLine('an error happened', { pipeline: 'bad', level: 'error' })];
  const client = daemon.client();
  const { lastFrame, stdin } = render(
    <App
      connect={() => Promise.resolve(client)}
      readonly={false}
      color={color}
      clock={() => NOW}
      size={{ columns: 100, rows: 24 }}
    />,
  );
  const frame = await frameMatching(lastFrame, (f) => f.includes('resting'), 'the table');
  return { frame, stdin, lastFrame };
}

function lineOf(frame: string, name: string): string {
  return frame.split('\n').find((line) => line.includes(name)) ?? '';
}

describe('colours', () => {
  it('colour states by meaning: red failed, cyan running, yellow retrying, grey paused, green succeeded', async () => {
    const { frame } = await screen(true);
    expect(lineOf(frame, 'bad')).toContain('\u001B[31mfailed');
    expect(lineOf(frame, 'busy')).toContain('\u001B[36mrunning');
    expect(lineOf(frame, 'again')).toContain('\u001B[33mretrying');
    expect(lineOf(frame, 'resting')).toContain('\u001B[90mpaused');
    expect(lineOf(frame, 'good')).toContain('\u001B[32mok ');
  });

  it('NO_COLOR / --no-color: no colour codes anywhere, states still readable', async () => {
    const { frame, stdin, lastFrame } = await screen(false);
    expect(frame).not.toMatch(COLOR_CODE);
    const text = stripAnsi(frame);
    for (const word of ['failed', 'running', 'retrying', 'paused', 'ok ']) expect(text).toContain(word);
    // The selection stays visible as a marker, not only as a colour.
    expect(text).toContain('› again');
    await press(stdin, 'l');
    const logs = await frameMatching(lastFrame, (f) => f.includes('logs: again'), 'the log pane');
    expect(logs).not.toMatch(COLOR_CODE);
  });

  it('check statuses in the detail view: red FAIL, yellow QUARANTINE and WARN, green PASS; words without colour', async () => {
    for (const color of [true, false]) {
      const { stdin, lastFrame } = await screen(color);
      await press(stdin, 'j', 'j', 'j', '\r');
      const frame = await frameMatching(lastFrame, (f) => f.includes('checks: '), 'the checks');
      if (color) {
        // Bold is incidental here: only the colour code in front of each word is the point.
        const colourOf = (name: string): string => lineOf(frame, name).replaceAll('\u001B[1m', '');
        expect(colourOf('max_null_pct(phone)')).toContain('\u001B[31mFAIL');
        expect(colourOf('range(amount)')).toContain('\u001B[33mQUARANTINE');
        expect(colourOf('not_null(email)')).toContain('\u001B[33mWARN');
        expect(colourOf('min_rows')).toContain('\u001B[32mPASS');
      } else {
        expect(frame).not.toMatch(COLOR_CODE);
        for (const word of ['FAIL', 'QUARANTINE', 'WARN', 'PASS'])
          expect(stripAnsi(frame)).toContain(`  ${word} `);
      }
      cleanup();
    }
  });

  it('search matches are highlighted in the log pane', async () => {
    const { stdin, lastFrame } = await screen(true);
    await press(stdin, 'j', 'l');
    await frameMatching(lastFrame, (f) => f.includes('an error happened'), 'the log line');
    await press(stdin, '/', 'e', 'r', 'r', '\r');
    const frame = await frameMatching(lastFrame, (f) => f.includes('1 matching lines'), 'the search');
    // eslint-disable-next-line no-control-regex -- inverse video around the match
    expect(lineOf(frame, 'happened')).toMatch(/\u001B\[7m.*err.*\u001B\[27m/u);
  });
});
