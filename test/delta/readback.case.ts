/**
 * The read-back conformance both oracles run (Hono's runTest pattern): every scenario table etld
 * writes must read back identically — rows, types and table version — in the given engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './fixtures.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import type { OracleTable } from '../conformance/delta-oracle.js';
import type { Scenario } from './scenarios.js';
import { SCENARIO_NAMES, buildScenarios, expectScenario } from './scenarios.js';
import { Staging } from './staging.js';

export function runReadbackConformance(
  title: string,
  engine: Parameters<typeof readWithOracle>[0],
  setupTimeoutMs?: number,
): void {
  describe(title, () => {
    let cleanup: () => Promise<void>;
    let staging: Staging;
    let scenarios: Scenario[];
    let tables: Record<string, OracleTable>;

    beforeAll(async () => {
      const temp = await tempDir(engine);
      cleanup = temp.cleanup;
      staging = await Staging.open();
      scenarios = await buildScenarios(temp.dir, staging);
      tables = await readWithOracle(
        engine,
        scenarios.map((s) => s.path),
      );
    }, setupTimeoutMs);
    afterAll(async () => {
      staging.close();
      await cleanup();
    });

    for (const name of SCENARIO_NAMES) {
      it(name, () => {
        const scenario = scenarios.find((s) => s.name === name);
        expect(scenario).toBeDefined();
        if (!scenario) return;
        const table = tables[scenario.path];
        expectScenario(scenario, table);
        expect(table?.version).toBe(scenario.version);
      });
    }
  });
}
