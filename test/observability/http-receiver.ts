/**
 * Loopback HTTP receivers for alert channels: a generic webhook receiver (records every request;
 * answers can be scripted) and a Slack-format receiver that answers like Slack's incoming
 * webhooks: `ok`, or 400 `invalid_payload` for a message Slack would refuse.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
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

/**
 * A receiver on a free loopback port at `path`: records every request, then answers with the next
 * scripted answer (`hang`: never), or lets `respond` answer when none is scripted.
 */
async function startReceiver(
  path: string,
  respond: (answer: number | undefined, request: ReceivedRequest, response: ServerResponse) => void,
): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const receiver: Receiver = { url: '', requests, answers: [], close: () => Promise.resolve() };
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const received = {
        at: Date.now(),
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
      };
      requests.push(received);
      const answer = receiver.answers.shift();
      if (answer !== 'hang') respond(answer, received, response);
    });
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

export function startWebhookReceiver(path = '/hooks/etld/T0K3N-in-path'): Promise<Receiver> {
  return startReceiver(path, (scripted, _request, response) => {
    const answer = scripted ?? 200;
    response
      .writeHead(answer, { 'Content-Type': 'text/plain' })
      .end(answer === 200 ? 'ok' : `error ${answer}`);
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

export function startSlackReceiver(): Promise<Receiver> {
  return startReceiver('/services/T000/B000/XXXXsecretXXXX', (scripted, request, response) => {
    if (scripted !== undefined && scripted !== 200) {
      response.writeHead(scripted).end('no_service');
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(request.body);
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
}
