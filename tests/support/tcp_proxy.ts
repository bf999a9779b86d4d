/**
 * A loopback TCP proxy whose connections a test can cut, to prove that
 * followers resume after the server drops them.
 *
 * @module
 */

/** A running proxy. */
export interface TcpProxy {
  url: string;
  /** Closes every open connection (new ones are still accepted). */
  dropAll(): number;
  close(): void;
}

/** Proxies 127.0.0.1:<random> to `targetPort`. */
export function startTcpProxy(targetPort: number): TcpProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  (async () => {
    for await (const client of listener) {
      Deno.connect({ hostname: "127.0.0.1", port: targetPort }).then((upstream) => {
        open.add(client).add(upstream);
        const close = () => {
          for (const conn of [client, upstream]) {
            open.delete(conn);
            try {
              conn.close();
            } catch { /* already closed */ }
          }
        };
        client.readable.pipeTo(upstream.writable).catch(() => {}).finally(close);
        upstream.readable.pipeTo(client.writable).catch(() => {}).finally(close);
      }, () => client.close());
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    dropAll() {
      const n = open.size;
      for (const conn of [...open]) {
        open.delete(conn);
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      return n;
    },
    close() {
      this.dropAll();
      try {
        listener.close();
      } catch { /* already closed */ }
    },
  };
}
