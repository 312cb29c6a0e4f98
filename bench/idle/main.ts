/**
 * `npm run bench:idle`: the resident memory of an idle etld with N pipelines configured, measured
 * a few times with and without the systemd unit's V8 flag. RSS is measured here, never asserted
 * by tests (test/daemon/idle-footprint.test.ts guards what an idle daemon loads instead).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { median } from '../measure.js';
import { etldMainPath } from '../repo-root.js';
import { measureIdle, type IdleSample } from './idle-daemon.js';

const HELP = `npm run bench:idle -- [--pipelines N] [--repeat N] [--settle SECONDS]

  --pipelines N     pipeline files in the throwaway home (default 100)
  --repeat N        measurements per configuration; the median is reported (default 3)
  --settle SECONDS  time between start and the reading (default 12)
`;

/** The configurations compared: plain node, and the flag systemd/etld.service sets. */
const CONFIGS: readonly { readonly label: string; readonly flags: readonly string[] }[] = [
  { label: 'node defaults', flags: [] },
  { label: '--max-semi-space-size=1 (the etld command, etld.service)', flags: ['--max-semi-space-size=1'] },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pipelines: { type: 'string', default: '100' },
      repeat: { type: 'string', default: '3' },
      settle: { type: 'string', default: '12' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const pipelines = Number(values.pipelines);
  const repeat = Number(values.repeat);
  const settle = Number(values.settle);
  if (![pipelines, repeat].every((n) => Number.isInteger(n) && n >= 1) || !(settle > 0)) {
    process.stderr.write(`bench: --pipelines and --repeat take positive integers, --settle seconds\n${HELP}`);
    process.exit(2);
  }
  const etldMain = etldMainPath();
  if (!existsSync(etldMain)) throw new Error(`${etldMain} is missing: run npm run build first`);
  // The unit's NODE_OPTIONS must not leak into the "node defaults" row.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;

  const rows: string[] = [];
  for (const config of CONFIGS) {
    const samples: IdleSample[] = [];
    for (let i = 0; i < repeat; i++) {
      const s = await measureIdle({
        nodePath: process.execPath,
        etldMain,
        pipelines,
        settleMs: settle * 1000,
        nodeFlags: config.flags,
        env,
      });
      process.stdout.write(
        `${config.label} run ${i + 1}/${repeat}: ${s.rssMb.toFixed(1)} MB (anon ${s.anonMb.toFixed(1)}, file ${s.fileMb.toFixed(1)}), addons ${s.addons.join(' ')}\n`,
      );
      samples.push(s);
    }
    const m = (pick: (s: IdleSample) => number): string => median(samples.map(pick)).toFixed(1);
    rows.push(`| ${config.label} | ${m((s) => s.rssMb)} | ${m((s) => s.anonMb)} | ${m((s) => s.fileMb)} |`);
  }
  process.stdout.write(
    [
      '',
      `idle etld, ${pipelines} pipelines, ${settle} s after start (median of ${repeat}, MiB):`,
      '| configuration | VmRSS | RssAnon | RssFile |',
      '| --- | --: | --: | --: |',
      ...rows,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
