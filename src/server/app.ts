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
import { connectionOrg } from '../identity/sso-accounts.ts';
import { openStore } from '../store/open.ts';
import { openChangeFeed } from '../fanout/open.ts';
import { withChangePublishing } from '../fanout/publishing-store.ts';
import { hearChanges } from './change-fanout.ts';
import { startConnectionDirectory } from './sso-directory.ts';
import type { ConnectionDirectory } from '../identity/connection-directory.ts';
import { AuthzEngine } from './authz-engine.ts';
import { upstreamRecheck } from './upstream-recheck.ts';
import type { Metrics } from '../metrics/instruments.ts';
import { Limits } from '../limits/service.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { argumentRecorder } from '../audit/arguments.ts';
import { gatewayDecisionRecorder } from '../audit/gateway-decisions.ts';
import { relinkLegacyRecords } from '../audit/legacy-chain.ts';
import { startAuditSinks } from '../audit/sinks.ts';
import { doctorDecisions, resourceMetadataFetched, tokenRefused } from '../audit/doctor/gateway.ts';
import { ConnectionRecorder } from '../audit/doctor/recorder.ts';
import { DEMO_APPLICATION } from './demo-application.ts';
import { startHousekeeping } from './housekeeping.ts';
import { bindHttpServer } from './http-server.ts';
import { buildWebApp } from './web-app.ts';
import { createGatewayRuntime, type GatewayRuntime, type GatewayRuntimeOptions } from './gateway-runtime.ts';
import { createRouter } from './router.ts';
import { countedDecisions, startObservability, watchProcess, type Observability } from './observability.ts';

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
  /** false: expired rows are swept by another process of this machine (`start --workers`: the first worker). */
  housekeeping?: boolean;
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
  /** The process's audit log (`flush()` writes what is queued: shutdown, tests). */
  audit: AuditLog;
  /** The connection doctor's recorder (`flush()` writes what is queued: shutdown, tests). */
  doctor: ConnectionRecorder;
  server: Server;
  log: Logger;
  /** The port /metrics, /healthz and /readyz are served on as well, when `metrics.port` is set. */
  metricsPort?: number;
  /** Delete expired artifacts and unused dynamic clients now (also runs every 10 minutes). */
  housekeep(at?: number): Promise<Record<string, number>>;
  close(): Promise<void>;
}

const SETUP_TTL = 24 * 3600;



/** What the authorization side of a process is made of; the gateway and the pages are built on it. */
interface Authorization {
  secrets: DerivedSecrets;
  /** Rate limits, quotas and attempt limits of this process, on Redis when configured (limits/service.ts). */
  limits: Limits;
  /** The one audit log of this process: every part records into it (audit/audit-log.ts). */
  auditLog: AuditLog;
  /** What clients do while connecting (audit/doctor/): the protocol and the gateway record into it. */
  doctor: ConnectionRecorder;
  resources: ResourceRegistry;
  revocations: RevocationList;
  revokeGrant: GrantRevoker;
  engine: AuthzEngine;
  /** The resource a request that names none is for: the demo while it is served. */
  defaultResource: () => string | undefined;
  demoUrl: string;
  /** Single sign-on: the configured connections and every organization's own, kept current (server/sso-directory.ts). */
  connections: ConnectionDirectory;
}

