/**
 * The one place that knows nodemailer. AlertService only needs `send`, so tests and a future
 * transport (webhook, sendmail) plug in without touching the throttling and retry logic.
 */
import { createTransport } from 'nodemailer';
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
 */
export function createSmtpTransport(
  smtp: SmtpSettings,
  password: string | null,
  timeouts: SmtpTimeouts = {},
): MailTransport {
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
  return {
    async send(message) {
      await transporter.sendMail({
        from: message.from,
        to: [...message.to],
        subject: message.subject,
        text: message.text,
      });
    },
    close() {
      transporter.close();
    },
  };
}
