/**
 * The metrics port (`metrics.port`): a small node:http server of its own, bound to `host`, that
 * serves /metrics, /healthz and /readyz at its root and nothing else — so a scraper or an
 * orchestrator's probes can reach them on a network the public port is not on, and the public
 * port never serves /metrics.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { PortcullisError } from '../core/errors.ts';
import { sendRefusal } from '../http/refusal.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: { host: string; port: number; routes: Record<string, Handler>; log: Logger }): Promise<MetricsServer> {
  const { routes, log } = options;
  // Probes send no body and need no time: short bounds on slow or idle connections.
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 10_000, keepAliveTimeout: 65_000 }, (req, res) => {
    const handle = routes[(req.url ?? '/').split('?')[0]!];
    if (!handle) return sendRefusal(res, 'admin', new PortcullisError('not_found', 'not found'));
    Promise.resolve()
      .then(() => handle(req, res))
      .catch((err: unknown) => {
        log.error({ err, path: req.url }, 'metrics port: request failed');
        if (res.headersSent) res.destroy();
        else sendRefusal(res, 'admin', err);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
