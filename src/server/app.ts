/**
 * The composition root: wires one Portcullis process — the HTTP server (bound first), the store,
 * secrets and signing keys, revocations, the authorization server, the gateway (the demo MCP server
 * first among its applications), the pages and the admin API, our OAuth endpoints, and the router
 * in front of them all. Each part is built by one function below, in that order.
 */
import type { Store } from '../store/store.ts';
import type { IncomingMessage, Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from 'pino';
import { createTokenEndpoints } from '../authz/token-endpoints.ts';
import { createGrantRevoker, type GrantRevoker } from '../revocation/grant-revoker.ts';
import { createRevocationStream } from '../authz/revocation-stream.ts';
import { CLOCK_SKEW, systemClock, type Clock } from '../core/clock.ts';
import { ResourceRegistry } from '../applications/protected-resources.ts';
import type { Config } from '../core/config.ts';
import type { DerivedSecrets } from '../core/crypto.ts';
import { randomToken } from '../core/crypto.ts';
import { createLogger } from '../core/log.ts';
import { loadRootSecret } from '../core/secrets.ts';
import { createMailer } from '../identity/mailer.ts';
import { SETUP_KIND, setupKey } from '../identity/first-run.ts';
import { createDemoMcp, seedDemoData } from '../demo/server.ts';
import { RevocationList } from '../revocation/revocation-list.ts';
import { requestIp } from '../http/io.ts';
import { ensureSigningKey } from '../signing-keys/key-ring.ts';
import { openStore } from '../store/open.ts';
import { AuthzEngine } from './authz-engine.ts';
import { DEMO_APPLICATION } from './demo-application.ts';
import { startHousekeeping } from './housekeeping.ts';
import { bindHttpServer } from './http-server.ts';
import { buildWebApp } from './web-app.ts';
import { createGatewayRuntime, type GatewayRuntime } from './gateway-runtime.ts';
import { createRouter } from './router.ts';

export { DEMO_APPLICATION } from './demo-application.ts';

export interface StartOptions {
  log?: Logger;
  /** Use this store instead of opening one from the config (tests). */
  store?: Store;
  /** PostgreSQL schema when opening the store (tests). */
  schema?: string;
  /** The clock everything decides time by (tests move one instead of sleeping). Default: the system's. */
  clock?: Clock;
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



/** What the authorization side of a process is made of; the gateway and the pages are built on it. */
interface Authorization {
  secrets: DerivedSecrets;
  resources: ResourceRegistry;
  revocations: RevocationList;
  revokeGrant: GrantRevoker;
  engine: AuthzEngine;
  /** The resource a request that names none is for: the demo while it is served. */
  defaultResource: () => string | undefined;
  demoUrl: string;
}

/** Migrations, secrets, the signing key, revocations and the engine. */
async function startAuthorization(config: Config, store: Store, log: Logger, clock: Clock): Promise<Authorization> {
  const { now } = clock;
  await store.migrate();
  const rootSecret = loadRootSecret({ secretKey: config.secretKey, dataDir: config.dataDir });
  for (const warning of rootSecret.warnings) log.warn(warning);
  const { secrets } = rootSecret;
  await ensureSigningKey(store, secrets.dataKey, now());

  const resources = new ResourceRegistry();
  const revocations = new RevocationList(store.revocations, now);
  await revocations.start();
  // A revocation event must outlive every token it concerns (their lifetime and the clock skew).
  const retention = config.tokens.accessTokenTtl + CLOCK_SKEW * 2;
  const revokeGrant = createGrantRevoker({
    store,
    now,
    retention,
    onRevoked: (grantId) => revocations.apply({ kind: 'grant', id: grantId, expiresAt: now() + retention }),
  });
  const demoUrl = `${config.publicUrl}${DEMO_APPLICATION.path}`;
  const defaultResource = () => (resources.get(demoUrl) ? demoUrl : resources.list()[0]?.url);
  const engine = await AuthzEngine.create({ config, store, secrets, resources, defaultResource, log, now, nowMs: clock.nowMs, revokeGrant, keyRetention: retention + config.tokens.accessTokenTtl });
  engine.watchKeys();
  return { secrets, resources, revocations, revokeGrant, engine, defaultResource, demoUrl };
}

/** The gateway, with the demo MCP server (seeded on first start) as its built-in application. */
async function startGateway(config: Config, store: Store, authz: Authorization, log: Logger, clock: Clock): Promise<GatewayRuntime> {
  await seedDemoData(store.demo);
  const demoServer = createDemoMcp(store.demo, { onerror: (err) => log.warn({ err }, 'demo MCP server error') });
  return createGatewayRuntime({
    config,
    store,
    resources: authz.resources,
    builtin: [{ definition: DEMO_APPLICATION, server: demoServer }],
    keys: authz.engine.verificationKeys,
    signingKey: () => authz.engine.signingKey(),
    revocations: authz.revocations,
    bindingKey: authz.secrets.pepper,
    pepper: authz.secrets.pepper,
    clockSkew: CLOCK_SKEW,
    clientIp: (req: IncomingMessage) => requestIp(req, config.trustProxy),
    log,
    now: clock.now,
    nowMs: clock.nowMs,
  });
}

/** Introspection and revocation (RFC 7662, RFC 7009), and the revocation stream for remote guards. */
function startOAuthEndpoints(config: Config, store: Store, authz: Authorization, gateway: GatewayRuntime, log: Logger, now: () => number) {
  const tokenEndpoints = createTokenEndpoints({
    provider: () => authz.engine.provider,
    issuer: config.publicUrl,
    pepper: authz.secrets.pepper,
    keys: () => authz.engine.verificationKeys,
    revocations: authz.revocations,
    revokeGrant: authz.revokeGrant,
    store,
    log,
    now,
    apiKeys: gateway.apiKeys,
    applications: () => gateway.registry.list(),
  });
  // Remote guards (the guard SDK) learn revocations from this stream; in-process ones wake it at once.
  const revocationStream = createRevocationStream({
    provider: () => authz.engine.provider,
    issuer: config.publicUrl,
    pepper: authz.secrets.pepper,
    store,
    subscribe: (listener) => authz.revocations.subscribe(listener),
    log,
  });
  return { tokenEndpoints, revocationStream };
}

/** On first start, while nobody has an account: a one-time link (24 h) to create the administrator. */
async function firstRunSetupLink(config: Config, store: Store, secrets: DerivedSecrets, now: () => number): Promise<string | undefined> {
  if ((await store.users.count()) > 0) return undefined;
  const token = randomToken();
  await store.oneTime.put(SETUP_KIND, setupKey(secrets.pepper, token), 'admin', now() + SETUP_TTL);
  return `${config.publicUrl}/setup?token=${token}`;
}

export async function startPortcullis(initial: Config, options: StartOptions = {}): Promise<Running> {
  const log = options.log ?? createLogger(initial.logLevel, process.stderr);
  const clock = options.clock ?? systemClock;
  const now = clock.now;
  // Bind first: with port 0 the public URL is only known once the port is.
  const bound = await bindHttpServer(initial);
  const config: Config = initial.publicUrlDefaulted ? { ...initial, port: bound.port, publicUrl: `http://localhost:${bound.port}` } : initial;
  const store = options.store ?? (await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: options.schema }));
  try {
    const authz = await startAuthorization(config, store, log, clock);
    const gateway = await startGateway(config, store, authz, log, clock);
    const mailer = createMailer(config.smtp);
    const base = new URL(config.publicUrl).pathname.replace(/\/$/, '');
    const web = buildWebApp({ config, store, ...authz, gateway, mailer, base, log, now });
    const { tokenEndpoints, revocationStream } = startOAuthEndpoints(config, store, authz, gateway, log, now);
    bound.dispatchTo(
      createRouter({
        base,
        log,
        engine: authz.engine,
        web: getRequestListener(web.fetch),
        gateway,
        introspect: tokenEndpoints.introspect,
        revoke: tokenEndpoints.revoke,
        revocationStream: revocationStream.handle,
        gatewayMaxBody: config.gateway.maxRequestBytes,
      }),
    );
    const housekeeping = startHousekeeping(store, config, now, log);
    const setupLink = options.quiet ? undefined : await firstRunSetupLink(config, store, authz.secrets, now);
    return {
      config,
      url: config.publicUrl,
      mcpUrl: authz.demoUrl,
      setupLink,
      store,
      engine: authz.engine,
      server: bound.server,
      log,
      housekeep: housekeeping.housekeep,
      async close() {
        housekeeping.stop();
        mailer?.close();
        authz.engine.stop();
        authz.revocations.stop();
        revocationStream.close();
        await bound.close();
        await gateway.close();
        if (!options.store) await store.close();
      },
    };
  } catch (err) {
    await bound.close();
    if (!options.store) await store.close();
    throw err;
  }
}
