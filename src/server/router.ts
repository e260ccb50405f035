/**
 * The front door: one node:http handler that sends each request to the component that owns its
 * path. Engine routes go to oidc-provider (with the issuer's path prefix stripped, as the engine
 * expects when mounted); the MCP endpoint and our token endpoints are plain node handlers; every
 * other path is a page of the Hono app. Nothing thrown escapes as a stack trace.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ROUTES } from '../authz/provider.ts';
import { REVOCATION_STREAM_PATH } from '../authz/revocation-stream.ts';
import { isUnavailable, PortcullisError } from '../core/errors.ts';
import { BODY_LIMITS, type Surface } from '../http/body-limits.ts';
import { framingError } from '../http/framing.ts';
import { sendJson } from '../http/io.ts';
import { drainAfterAnswer } from '../http/linger.ts';
import { sendRefusal } from '../http/refusal.ts';
import type { AuthzEngine } from './authz-engine.ts';
import type { GatewayRuntime } from './gateway-runtime.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface RouterDeps {
  /** Issuer path prefix ('' at the root). */
  base: string;
  log: Logger;
  engine: AuthzEngine;
  web: RequestListener;
  gateway: GatewayRuntime;
  introspect: Handler;
  revoke: Handler;
  /** GET <base>/oauth/revocations: the revocation event stream for resource servers (authz/revocation-stream.ts). */
  revocationStream: Handler;
  /** Largest body the gateway accepts (config `gateway.maxRequestBytes`). */
  gatewayMaxBody: number;
  /** /healthz, /readyz and, when served on this port, /metrics: path below the base → handler (server/health-routes.ts). */
  operational?: Record<string, Handler>;
  /** Sees every request with its route label, and calls `next` to have it answered (metrics, traces). */
  observe?: RequestObserver;
  /** Told of each RFC 9728 metadata request and whether a document was found (the connection doctor). */
  onResourceMetadata?(path: string, found: boolean): void;
}

export type RequestObserver = (route: string, req: IncomingMessage, res: ServerResponse, next: () => void) => void;

const PRM = '/.well-known/oauth-protected-resource';

/** Where a request goes: the surface it belongs to (limits, error shape), its route label (metrics), who answers it. */
interface Destination {
  surface: Surface;
  /** Few values, never a raw path: oauth/<endpoint>, gateway, admin-api, pages, well-known, health, metrics. */
  route: string;
  handle: Handler;
}

export function createRouter(deps: RouterDeps): RequestListener {
  const destinationOf = routes(deps);
  const limits: Record<Surface, number> = { ...BODY_LIMITS, gateway: deps.gatewayMaxBody };
  const serve = (req: IncomingMessage, res: ServerResponse, path: string, { surface, handle }: Destination): void => {
    const refused = framingError(req, limits[surface]);
    if (refused) {
      deps.log.info({ event: 'request.refused', path, code: refused.code, rule: refused.rule }, 'request refused at the front door');
      return sendRefusal(res, surface, refused);
    }
    Promise.resolve()
      .then(() => handle(req, res))
      .catch((err: unknown) => lastResort(deps.log, res, surface, path, err));
  };
  const { observe } = deps;
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    drainAfterAnswer(req, res);
    const destination = destinationOf(path);
    if (!observe) return serve(req, res, path, destination);
    observe(destination.route, req, res, () => serve(req, res, path, destination));
  };
}