/** Migrations, secrets, the signing key, revocations and the engine. */
async function startAuthorization(config: Config, store: Store, log: Logger, clock: Clock, metrics?: Metrics): Promise<Authorization> {
  const { now } = clock;
  await store.migrate();
  await relinkLegacyRecords(store, log);
  const auditLog = new AuditLog(store, log, now, { batchMs: config.audit.batchMs });
  const doctor = new ConnectionRecorder(store.connectionEvents, log, now);
  const rootSecret = loadRootSecret({ secretKey: config.secretKey, dataDir: config.dataDir });
  for (const warning of rootSecret.warnings) log.warn(warning);
  const { secrets } = rootSecret;
  const limits = await new Limits({ redisUrl: config.redisUrl, keyPrefix: config.limits.keyPrefix, server: config.limits, orgs: store.orgs, now, nowMs: clock.nowMs, log }).start();
  await ensureSigningKey(store, secrets.dataKey, now());
  // Single sign-on: the organization each connection signs people into exists from the start.
  for (const connection of config.identityProviders) await connectionOrg(store, connection);
  const connections = await startConnectionDirectory(config, store, secrets.dataKey, log);

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
  const onTokenIssued = (grantType: string) => metrics?.tokensIssued.inc({ grant_type: grantType });
  // Leavers: at every refresh, the user's identity providers are asked again (identity/sso-recheck.ts).
  const onVerdict = (connection: string, verdict: string) => metrics?.ssoRechecks.inc({ connection, verdict });
  const recheck = upstreamRecheck({ config, store, secrets, revokeGrant, revocations, audit: auditLog, log, now, onVerdict });
  const engine = await AuthzEngine.create({ config, store, secrets, resources, defaultResource, log, now, nowMs: clock.nowMs, revokeGrant, audit: auditLog, doctor, keyRetention: retention + config.tokens.accessTokenTtl, endpointLimits: endpointLimits(config, limits), onTokenIssued, upstreamRecheck: recheck });
  engine.watchKeys();
  return { secrets, limits, auditLog, doctor, resources, revocations, revokeGrant, engine, defaultResource, demoUrl, connections };
}

/** The token endpoint's and dynamic registration's rates (config `limits.tokenEndpoint`, `limits.registration`). */
function endpointLimits(config: Config, limits: Limits) {
  return {
    tokenIp: limits.rate('token-ip', config.limits.tokenEndpoint.ip),
    tokenClient: limits.rate('token-client', config.limits.tokenEndpoint.client),
    registrationIp: limits.rate('registration-ip', config.limits.registration.ip),
  };
}

/** The gateway, with the demo MCP server (seeded on first start) as its built-in application. */
async function startGateway(config: Config, store: Store, authz: Authorization, log: Logger, clock: Clock, observability: Observability): Promise<GatewayRuntime> {
  await seedDemoData(store.demo);
  const demoServer = createDemoMcp(store.demo, { onerror: (err) => log.warn({ err }, 'demo MCP server error') });
  const audit = gatewayAudit(config, authz);
  // Tool labels only for tools an application is known to have (the registry exists once the runtime does).
  let runtime: GatewayRuntime | undefined;
  const knownTool = (app: string, tool: string) => runtime?.registry.tool(app, tool) !== undefined;
  runtime = await createGatewayRuntime({
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
    limits: authz.limits.calls,
    ...audit,
    recordDecision: doctorDecisions(authz.doctor, countedDecisions(observability.metrics, knownTool, audit.recordDecision)),
    tokenRefused: tokenRefused(authz.doctor, clock.now),
    instrumentUpstream: observability.instrumentUpstream,
    log,
    now: clock.now,
    nowMs: clock.nowMs,
  });
  return runtime;
}

