/**
 * A Slack incoming-webhook message with the same content as the alert mail: the subject as the
 * notification text and headline, the mail's body in preformatted sections (its aligned table
 * and commands stay readable). Slack limits a section's text to 3000 characters and a message to
 * 50 blocks, so a long body is split by lines and, past the limit, cut with a note.
 */
import type { MailText } from './alert-messages.js';

const SECTION_LIMIT = 3000;
const MAX_BLOCKS = 50;

/** Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting). */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const piece = line.length > size ? `${line.slice(0, size - 1)}…` : line;
    if (current !== '' && current.length + 1 + piece.length > size) {
      out.push(current);
      current = piece;
    } else current = current === '' ? piece : `${current}\n${piece}`;
  }
  if (current !== '') out.push(current);
  return out;
}

export function slackMessage(mail: MailText): string {
  const fence = '```';
  const bodies = chunks(escape(mail.text), SECTION_LIMIT - 2 * fence.length - 2);
  const room = MAX_BLOCKS - 1;
  const kept =
    bodies.length > room ? [...bodies.slice(0, room - 1), '(message cut: see the mail or etlctl)'] : bodies;
  return JSON.stringify({
    text: mail.subject,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escape(mail.subject)}*` } },
      ...kept.map((body) => ({
        type: 'section',
        text: { type: 'mrkdwn', text: `${fence}\n${body}\n${fence}` },
      })),
    ],
  });
}
