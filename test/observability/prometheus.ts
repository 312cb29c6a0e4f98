/** Prometheus text for tests: `promtool check metrics` (Debian's prometheus package) and a small value reader. */
import { runCommand } from '../helpers/process.js';

/** Runs `promtool check metrics` on `text`; throws with its complaints, or if promtool is missing. */
export async function promtoolCheck(text: string): Promise<void> {
  let result;
  try {
    result = await runCommand('promtool', ['check', 'metrics'], { input: text });
  } catch (error) {
    throw new Error(
      `promtool is missing (.ci/run installs it from Debian's prometheus package): ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (result.code !== 0) throw new Error(`promtool check metrics failed:\n${result.stdout}${result.stderr}`);
}

/** `name{a="x",b="y"}` (labels sorted) → value, for every sample line. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels = (match[2] ?? '')
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter((l) => l !== '')
      .sort();
    out.set(`${match[1]}${labels.length > 0 ? `{${labels.join(',')}}` : ''}`, Number(match[3]));
  }
  return out;
}
