/** docs/pipeline-reference.md and docs/settings-reference.md, generated from the zod schemas. */
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import { pipelineSchema } from '../../shared/config/pipeline-schema.js';
import { configSections, renderSections } from './config-reference.js';
import { generatedNote } from './markdown.js';

export function pipelineReference(): string {
  return [
    '# Pipeline file reference',
    '',
    generatedNote('`shared/config/pipeline-schema.ts` (the schema the daemon validates with)'),
    '',
    'One YAML file per pipeline in the pipelines directory (`$ETLD_HOME/pipelines/*.yaml`, else',
    '`/etc/etld/pipelines/*.yaml`). The daemon reads them at start-up and on `etlctl reload` or SIGHUP,',
    'and never writes them. `etlctl validate FILE` checks a file without a daemon and names the',
    '`file:line:column` of every problem; `etlctl generate NAME` writes a commented file to start from.',
    'Editors complete and check the same fields with `schema/pipeline.schema.json` (see the README).',
    '',
    'Durations are written `500ms`, `30s`, `15m`, `2h`, `1d` or combined (`1h30m`). Secrets never appear in',
    'the file: a connection names an environment variable (`password_env`) or a file (`password_file`).',
    'What each load mode guarantees is in [load-modes.md](load-modes.md), the checks in',
    '[checks.md](checks.md), and the daemon settings in [settings-reference.md](settings-reference.md).',
    '',
    '```yaml',
    'name: orders',
    'schedule: "0 */2 * * *"',
    'source:',
    '  type: postgres',
    '  connection: { host: db1, database: shop, user: etl, password_env: SHOP_DB_PASSWORD }',
    '  table: public.orders',
    '  key: [id]',
    'load: { mode: incremental, cursor: updated_at }',
    'destination: { type: delta, path: orders }',
    '```',
    '',
    renderSections(configSections(pipelineSchema, 'Top level', 'The fields of a pipeline file')),
  ].join('\n');
}

export function settingsReference(): string {
  return [
    '# Daemon settings reference (`etld.yaml`)',
    '',
    generatedNote('`shared/config/daemon-schema.ts` (the schema the daemon validates with)'),
    '',
    "The daemon's settings: `$ETLD_HOME/etld.yaml` (or `etld --home DIR`), `/etc/etld/etld.yaml` for the",
    'system service, or the file `ETLD_CONFIG` / `etld --config FILE` names (which must then exist). Every',
    'field is optional; a missing default file means every default. An invalid file stops the daemon',
    'with exit code 78, naming the file, line and field, and systemd does not restart it.',
    '',
    'With a home directory `DIR` everything lives under it: `DIR/etld.yaml`, `DIR/pipelines/`, `DIR/state/`,',
    '`DIR/logs/`, `DIR/run/etld.sock`, `DIR/lake/`. Without one the daemon uses `/etc/etld`, `/var/lib/etld`,',
    '`/var/log/etl` and `/run/etld`. The pipeline files are described in',
    '[pipeline-reference.md](pipeline-reference.md); the alert bodies, metrics and journald fields in',
    '[observability.md](observability.md).',
    '',
    '```yaml',
    'control: { tcp: { listen: "127.0.0.1:7070", token_file: /etc/etld/token } }',
    'logs: { max_size: 10MB, keep: 7 }',
    'smtp: { host: mail.example.com, user: etld, password_file: /etc/etld/smtp.pass, from: "etld <etld@example.com>" }',
    'alerts: { email: [data-oncall@example.com], throttle: 30m }',
    'defaults: { parallelism: 4, stall_timeout: 10m, grace_period: 60s }',
    '```',
    '',
    renderSections(configSections(daemonSettingsSchema, 'Top level', 'The fields of etld.yaml')),
  ].join('\n');
}
