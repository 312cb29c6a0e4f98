import type { KnipConfig } from 'knip';

const config: KnipConfig = {
  entry: [
    'daemon/main.ts',
    'tui/cli/main.ts',
    'tui/console/main.tsx',
    'demo/main.ts',
    'bench/main.ts',
    'test/**/*.test.{ts,tsx}',
    'test/fixtures/**/*.ts',
  ],
  project: ['daemon/**/*.{ts,tsx}', 'tui/**/*.{ts,tsx}', 'shared/**/*.ts', 'demo/**/*.ts', 'bench/**/*.ts', 'test/**/*.{ts,tsx}'],
  ignoreBinaries: [
    // Installed by .ci/run from Debian packages, not npm.
    'systemd-analyze',
  ],
};

export default config;
