/**
 * Conformance: Apache Spark with delta-spark reads every table etld writes, row by row and type by
 * type. One JVM reads all tables (a JVM start costs ~10 s here). Needs the oracles installed by
 * `.ci/install-delta-oracles.sh`; without them this test fails with that instruction.
 */
import { runReadbackConformance } from './readback.case.js';

runReadbackConformance('Spark (delta-spark) reads what etld writes', 'spark', 600_000);
