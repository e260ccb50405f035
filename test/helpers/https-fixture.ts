/**
 * A small web server for tests that must be reached over https from loopback: Client ID Metadata
 * Documents, a client's `jwks_uri`, servers that redirect, hang or answer too much. It uses the
 * committed test certificate (test/fixtures/tls: localhost, 127.0.0.1, ::1), which `npm test`
 * trusts through NODE_EXTRA_CA_CERTS. `plain: true` serves http instead (to show it is refused).
 *
 * `npm test` trusts the test CA through NODE_EXTRA_CA_CERTS, unless the environment already set that
 * variable to something else (it then keeps its own bundle): so the fixture also adds the test CA to
 * this process's default trust store, which every later TLS client here — the engine's fetch of
 * metadata documents and JWKS included — uses.
 *
 * Routes are set and replaced while the test runs; every request is counted per path, so a test
 * can assert that a guarded fetch never reached the server at all.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpsFixture {
  /** Origin, e.g. https://127.0.0.1:41234 (no trailing slash). */
  readonly origin: string;
  readonly port: number;
  /** Absolute URL of a path on this server. */
  url(path: string): string;
  /** Serve `path` (query ignored) with a handler, or with a JSON document (200). Replaces any earlier route. */
  route(path: string, handler: RouteHandler | object): void;
  /** How many requests reached `path`. */
  hits(path: string): number;
  close(): Promise<void>;
}

const TLS_DIR = join(import.meta.dirname, '..', 'fixtures', 'tls');

/** Answer with a JSON document; extra headers (e.g. cache-control) may be given. */
export function json(body: unknown, headers: Record<string, string> = {}, status = 200): RouteHandler {
  return (_req, res) => {
    const payload = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
    res.end(payload);
  };
}

/** Never answer (the request stays open until the fixture closes). */
export const hang: RouteHandler = () => {};

/** Make this process trust the committed test CA (idempotent). */
export function trustTestCa(): void {
  const ca = readFileSync(join(TLS_DIR, 'ca.pem'), 'utf8').trim();
  const current = getCACertificates('default');
  if (!current.some((cert) => cert.trim() === ca)) setDefaultCACertificates([...current, ca]);
}

export async function startHttpsFixture(options: { host?: 'localhost' | '127.0.0.1'; plain?: boolean } = {}): Promise<HttpsFixture> {
  if (!options.plain) trustTestCa();
  const routes = new Map<string, RouteHandler>();
  const counts = new Map<string, number>();
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const handler = routes.get(path);
    if (handler) return handler(req, res);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
  };
  const server: Server = options.plain
    ? createHttpServer(listener)
    : createHttpsServer(
        { cert: readFileSync(join(TLS_DIR, 'localhost.pem')), key: readFileSync(join(TLS_DIR, 'localhost-key.pem')) },
        listener,
      );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `${options.plain ? 'http' : 'https'}://${options.host ?? '127.0.0.1'}:${port}`;
  return {
    origin,
    port,
    url: (path) => `${origin}${path}`,
    route(path, handler) {
      routes.set(path, typeof handler === 'function' ? (handler as RouteHandler) : json(handler));
    },
    hits: (path) => counts.get(path) ?? 0,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
