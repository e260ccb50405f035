/**
 * Wires one Portcullis process: store → secrets → signing keys → authorization server →
 * guard → demo MCP server → pages, behind one node:http server (router.ts).
 */
import type { Store } from '../store/store.ts';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { createTokenEndpoints } from '../authz/token-endpoints.ts';
import { createGrantRevoker } from '../revocation/grant-revoker.ts';
import { deviceRoutes } from '../authz/device-flow.ts';
import { createRevocationStream } from '../authz/revocation-stream.ts';
import { interactionRoutes } from '../authz/interactions.ts';
import { CLOCK_SKEW } from '../core/clock.ts';
import { ResourceRegistry } from '../applications/protected-resources.ts';
import type { ApplicationDefinition } from '../core/application.ts';
import type { Config } from '../core/config.ts';
import { randomToken } from '../core/crypto.ts';
import { isUnavailable } from '../core/errors.ts';
import { createLogger } from '../core/log.ts';
import { loadRootSecret } from '../core/secrets.ts';
import { adminApi } from '../admin-api/api.ts';
import { invitationPages } from '../console/invitation-page.ts';
import { createMailer } from '../identity/mailer.ts';
import { accountPages } from '../console/account/index.ts';
import { orgPages } from '../console/org-pages/index.ts';
import { consolePages, SETUP_KIND, setupKey } from '../console/pages.ts';
import { BrowserSessions } from '../web/session.ts';
import { Csrf } from '../web/csrf.ts';
import { csrfCookie, readableForms, securityHeaders, type WebDeps, type WebEnv } from '../web/pages.ts';
import { createDemoMcp, seedDemoData } from '../demo/server.ts';
import { DEMO_SCOPES } from '../demo/tools.ts';
import { RevocationList } from '../revocation/revocation-list.ts';
import { limitConnectionsPerAddress } from '../http/connection-limits.ts';
import { requestIp } from '../http/io.ts';
import { RETRY_AFTER_SECONDS } from '../http/refusal.ts';
import { html, page } from '../web/html.ts';
import { ensureSigningKey } from '../signing-keys/key-ring.ts';
import { AttemptLimiter } from '../limits/attempts.ts';
import { openStore } from '../store/open.ts';
import { AuthzEngine } from './authz-engine.ts';
import { createGatewayRuntime } from './gateway-runtime.ts';
import { createRouter } from './router.ts';

export interface StartOptions {
  log?: Logger;
  /** Use this store instead of opening one from the config (tests). */
  store?: Store;
  /** PostgreSQL schema when opening the store (tests). */
  schema?: string;
  now?: () => number;
  /** Skip the first-run setup link (CLI and tests that create users themselves). */
  quiet?: boolean;
}

export interface Running {
  config: Config;
  /** Issuer and base URL. */
  url: string;
  mcpUrl: string;
  /** One-time link printed on first start while no account exists. */
  setupLink: string | undefined;
  store: Store;
  engine: AuthzEngine;
  server: Server;
  log: Logger;
  /** Delete expired artifacts and unused dynamic clients now (also runs every 10 minutes). */
  housekeep(at?: number): Promise<Record<string, number>>;
  close(): Promise<void>;
}

const SETUP_TTL = 24 * 3600;

/** The built-in demo, protected like any other application; its tools are pre-approved. */
export const DEMO_APPLICATION: ApplicationDefinition = {
  slug: 'demo',
  name: 'Demo notes',
  path: '/mcp',
  upstream: { builtin: 'demo' },
  scopes: Object.entries(DEMO_SCOPES).map(([name, description]) => ({ name, description })),
  // Least privilege by default: deleting is asked for separately, when a delete is attempted.
  defaultScopes: ['demo:read', 'demo:write'],
  autoApprove: true,
};