/** How the gateway's decisions reach the audit log (`audit.mode`). */
function gatewayAudit(config: Config, authz: Authorization): Partial<Pick<GatewayRuntimeOptions, 'recordDecision' | 'holdAnswers' | 'recordArguments'>> {
  const { mode, redactKeys } = config.audit;
  if (mode === 'off') return {};
  return {
    recordDecision: gatewayDecisionRecorder(authz.auditLog, mode),
    holdAnswers: mode === 'strict',
    recordArguments: argumentRecorder(authz.secrets.pepper, redactKeys),
  };
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
    audit: authz.auditLog,
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

/** The one request listener: the engine, the pages and APIs, the gateway, the operational routes (server/router.ts). */
function routeRequests(parts: {
  base: string;
  log: Logger;
  config: Config;
  authz: Authorization;
  gateway: GatewayRuntime;
  web: { fetch: Parameters<typeof getRequestListener>[0] };
  tokenEndpoints: ReturnType<typeof startOAuthEndpoints>['tokenEndpoints'];
  revocationStream: ReturnType<typeof startOAuthEndpoints>['revocationStream'];
  watching: Awaited<ReturnType<typeof watchProcess>>;
  observability: Awaited<ReturnType<typeof startObservability>>;
}) {
  const { authz, tokenEndpoints, observability } = parts;
  return createRouter({
    base: parts.base,
    log: parts.log,
    engine: authz.engine,
    web: getRequestListener(parts.web.fetch),
    gateway: parts.gateway,
    introspect: tokenEndpoints.introspect,
    revoke: tokenEndpoints.revoke,
    revocationStream: parts.revocationStream.handle,
    gatewayMaxBody: parts.config.gateway.maxRequestBytes,
    operational: parts.watching.operational,
    observe: observability.observe,
    onResourceMetadata: resourceMetadataFetched(authz.doctor),
  });
}

export async function startPortcullis(initial: Config, options: StartOptions = {}): Promise<Running> {
  const log = options.log ?? createLogger(initial.logLevel, process.stderr);
  const clock = options.clock ?? systemClock;
  const now = clock.now;
  // Bind first: with port 0 the public URL is only known once the port is.
  const bound = await bindHttpServer(initial);
  const config: Config = initial.publicUrlDefaulted ? { ...initial, port: bound.port, publicUrl: `http://localhost:${bound.port}` } : initial;
  const opened = options.store ?? (await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: options.schema }));
  // Every process sharing the store hears what this one changes (fanout/): no cache waits for its poll.
  const feed = await openChangeFeed({ databaseUrl: config.databaseUrl, schema: options.schema, dataDir: config.dataDir, redisUrl: config.redisUrl, log });
  const store = withChangePublishing(opened, feed);
  // What holds a port or a timer of its own, so that a start that fails half-way releases it.
  const started: { close(): Promise<void> }[] = [];
  try {
    const observability = await startObservability(config, log);
    started.push(observability);
    const authz = await startAuthorization(config, store, log, clock, observability.metrics);
    // Committed records stream out too: JSON lines on stdout, webhooks (config `audit.stdout`, `audit.webhooks`).
    const sinks = startAuditSinks(authz.auditLog, config.audit, log);
    const gateway = await startGateway(config, store, authz, log, clock, observability);
    const stopHearing = hearChanges(feed, { revocations: authz.revocations, gateway, connections: authz.connections, log });
    // An organization's limits are settings: read again at the next call once it changed anywhere.
    const stopHearingLimits = feed.subscribe('org', ({ orgId }) => (orgId === null ? authz.limits.orgLimits.forgetAll() : authz.limits.orgLimits.forget(orgId)));
    const mailer = createMailer(config.smtp);
    const base = new URL(config.publicUrl).pathname.replace(/\/$/, '');
    const web = buildWebApp({ config, store, ...authz, gateway, mailer, base, log, now });
    const { tokenEndpoints, revocationStream } = startOAuthEndpoints(config, store, authz, gateway, log, now);
    const watching = await watchProcess(observability, { config, store, ...authz, log, nowMs: clock.nowMs });
    started.push(watching);
    bound.dispatchTo(routeRequests({ base, log, config, authz, gateway, web, tokenEndpoints, revocationStream, watching, observability }));
    const housekeeping = startHousekeeping(store, config, now, log);
    if (options.housekeeping === false) housekeeping.stop();
    const setupLink = options.quiet ? undefined : await firstRunSetupLink(config, store, authz.secrets, now);
    return {
      config,
      url: config.publicUrl,
      mcpUrl: authz.demoUrl,
      setupLink,
      store,
      engine: authz.engine,
      audit: authz.auditLog, doctor: authz.doctor,
      server: bound.server,
      log,
      metricsPort: watching.metricsPort,
      housekeep: housekeeping.housekeep,
      async close() {
        housekeeping.stop();
        mailer?.close();
        authz.engine.stop();
        authz.revocations.stop();
        stopHearing();
        stopHearingLimits();
        await feed.close();
        revocationStream.close();
        await bound.close();
        await watching.close();
        await gateway.close();
        await authz.limits.close();
        await Promise.all([authz.auditLog.flush(), authz.doctor.flush()]);
        await sinks.close();
        await observability.close();
        if (!options.store) await store.close();
      },
    };
  } catch (err) {
    for (const part of started.reverse()) await part.close().catch(() => {});
    await bound.close();
    await feed.close();
    if (!options.store) await store.close();
    throw err;
  }
}
