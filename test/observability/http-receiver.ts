/**
 * Loopback HTTP receivers for alert channels: a generic webhook receiver (records every request;
 * answers can be scripted) and a Slack-format receiver that answers like Slack's incoming
 * webhooks: `ok`, or 400 `invalid_payload` for a message Slack would refuse.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Receiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** The next answers, in order; afterwards 200. `hang` never answers. */
  answers: (number | 'hang')[];
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

export async function startWebhookReceiver(path = '/hooks/etld/T0K3N-in-path'): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const receiver: Receiver = {
    url: '',
    requests,
    answers: [],
    close: () => Promise.resolve(),
  };
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      requests.push({
        at: Date.now(),
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
      });
      const answer = receiver.answers.shift() ?? 200;
      if (answer === 'hang') return;
      response
        .writeHead(answer, { 'Content-Type': 'text/plain' })
        .end(answer === 200 ? 'ok' : `error ${answer}`);
    });
  });
  const port = await listen(server);
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** What Slack checks of an incoming-webhook message (the subset etld uses). */
export function slackProblems(payload: unknown): string[] {
  const problems: string[] = [];
  const message = payload as { text?: unknown; blocks?: unknown };
  if (typeof message.text !== 'string' || message.text === '') problems.push('text: a non-empty string');
  if (!Array.isArray(message.blocks)) return [...problems, 'blocks: an array'];
  if (message.blocks.length > 50) problems.push('blocks: at most 50');
  for (const [i, block] of (
    message.blocks as { type?: unknown; text?: { type?: unknown; text?: unknown } }[]
  ).entries()) {
    if (block.type !== 'section') problems.push(`blocks[${i}].type: section`);
    if (block.text?.type !== 'mrkdwn') problems.push(`blocks[${i}].text.type: mrkdwn`);
    const text = block.text?.text;
    if (typeof text !== 'string' || text.length === 0 || text.length > 3000)
      problems.push(`blocks[${i}].text.text: 1..3000 characters`);
  }
  return problems;
}

export async function startSlackReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const receiver: Receiver = { url: '', requests, answers: [], close: () => Promise.resolve() };
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      requests.push({
        at: Date.now(),
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
      });
      const scripted = receiver.answers.shift();
      if (scripted === 'hang') return;
      if (scripted !== undefined && scripted !== 200) {
        response.writeHead(scripted).end('no_service');
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        response.writeHead(400).end('invalid_payload');
        return;
      }
      const problems =
        request.headers['content-type']?.startsWith('application/json') === true
          ? slackProblems(parsed)
          : ['content-type: application/json'];
      if (problems.length > 0) response.writeHead(400).end(`invalid_payload: ${problems.join('; ')}`);
      else response.writeHead(200).end('ok');
    });
  });
  const port = await listen(server);
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/services/T000/B000/XXXXsecretXXXX`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
