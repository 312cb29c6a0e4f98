import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import { pipelineSchema } from '../../shared/config/pipeline-schema.js';
import { configSections } from '../../tools/docs/config-reference.js';
import { GENERATED_DOCS, renderGeneratedDocs } from '../../tools/docs/generated-docs.js';
import { slug } from '../../tools/docs/markdown.js';
import { VERBS } from '../../tui/cli/verbs.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the generated reference (npm run docs)', () => {
  it('is committed as generated: run `npm run docs` after changing a schema or the verb table', async () => {
    const pages = await renderGeneratedDocs(ROOT);
    expect([...pages.keys()]).toEqual(GENERATED_DOCS.map((d) => d.file));
    for (const [file, text] of pages) {
      const committed = readFileSync(join(ROOT, file), 'utf8');
      expect({ file, upToDate: committed === text }).toEqual({ file, upToDate: true });
    }
  });

  it('describes every field of a pipeline file and of etld.yaml (.describe() in the schema)', () => {
    for (const [schema, name] of [
      [pipelineSchema, 'pipeline'],
      [daemonSettingsSchema, 'etld.yaml'],
    ] as const) {
      const sections = configSections(schema, 'Top level', '');
      const undescribed = sections.flatMap((s) =>
        s.rows.filter((r) => r.description === '').map((r) => `${s.title} ${r.field}`),
      );
      expect({ name, undescribed }).toEqual({ name, undescribed: [] });
      expect(sections.length).toBeGreaterThan(5);
    }
  });

  it('shows durations and sizes the way a file writes them, and marks what is required', () => {
    const rows = configSections(pipelineSchema, 'Top level', '').flatMap((s) =>
      s.rows.map((r) => [`${s.title} ${r.field}`, r.defaultValue]),
    );
    const byField = Object.fromEntries(rows);
    expect(byField['`error_handling` `retry_delay`']).toBe('`5s`');
    expect(byField['`error_handling` `max_retry_delay`']).toBe('`15m`');
    expect(byField['Top level `name`']).toBe('**required**');
    expect(byField['Top level `overlap`']).toBe('`skip`');
    const settings = Object.fromEntries(
      configSections(daemonSettingsSchema, 'Top level', '').flatMap((s) =>
        s.rows.map((r) => [`${s.title} ${r.field}`, r.defaultValue]),
      ),
    );
    expect(settings['`logs` `max_size`']).toBe('`10MB`');
    expect(settings['`defaults` `memory_limit`']).toBe('`96MB`');
  });

  it('has a section for every etlctl verb, with its --json document or the lack of one', async () => {
    const page = (await renderGeneratedDocs(ROOT)).get('docs/etlctl.md') ?? '';
    for (const verb of VERBS) {
      expect(page).toContain(`### \`etlctl ${verb.name}\``);
      expect(page).toContain(`](#${slug(`\`etlctl ${verb.name}\``)})`);
    }
    expect(page).toContain('`{"schema": 1, "pipelines": [ … ]}`');
    expect(page).toContain('`{"schema": 1, "runs": [ … ]}`');
  });
});
