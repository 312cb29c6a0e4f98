/**
 * Conformance: Apache Spark with delta-spark reads every table etld writes, row by row and type by
 * type. One JVM reads all tables (a JVM start costs ~10 s here). Needs the oracles installed by
 * `.ci/install-delta-oracles.sh`; without them this test fails with that instruction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './fixtures.js';
import { readWithOracle } from './oracle.js';
import type { OracleTable } from './oracle.js';
import type { Scenario } from './scenarios.js';
import { SCENARIO_NAMES, buildScenarios, expectScenario } from './scenarios.js';
import { Staging } from './staging.js';

describe('Spark (delta-spark) reads what etld writes', () => {
  let cleanup: () => Promise<void>;
  let staging: Staging;
  let scenarios: Scenario[];
  let tables: Record<string, OracleTable>;

  beforeAll(async () => {
    const temp = await tempDir('spark');
    cleanup = temp.cleanup;
    staging = await Staging.open();
    scenarios = await buildScenarios(temp.dir, staging);
    tables = await readWithOracle(
      'spark',
      scenarios.map((s) => s.path),
    );
  }, 600_000);
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