async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function startPortcullis(initial: Config, options: StartOptions = {}): Promise<Running> {
  const log = options.log ?? createLogger(initial.logLevel, process.stderr);
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));

  // Bind first: with port 0 the public URL is only known once the port is.
  let dispatch: RequestListener | undefined;
  const server = createServer(
    {
      // A socket that never finishes its headers, or its body, is closed (slowloris): checked every
      // second rather than Node's default 30 s, so the bound is what the configuration says.
      headersTimeout: initial.http.headersTimeout * 1000,
      requestTimeout: initial.http.requestTimeout * 1000,
      keepAliveTimeout: initial.http.keepAliveTimeout * 1000,
      connectionsCheckingInterval: 1000,
    },
    (req, res) => {
      if (dispatch) return dispatch(req, res);
      res.writeHead(503, { 'retry-after': '1' }).end();
    },
  );
  limitConnectionsPerAddress(server, initial.http.maxConnectionsPerAddress ?? (initial.trustProxy ? 0 : 256));
  const port = await listen(server, initial.host, initial.port);
  const config: Config = initial.publicUrlDefaulted ? { ...initial, port, publicUrl: `http://localhost:${port}` } : initial;

  const store = options.store ?? (await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: options.schema }));
  try {
    await store.migrate();
    const rootSecret = loadRootSecret({ secretKey: config.secretKey, dataDir: config.dataDir });
    for (const warning of rootSecret.warnings) log.warn(warning);
    const { secrets } = rootSecret;
    await ensureSigningKey(store, secrets.dataKey, now());

    const base = new URL(config.publicUrl).pathname.replace(/\/$/, '');
    const resources = new ResourceRegistry();
    const revocations = new RevocationList(store.revocations, now);
    await revocations.start();
    const retention = config.tokens.accessTokenTtl + CLOCK_SKEW * 2;
    const revokeGrant = createGrantRevoker({
      store,
      now,
      retention,
      onRevoked: (grantId) => revocations.apply({ kind: 'grant', id: grantId, expiresAt: now() + retention }),
    });
    const demoUrl = `${config.publicUrl}${DEMO_APPLICATION.path}`;
    const defaultResource = () => (resources.get(demoUrl) ? demoUrl : resources.list()[0]?.url);
    const engine = await AuthzEngine.create({
      config,
      store,
      secrets,
      resources,
      defaultResource,
      log,
      now,
      revokeGrant,
      keyRetention: retention + config.tokens.accessTokenTtl,
    });
    engine.watchKeys();

    await seedDemoData(store.demo);
    const demoServer = createDemoMcp(store.demo, { onerror: (err) => log.warn({ err }, 'demo MCP server error') });
    const clientIp = (req: IncomingMessage) => requestIp(req, config.trustProxy);
    const gateway = await createGatewayRuntime({
      config,
      store,
      resources,
      builtin: [{ definition: DEMO_APPLICATION, server: demoServer }],
      keys: engine.verificationKeys,
      signingKey: () => engine.signingKey(),
      revocations,
      bindingKey: secrets.pepper,
      pepper: secrets.pepper,
      clockSkew: CLOCK_SKEW,
      clientIp,
      log,
      now,
    });

    const sessions = new BrowserSessions(store, secrets.pepper, config.tokens.sessionTtl, now);
    const mailer = createMailer(config.smtp);
    const webDeps: WebDeps = {
      config,
      store,
      sessions,
      csrf: new Csrf(secrets.csrfKey, new URL(config.publicUrl).origin),
      provider: () => engine.provider,
      resources,
      limits: {
        account: new AttemptLimiter({ free: 5, window: 15 * 60, base: 30, maxLock: 15 * 60 }),
        ip: new AttemptLimiter({ free: 30, window: 15 * 60, base: 30, maxLock: 15 * 60 }),
      },
      log,
      now,
      base,
      pepper: secrets.pepper,
      revokeGrant,
      revocations,
    };
    const web = new Hono<WebEnv>().basePath(base || '/');
    web.use(securityHeaders(), csrfCookie(webDeps), readableForms());
    web.route('/', interactionRoutes(webDeps));
    web.route('/', deviceRoutes({ ...webDeps, defaultResource }));
    web.route('/', consolePages({ ...webDeps, pepper: secrets.pepper, mcpUrl: demoUrl }));
    web.route('/', accountPages({ ...webDeps, mailer }));
    web.route('/', orgPages({ ...webDeps, mailer }));
    web.route('/', invitationPages(webDeps));
    web.route('/admin/api', adminApi({ ...webDeps, gateway, signingKey: () => engine.signingKey(), mailer }));
    web.notFound((c) => c.json({ error: 'not_found' }, 404));
    web.onError((err, c) => {
      if (isUnavailable(err)) {
        log.warn({ err }, 'page: a dependency is unavailable');
        c.header('retry-after', String(RETRY_AFTER_SECONDS));
        return c.html(page({ title: 'Try again shortly', body: html`<h1>Try again in a moment</h1><p>Portcullis cannot reach its database right now. Reload this page in a few seconds.</p><p class="muted" data-code="unavailable">Error code: <code>unavailable</code></p>` }), 503);
      }
      log.error({ err }, 'page error');
      return c.json({ error: 'internal_error' }, 500);
    });

    const tokenEndpoints = createTokenEndpoints({
      provider: () => engine.provider,
      issuer: config.publicUrl,
      pepper: secrets.pepper,
      keys: () => engine.verificationKeys,
      revocations,
      revokeGrant,
      store,
      log,
      now,
      apiKeys: gateway.apiKeys,
      applications: () => gateway.registry.list(),
    });

    // Remote guards (the guard SDK) learn revocations from this stream; in-process ones wake it at once.
    const revocationStream = createRevocationStream({
      provider: () => engine.provider,
      issuer: config.publicUrl,
      pepper: secrets.pepper,
      store,
      subscribe: (listener) => revocations.subscribe(listener),
      log,
    });

    dispatch = createRouter({
      base,
      log,
      engine,
      web: getRequestListener(web.fetch),
      gateway,
      introspect: tokenEndpoints.introspect,
      revoke: tokenEndpoints.revoke,
      revocationStream: revocationStream.handle,
      gatewayMaxBody: config.gateway.maxRequestBytes,
    });

    // Expired artifacts go, and so do dynamic registrations that never completed an authorization
    // (clients that register on every connection attempt must not pile up).
    const housekeep = async (at = now()) => {
      const [artifacts, sessionsGone, oneTime, events, clients, bindings] = await Promise.all([
        store.oidc.deleteExpired(at),
        store.sessions.deleteExpired(at),
        store.oneTime.deleteExpired(at),
        store.revocations.deleteExpired(at),
        store.clients.deleteUnusedDynamic(at - config.registration.unusedClientTtl),
        store.bindings.deleteExpired(at),
      ]);
      return { artifacts, sessions: sessionsGone, oneTime, revocations: events, clients, bindings };
    };
    const housekeeping = setInterval(() => void housekeep().catch((err) => log.warn({ err }, 'housekeeping failed')), 10 * 60 * 1000);
    housekeeping.unref();

    let setupLink: string | undefined;
    if (!options.quiet && (await store.users.count()) === 0) {
      const token = randomToken();
      await store.oneTime.put(SETUP_KIND, setupKey(secrets.pepper, token), 'admin', now() + SETUP_TTL);
      setupLink = `${config.publicUrl}/setup?token=${token}`;
    }

    return {
      config,
      url: config.publicUrl,
      mcpUrl: demoUrl,
      setupLink,
      store,
      engine,
      server,
      log,
      housekeep,
      async close() {
        clearInterval(housekeeping);
        mailer?.close();
        engine.stop();
        revocations.stop();
        revocationStream.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await gateway.close();
        if (!options.store) await store.close();
      },
    };
  } catch (err) {
    server.close();
    if (!options.store) await store.close();
    throw err;
  }
}

