/**
 * The `files_quarantined` alert's mail, webhook body and Slack message, built from one alert: every
 * listed key with its reason as given, at most 20 files with the rest counted, and nothing of a
 * file besides its key and reason (the engine's records of a file carry more).
 */
import { describe, expect, it } from 'vitest';
import type { MessageContext } from '../../daemon/alerts/alert-messages.js';
import {
  filesQuarantinedDetails,
  filesQuarantinedMail,
  type FilesQuarantinedAlert,
} from '../../daemon/alerts/files-quarantined-message.js';
import { slackMessage } from '../../daemon/alerts/slack-message.js';
import { alertBody } from '../../daemon/alerts/webhook-body.js';

const CTX: MessageContext = {
  host: 'etl-host-1',
  now: new Date('2026-05-21T10:00:00.000Z'),
  unit: 'etld',
  suppressed: 0,
  suppressedSince: null,
  throttleMs: 30 * 60_000,
};

function alertOf(count: number): FilesQuarantinedAlert {
  const files = Array.from({ length: count }, (_, i) => {
    const key = `in/${String(i + 1).padStart(2, '0')}.ndjson`;
    return { key, reason: `${key} line ${i + 2}: invalid JSON (unexpected end of input)` };
  });
  return { pipeline: 'events', runId: 'events-9', rows: 250, files };
}

/** What a webhook receiver gets as `alert.details`. */
function webhookDetails(alert: FilesQuarantinedAlert): Record<string, unknown> {
  const mail = filesQuarantinedMail(alert, CTX);
  const body = alertBody(
    {
      id: 'etl-host-1:alert:1',
      kind: 'files_quarantined',
      pipeline: alert.pipeline,
      runId: alert.runId,
      occurredAt: CTX.now.toISOString(),
      subject: mail.subject,
      text: mail.text,
      suppressed: 0,
      suppressedSince: null,
      details: filesQuarantinedDetails(alert),
    },
    { host: 'etl-host-1', version: '0.2.0' },
  );
  return JSON.parse(body).alert.details;
}

describe('files_quarantined alert texts', () => {
  it('names one file with its reason, in the singular', () => {
    const alert = alertOf(1);
    const mail = filesQuarantinedMail(alert, CTX);
    expect(mail.subject).toBe('[etld] events FILES QUARANTINED: 1 file (run events-9)');
    expect(mail.text).toContain(
      'Pipeline events: run events-9 quarantined 1 file (source.on_bad_file: skip). The run succeeded; nothing of this file was loaded.\n' +
        'It stays out until a new version arrives (a changed file is tried again) or etlctl files forget events KEY is run.',
    );
    expect(mail.text).toContain(
      'Quarantined files:\n  in/01.ndjson\n    in/01.ndjson line 2: invalid JSON (unexpected end of input)\n\nTo look further:',
    );
    expect(webhookDetails(alert)).toEqual({
      pipeline: 'events',
      run_id: 'events-9',
      rows: 250,
      file_count: 1,
      files: alert.files,
      files_not_listed: 0,
    });
  });

  it('lists exactly 20 files without a remainder line', () => {
    const alert = alertOf(20);
    const mail = filesQuarantinedMail(alert, CTX);
    for (const f of alert.files) expect(mail.text).toContain(`  ${f.key}\n    ${f.reason}\n`);
    expect(mail.text).not.toContain('more;');
    expect(webhookDetails(alert)).toMatchObject({ file_count: 20, files_not_listed: 0 });
  });

  it('caps the list at 20 in the mail, the webhook and Slack, and counts the rest', () => {
    const alert = alertOf(27);
    const mail = filesQuarantinedMail(alert, CTX);
    expect(mail.subject).toBe('[etld] events FILES QUARANTINED: 27 files (run events-9)');
    const keyLines = mail.text.split('\n').filter((line) => /^ {2}in\/\d+\.ndjson$/.test(line));
    expect(keyLines).toEqual(alert.files.slice(0, 20).map((f) => `  ${f.key}`));
    for (const f of alert.files.slice(20)) {
      expect(mail.text).not.toContain(f.key);
      expect(mail.text).not.toContain(f.reason);
    }
    expect(mail.text).toContain(
      `    ${alert.files[19]!.reason}\n  and 7 more; etlctl files events --quarantined lists them all.\n`,
    );

    const details = webhookDetails(alert);
    expect(details).toMatchObject({ file_count: 27, files_not_listed: 7 });
    expect(details.files).toEqual(alert.files.slice(0, 20));

    const slack = JSON.parse(slackMessage(mail)) as { text: string; blocks: { text: { text: string } }[] };
    expect(slack.text).toBe(mail.subject);
    const slackText = slack.blocks.map((b) => b.text.text).join('\n');
    expect(slackText).toContain('and 7 more; etlctl files events --quarantined lists them all.');
    expect(slackText).toContain(alert.files[19]!.reason);
    expect(slackText).not.toContain(alert.files[20]!.key);
  });

  it('carries nothing of a file but its key and reason, whatever else the record holds', () => {
    // The engine's records of a quarantined file hold its size, version and time, and a careless
    // caller could hand over more: none of it may reach a channel.
    const record = {
      key: 'crm/contacts.csv',
      reason: 'crm/contacts.csv line 4, column email: value too long for varchar(64)',
      size: 81_920,
      version: '"9b2cf535f27731c974343645a3985328"',
      firstRow: 'jane.doe@example.com,+44 20 7946 0958',
    };
    const alert: FilesQuarantinedAlert = { pipeline: 'crm', runId: 'crm-3', rows: 0, files: [record] };
    const mail = filesQuarantinedMail(alert, CTX);
    const details = webhookDetails(alert);
    const everything = JSON.stringify({ mail, details });
    for (const leaked of ['jane.doe@example.com', '7946', '81920', '9b2cf535', 'first_row', 'size'])
      expect(everything).not.toContain(leaked);
    expect(details.files).toEqual([{ key: record.key, reason: record.reason }]);
    expect(mail.text).toContain(`  ${record.key}\n    ${record.reason}\n`);
  });

  it('counts the alerts the throttle held back since the last mail', () => {
    const mail = filesQuarantinedMail(alertOf(2), {
      ...CTX,
      suppressed: 3,
      suppressedSince: '2026-05-21T09:40:00.000Z',
    });
    expect(mail.text).toContain(
      '3 more quarantined-files alerts were suppressed since 2026-05-21T09:40:00.000Z (one mail per 30m).',
    );
  });
});
