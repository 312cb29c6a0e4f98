/**
 * The one place that knows nodemailer. AlertService only needs `send`, so tests and a future
 * transport (webhook, sendmail) plug in without touching the throttling and retry logic.
 */
import type { Transporter } from 'nodemailer';
import type { DaemonSettings } from '../../shared/config/daemon-schema.js';

export interface MailMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
}

export interface MailTransport {
  /** Resolves when the server accepted the message; rejects with the server's or socket's error. */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export type SmtpSettings = NonNullable<DaemonSettings['smtp']>;

export interface SmtpTimeouts {
  readonly connectionMs?: number;
  readonly greetingMs?: number;
  readonly socketMs?: number;
}

/**
 * SMTP over nodemailer. `tls` is implicit TLS (port 465); otherwise `starttls` makes the upgrade
 * mandatory (`requireTLS`), so credentials never cross the network in clear. `password` is the
 * already resolved secret (password_file / password_env are read by the daemon's secrets code).
 *
 * nodemailer is imported on the first send, not here: it adds ~26 MB to the resident set of a
 * daemon that, with alerts configured but nothing failing, may never send a mail.
 */
export function createSmtpTransport(
  smtp: SmtpSettings,
  password: string | null,
  timeouts: SmtpTimeouts = {},
): MailTransport {
  let opening: Promise<Transporter> | undefined;
  let opened: Transporter | undefined;
  const open = async (): Promise<Transporter> => {
    const { createTransport } = await import('nodemailer');
    const transporter = createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.tls,
      requireTLS: !smtp.tls && smtp.starttls,
      ignoreTLS: !smtp.tls && !smtp.starttls,
      ...(smtp.user !== undefined ? { auth: { user: smtp.user, pass: password ?? '' } } : {}),
      tls: { rejectUnauthorized: smtp.reject_unauthorized },
      // Bounded so a black-holed mail server cannot keep a delivery (and daemon shutdown) waiting.
      connectionTimeout: timeouts.connectionMs ?? 15_000,
      greetingTimeout: timeouts.greetingMs ?? 15_000,
      socketTimeout: timeouts.socketMs ?? 60_000,
    });
    opened = transporter;
    return transporter;
  };
  return {
    async send(message) {
      // One import and one transporter however many alerts are sent at the same moment.
      opening ??= open();
      const transporter = await opening;
      await transporter.sendMail({
        from: message.from,
        to: [...message.to],
        subject: message.subject,
        text: message.text,
      });
    },
    // Not pooled: each send opens and closes its own connection, so a close() that comes while
    // the first send is still importing nodemailer leaves nothing open behind it.
    close() {
      opened?.close();
    },
  };
}
