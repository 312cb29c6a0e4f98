/** The reference pages `npm run docs` writes, each from the code it documents. */
import { join } from 'node:path';
import { etlctlReference } from './cli-page.js';
import { pipelineReference, settingsReference } from './config-pages.js';
import { formatMarkdown } from './markdown.js';

export const GENERATED_DOCS: readonly { readonly file: string; readonly render: () => string }[] = [
  { file: 'docs/pipeline-reference.md', render: pipelineReference },
  { file: 'docs/settings-reference.md', render: settingsReference },
  { file: 'docs/etlctl.md', render: etlctlReference },
];

/** Each page as `npm run docs` writes it (formatted as prettier formats Markdown here). */
export async function renderGeneratedDocs(root: string): Promise<Map<string, string>> {
  const pages = new Map<string, string>();
  for (const doc of GENERATED_DOCS) {
    pages.set(doc.file, await formatMarkdown(doc.render(), join(root, doc.file)));
  }
  return pages;
}