/** The path → destination table, built once: metadata, our endpoints, gateway apps, the engine, pages. */
function routes(deps: RouterDeps): (path: string) => Destination {
  const { base, gateway } = deps;
  // RFC 8414 §3.1: for an issuer with a path, the metadata URL inserts the well-known segment before it.
  const asMetadataPath = `/.well-known/oauth-authorization-server${base}`;
  const ours: Record<string, Handler> = {
    [`${base}${ROUTES.introspection}`]: deps.introspect,
    [`${base}${ROUTES.revocation}`]: deps.revoke,
    [`${base}${REVOCATION_STREAM_PATH}`]: deps.revocationStream,
  };
  const toEngine = engineEntry(deps);
  const pages: Destination = { surface: 'page', route: 'pages', handle: deps.web };
  const operational = new Map(Object.entries(deps.operational ?? {}).map(([at, handle]): [string, Destination] => [`${base}${at}`, { surface: 'admin', route: at === '/metrics' ? 'metrics' : 'health', handle }]));
  return (path) => {
    if (path === PRM || path.startsWith(`${PRM}/`)) return { surface: 'oauth', route: 'well-known', handle: (_req, res) => resourceMetadata(deps, path, _req, res) };
    if (path === asMetadataPath) return { surface: 'oauth', route: 'well-known', handle: (req, res) => toEngine(req, res, `/.well-known/openid-configuration${(req.url ?? '').slice(path.length)}`) };
    const own = ours[path];
    if (own) return { surface: 'oauth', route: `oauth/${path.slice(base.length + '/oauth/'.length)}`, handle: own };
    const probe = operational.get(path);
    if (probe) return probe;
    const app = path.startsWith(base) ? gateway.appAt(path.slice(base.length)) : undefined;
    if (app) return { surface: 'gateway', route: 'gateway', handle: (req, res) => gateway.handle(req, res, app) };
    if (isEnginePath(base, path)) return { surface: 'oauth', route: engineRoute(path.slice(base.length)), handle: (req, res) => toEngine(req, res) };
    if (path === `${base}/admin/api` || path.startsWith(`${base}/admin/api/`)) return { surface: 'admin', route: 'admin-api', handle: deps.web };
    if (path === `${base}/scim/v2` || path.startsWith(`${base}/scim/v2/`)) return { surface: 'scim', route: 'scim', handle: deps.web };
    return pages;
  };
}

/** The engine's endpoints, longest first: `/oauth/device/authorize` before anything it starts with. */
const ENGINE_ENDPOINTS = Object.values(ROUTES)
  .filter((route) => route.startsWith('/oauth/'))
  .sort((a, b) => b.length - a.length);

/** The route label of an engine path (relative to the base): `oauth/token`, `well-known`; `oauth/other` for the rest. */
function engineRoute(rest: string): string {
  if (rest.startsWith('/.well-known/')) return 'well-known';
  const endpoint = ENGINE_ENDPOINTS.find((route) => rest === route || rest.startsWith(`${route}/`));
  return endpoint ? endpoint.slice(1) : 'oauth/other';
}

/** RFC 9728 §3.1; the root form answers for the application at /mcp (the demo) if any. */
function resourceMetadata(deps: RouterDeps, path: string, req: IncomingMessage, res: ServerResponse): void {
  const document = deps.gateway.metadataAt(path === PRM ? `${PRM}${deps.base}/mcp` : path);
  if (req.method !== 'OPTIONS') deps.onResourceMetadata?.(path, document !== undefined);
  if (!document) return sendJson(res, 404, { error: 'not_found' });
  if (req.method === 'OPTIONS') return void res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' }).end();
  sendJson(res, 200, document, { 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=300' });
}

/** Engine routes: /oauth/* and OIDC discovery below the base; /device and /device/* are our pages. */
function isEnginePath(base: string, path: string): boolean {
  if (!path.startsWith(`${base}/`)) return false;
  const rest = path.slice(base.length);
  return rest.startsWith('/oauth/') || rest === '/.well-known/openid-configuration';
}

/** Hand a request to the engine as if it were mounted at the base (optionally rewritten to `enginePath`). */
function engineEntry(deps: RouterDeps) {
  const { base } = deps;
  return (req: IncomingMessage, res: ServerResponse, enginePath?: string): void => {
    const url = req.url ?? '/';
    // The engine derives its mount path from originalUrl minus url (as when mounted under a prefix),
    // so a rewritten request (RFC 8414 path insertion) must look like it came in under the base.
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = enginePath ? `${base}${enginePath}` : url;
    req.url = enginePath ?? (url.slice(base.length) || '/');
    // The engine's pages (errors, logout, auto-submit forms) skip our pages'
    // securityHeaders(): never framed, never sniffed. Pages of our own markup set a full CSP over
    // this one (provider.ts renderError); the engine's built-in pages carry inline script/style.
    res.setHeader('content-security-policy', "frame-ancestors 'none'");
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('x-content-type-options', 'nosniff');
    deps.engine.handle(req, res);
  };
}

/** What no handler answered: an outage is 503 with Retry-After, anything else a bare 500. Logged once. */
function lastResort(log: Logger, res: ServerResponse, surface: Surface, path: string, err: unknown): void {
  const unavailable = isUnavailable(err);
  if (unavailable) log.warn({ err, path }, 'request failed: a dependency is unavailable');
  else log.error({ err, path }, 'request failed');
  if (res.headersSent) return void res.destroy();
  sendRefusal(res, surface, unavailable ? err : new PortcullisError('internal_error', 'internal error', { cause: err }));
}
