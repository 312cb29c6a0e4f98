/**
 * A loopback HTTP proxy in front of an emulator that answers the first `count` requests itself
 * with a canned failure (503 SlowDown, 429, 403…) and forwards the rest untouched. The SDK under
 * test talks to it as to the service: its real retry and error paths run against real answers.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

export interface CannedFailure {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface HttpFaultProxy {
  readonly endpoint: string;
  /** Requests seen, failed and forwarded since start. */
  readonly counts: { seen: number; failed: number; forwarded: number };
  /** Answers the next `count` requests with `failure`. */
  failNext(count: number, failure: CannedFailure): void;
  close(): Promise<void>;
}

export async function startHttpFaultProxy(target: string): Promise<HttpFaultProxy> {
  const upstream = new URL(target);
  const counts = { seen: 0, failed: 0, forwarded: 0 };
  let left = 0;
  let failure: CannedFailure | undefined;

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const server = createServer((req, res) => {
    counts.seen++;
    if (left > 0 && failure !== undefined) {
      left--;
      counts.failed++;
      const canned = failure;
      // Read the request body first: an SDK still sending it would see a reset, not the answer.
      req.resume();
      req.on('end', () => {
        res.writeHead(canned.status, { ...canned.headers, 'content-length': Buffer.byteLength(canned.body) });
        res.end(canned.body);
      });
      return;
    }
    counts.forwarded++;
    forward(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    failNext(count, next) {
      left = count;
      failure = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
