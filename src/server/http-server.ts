/**
 * The node:http server every request enters by. It is bound before anything else starts (with
 * port 0 the public URL is only known once the port is), answers 503 until the router is ready,
 * and carries the connection limits (core/config.ts `http`).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../core/config.ts';
import { limitConnectionsPerAddress } from '../http/connection-limits.ts';

export interface BoundServer {
  server: Server;
  port: number;
  /** Hand requests to `listener` from now on (before: 503 with Retry-After). */
  dispatchTo(listener: RequestListener): void;
  /** End every connection and stop listening. */
  close(): Promise<void>;
}

export async function bindHttpServer(config: Config): Promise<BoundServer> {
  let dispatch: RequestListener | undefined;
  const healthz = `${new URL(config.publicUrl).pathname.replace(/\/$/, '')}/healthz`;
  const server = createServer(
    {
      // A socket that never finishes its headers, or its body, is closed (slowloris): checked every
      // second rather than Node's default 30 s, so the bound is what the configuration says.
      headersTimeout: config.http.headersTimeout * 1000,
      requestTimeout: config.http.requestTimeout * 1000,
      keepAliveTimeout: config.http.keepAliveTimeout * 1000,
      connectionsCheckingInterval: 1000,
    },
    (req, res) => {
      if (dispatch) return dispatch(req, res);
      // Alive while starting (migrations may take a while): a liveness probe must not restart a
      // process for being busy starting; /readyz says 503 until it is ready (server/health-routes.ts).
      if ((req.url ?? '').split('?')[0] === healthz) return void res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end('{"status":"ok"}');
      res.writeHead(503, { 'retry-after': '1' }).end();
    },
  );
  limitConnectionsPerAddress(server, config.http.maxConnectionsPerAddress ?? (config.trustProxy ? 0 : 256));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    dispatchTo: (listener) => {
      dispatch = listener;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
