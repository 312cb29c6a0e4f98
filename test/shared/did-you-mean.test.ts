import { describe, expect, test } from 'vitest';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import { pipelineSchema } from '../../shared/config/pipeline-schema.js';
import { formatProblem, parseYamlWithSchema } from '../../shared/config/yaml-document.js';
import { closestMatch, didYouMean } from '../../shared/did-you-mean.js';

function problems(text: string, schema: typeof pipelineSchema | typeof daemonSettingsSchema): string[] {
  const result = parseYamlWithSchema('f.yaml', text, schema);
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe('did you mean', () => {
  test('a typo gets the closest name; something unrelated gets nothing', () => {
    expect(closestMatch('conection', ['connection', 'columns', 'table'])).toBe('connection');
    expect(closestMatch('stauts', ['start', 'status', 'stop'])).toBe('status');
    expect(closestMatch('Shedule', ['schedule', 'timezone'])).toBe('schedule');
    expect(closestMatch('banana', ['connection', 'columns', 'table'])).toBeUndefined();
    expect(closestMatch('x', ['y', 'z'])).toBe('y');
    expect(didYouMean('tabel', ['table'])).toBe(' (did you mean "table"?)');
    expect(didYouMean('zzzzzz', ['table'])).toBe('');
  });
});

describe('unknown fields', () => {
  test("point at the unknown field's own line and suggest the known one (pipeline files)", () => {
    const text = `name: orders
source:
  type: postgres
  table: public.orders
  conection: { host: db1 }
load: { mode: full }
destination: { type: duckdb, path: x.duckdb, tabel: orders }
`;
    expect(problems(text, pipelineSchema)).toEqual([
      'f.yaml:3:3 source.connection: required field is missing (a postgres source needs a connection)',
      'f.yaml:5:3 source: unknown field "conection" (did you mean "connection"?)',
      'f.yaml:7:14 destination.table: required field is missing (expected string)',
      'f.yaml:7:46 destination: unknown field "tabel" (did you mean "table"?)',
    ]);
  });

  test('each of several unknown fields is its own problem, at its own line', () => {
    const text = `name: orders
shedule: "@daily"
descriptoin: x
banana: 1
source: { type: postgres, connection: { host: db1 }, table: t }
load: { mode: full }
destination: { type: delta, path: x }
`;
    expect(problems(text, pipelineSchema)).toEqual([
      'f.yaml:2:1 unknown field "shedule" (did you mean "schedule"?)',
      'f.yaml:3:1 unknown field "descriptoin" (did you mean "description"?)',
      'f.yaml:4:1 unknown field "banana"',
    ]);
  });

  test('the field list follows the destination type the file names', () => {
    const text = `name: orders
source: { type: postgres, connection: { host: db1 }, table: t }
load: { mode: full }
destination:
  type: bigquery
  project: p
  dataset: d
  table: t
  formt: parquet
`;
    expect(problems(text, pipelineSchema)).toEqual([
      'f.yaml:9:3 destination: unknown field "formt" (did you mean "format"?)',
    ]);
  });

  test('daemon settings get the same help', () => {
    expect(
      problems('smtp: { host: 127.0.0.1, prot: 25, from: "x <x@y.z>" }\n', daemonSettingsSchema),
    ).toEqual(['f.yaml:1:26 smtp: unknown field "prot" (did you mean "port"?)']);
    expect(problems('defaults:\n  paralelism: 4\nlogz: {}\n', daemonSettingsSchema)).toEqual([
      'f.yaml:2:3 defaults: unknown field "paralelism" (did you mean "parallelism"?)',
      'f.yaml:3:1 unknown field "logz" (did you mean "logs"?)',
    ]);
  });
});
