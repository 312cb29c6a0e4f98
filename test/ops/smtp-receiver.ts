import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  readonly subject: string;
  readonly text: string;
  readonly secure: boolean;
  readonly user: string | null;
}

export interface SmtpReceiver {
  readonly port: number;
  readonly mails: ReceivedMail[];
  /** MAIL FROM commands seen, accepted or refused. */
  attempts: number;
  close(): Promise<void>;
}

/** Undoes quoted-printable transfer encoding (nodemailer uses it for long text lines). */
function decodeQuotedPrintable(body: string): string {
  const bytes = body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function parseMessage(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const header = (name: string): string =>
    new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
  const encoding = header('Content-Transfer-Encoding').toLowerCase();
  const decoded =
    encoding === 'quoted-printable'
      ? decodeQuotedPrintable(body)
      : encoding === 'base64'
        ? Buffer.from(body, 'base64').toString('utf8')
        : body;
  return { subject: header('Subject'), text: decoded.replace(/\r\n/g, '\n').replace(/\n$/, '') };
}

/**
 * A real SMTP server on loopback that stores what it receives. `refuseFirst` rejects that many
 * MAIL FROM commands with a temporary 451 error first.
 */
export async function startSmtpReceiver(
  options: {
    refuseFirst?: number;
    auth?: { user: string; pass: string };
    starttls?: boolean;
    implicitTls?: boolean;
  } = {},
): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const state = { attempts: 0 };
  const serverOptions: SMTPServerOptions = {
    logger: false,
    secure: options.implicitTls ?? false,
    authOptional: options.auth === undefined,
    ...(options.starttls || options.implicitTls
      ? {}
      : { disabledCommands: options.auth ? [] : ['AUTH', 'STARTTLS'], hideSTARTTLS: true }),
    ...(options.auth && !options.starttls && !options.implicitTls ? { allowInsecureAuth: true } : {}),
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error('Invalid username or password'));
      }
    },
    onMailFrom(_address, _session, callback) {
      state.attempts += 1;
      if (state.attempts <= (options.refuseFirst ?? 0)) {
        const error = Object.assign(new Error('Try again later'), { responseCode: 451 });
        callback(error);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const { subject, text } = parseMessage(Buffer.concat(chunks).toString('latin1'));
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject,
          text,
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : null,
        });
        callback();
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  // A client that gives up mid-handshake (a refused certificate, a dropped connection) makes the
  // server emit 'error'; for a receiver that is an event to tolerate, not a crash of the test run.
  server.on('error', () => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  return {
    port,
    mails,
    get attempts() {
      return state.attempts;
    },
    set attempts(value: number) {
      state.attempts = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
