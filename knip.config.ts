import type { KnipConfig } from 'knip';

const config: KnipConfig = {
  entry: [
    'demo/main.ts',
    'bench/main.ts',
    'bench/idle/main.ts',
    // `npm run docs`: writes the generated reference pages (compiled by tsconfig.tools.json, run with node).
    'tools/docs/main.ts',
    'test/**/*.test.{ts,tsx}',
    // Run as child processes by tests (a process killed mid-commit), so nothing imports them.
    'test/delta/fixtures/*.ts',
    // A worker thread of the fleet claim race (test/fleet/postgres-coordinator.test.ts), loaded by path.
    'test/fleet/claim-worker.ts',
    // The hosts of the fleet source slot race (test/fleet/fleet-source-slots.test.ts), loaded by path.
    'test/fleet/slots-worker.ts',
    // `npm run chaos`: the chaos harness's command-line entry (compiled by tsconfig.chaos.json, run with node).
    'test/chaos/main.ts',
  ],
  project: [
    'daemon/**/*.{ts,tsx}',
    'tui/**/*.{ts,tsx}',
    'shared/**/*.ts',
    'demo/**/*.ts',
    'bench/**/*.ts',
    'tools/**/*.ts',
    'test/**/*.{ts,tsx}',
  ],
  // An export used inside its own module is part of that module's shape, not dead code.
  ignoreExportsUsedInFile: true,
  ignoreDependencies: [
    // The Azure Blob emulator of the storage tests, started from node_modules/.bin/azurite-blob
    // (test/helpers/object-store-emulators.ts), never imported.
    'azurite',
  ],
  ignoreBinaries: [
    // Debian's MariaDB server binary, installed by .ci/run; tests start throwaway instances of it.
    'mariadbd',
    // coreutils: the engine makes the per-part FIFOs that stream extraction into DuckDB with it
    // (Node has no mkfifo API).
    'mkfifo',
    // util-linux: the chaos harness's full-disk fault mounts a small tmpfs for one step.
    'mount',
    'umount',
  ],
};

export default config;
