/**
 * A TCP proxy that injects network faults between etld and a database server. Every chaos
 * pipeline reaches its source (and a PostgreSQL destination) through its own proxy, so a fault
 * touches exactly one pipeline.
 *
 * Faults, on demand:
 * - `cutAll()`: destroy every live connection now (a network blip mid-stream);
 * - `cutAllAfterFirst(ms)`: one-shot; `ms` after the next accepted connection, `cutAll()`;
 * - `cutAfterBytes(n)`: one-shot; the connection that carries the n-th byte server→client (counted
 *   from arming, over all connections) is handed up to that byte and then destroyed;
 * - `refuseFor(ms)`: new connections are accepted and reset at once (ECONNRESET) for a while.
 *
 * Counters say what actually happened (a fault "fired" only when it touched a connection).
 * Backpressure is kept in both directions (pause the reading side while the writing side drains).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface ProxyCounters {
  accepted: number;
  refused: number;
  cut: number;
}

export interface FaultProxy {
  readonly port: number;
  readonly counters: Readonly<ProxyCounters>;
  /** Destroys every live connection; returns how many there were. */
  cutAll(): number;
  cutAfterBytes(bytes: number): void;
  cutAllAfterFirst(ms: number): void;
  refuseFor(ms: number): void;
  /** Disarms every fault (a pending byte budget, a refusal window). */
  heal(): void;
  resetCounters(): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export async function startFaultProxy(targetHost: string, targetPort: number): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  const counters: ProxyCounters = { accepted: 0, refused: 0, cut: 0 };
  let refuseUntil = 0;
  let byteBudget: number | null = null;
  let cutAfterFirstMs: number | null = null;
  let cutTimer: NodeJS.Timeout | undefined;

  const destroyPair = (pair: Pair): void => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const pump = (from: Socket, to: Socket, count: boolean, pair: Pair): void => {
    from.on('data', (chunk: Buffer) => {
      let data = chunk;
      let cutAfter = false;
      if (count && byteBudget !== null) {
        if (data.length >= byteBudget) {
          data = data.subarray(0, byteBudget);
          byteBudget = null;
          cutAfter = true;
        } else {
          byteBudget -= data.length;
        }
      }
      const flushed = data.length === 0 || to.write(data);
      if (cutAfter) {
        counters.cut++;
        // The partial chunk is handed to the socket first, as a real cut mid-packet would leave it.
        setImmediate(() => destroyPair(pair));
        return;
      }
      if (!flushed) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => to.end());
    from.on('error', () => destroyPair(pair));
    from.on('close', () => destroyPair(pair));
  };

  const cutAll = (): number => {
    const live = [...pairs];
    for (const pair of live) destroyPair(pair);
    counters.cut += live.length;
    return live.length;
  };

  const server: Server = createServer((client) => {
    if (Date.now() < refuseUntil) {
      counters.refused++;
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    counters.accepted++;
    if (cutAfterFirstMs !== null) {
      cutTimer = setTimeout(cutAll, cutAfterFirstMs);
      cutAfterFirstMs = null;
    }
    const upstream = connect({ host: targetHost, port: targetPort });
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    pump(client, upstream, false, pair);
    pump(upstream, client, true, pair);
  });
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy: no TCP address');

  return {
    port: address.port,
    counters,
    cutAll,
    cutAfterBytes: (bytes) => {
      byteBudget = Math.max(1, Math.floor(bytes));
    },
    cutAllAfterFirst: (ms) => {
      cutAfterFirstMs = ms;
    },
    refuseFor: (ms) => {
      refuseUntil = Date.now() + ms;
    },
    heal: () => {
      byteBudget = null;
      refuseUntil = 0;
      cutAfterFirstMs = null;
      clearTimeout(cutTimer);
    },
    resetCounters: () => {
      counters.accepted = 0;
      counters.refused = 0;
      counters.cut = 0;
    },
    close: async () => {
      clearTimeout(cutTimer);
      for (const pair of [...pairs]) destroyPair(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
