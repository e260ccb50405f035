/**
 * Wires the gateway for every application: the registry (config file + admin API + the built-in
 * demo), one token verifier and one upstream connector per application (rebuilt when its
 * definition changes), the upstream-token minter, bindings, and manifest refreshes. A bearer that
 * looks like an API key (`pcs_…`) is resolved by api-keys/resolver.ts instead of verified as a
 * JWT; organizations' resource trees are held by identity/org-trees.ts (both in memory).
 *
 * The gateway's decision records (gateway/steps/record.ts) go to whatever `recordDecision` the
 * server passes (the audit log, as `audit.mode` says: server/app.ts); nowhere when none.
 */
import type { Store } from '../store/store.ts';
import { isPortcullisError, PortcullisError } from '../core/errors.ts';
import { isApiKeyShaped } from '../shared/api-key-shape.ts';
import type { SigningKey } from '../signing-keys/key-ring.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { Application, ApplicationDefinition } from '../core/application.ts';
import { ApplicationRegistry } from '../applications/registry.ts';
import type { ResourceRegistry } from '../applications/protected-resources.ts';
import type { Config } from '../core/config.ts';
import type { SecretKey } from '../core/crypto.ts';
import { Bindings } from '../gateway/bindings.ts';
import { createGateway, type DecisionRecord, type GatewayDeps } from '../gateway/gateway.ts';
import { listUpstreamTools } from '../gateway/probe.ts';
import { createUpstreamTokenMinter } from '../gateway/upstream-token.ts';
import { createBuiltinUpstream, type InProcessServer } from '../gateway/upstreams/builtin.ts';
import { createHttpUpstream } from '../gateway/upstreams/http.ts';
import { createStdioUpstream } from '../gateway/upstreams/stdio/index.ts';
import { upstreamError, type Upstream } from '../gateway/upstreams/upstream.ts';
import { resourceMetadataDocument, resourceMetadataUrl } from '../shared/resource-metadata.ts';
import { OrgTrees } from '../identity/org-trees.ts';
import type { RevocationList } from '../revocation/revocation-list.ts';
import { createTokenVerifier, type TokenVerifier } from '../shared/verify.ts';
import { ApiKeyResolver } from '../api-keys/resolver.ts';
import type { ArgumentRecorder } from '../audit/arguments.ts';

export interface GatewayRuntimeOptions {
  config: Config;
  store: Store;
  resources: ResourceRegistry;
  /** Built-in applications (the demo) and the in-process servers behind them. */
  builtin: { definition: ApplicationDefinition; server: InProcessServer }[];
  keys: JWTVerifyGetKey;
  signingKey: () => Promise<SigningKey>;
  revocations: RevocationList;
  bindingKey: SecretKey;
  /** The server pepper (API keys are looked up by their keyed hash). */
  pepper: SecretKey;
  clockSkew: number;
  clientIp(req: IncomingMessage): string;
  /** Every gateway decision, once answered (none by default: see above); with `holdAnswers`, the answer waits for its promise. */
  recordDecision?(record: DecisionRecord): void | Promise<void>;
  /** A bearer token refused before it was verified (the connection doctor reads whose it was; audit/doctor/gateway.ts). */
  tokenRefused?(app: Application, bearer: string, err: PortcullisError): void;
  holdAnswers?: boolean;
  /** Wraps each upstream connector as it is made (server/observability.ts: latency, traces). */
  instrumentUpstream?(app: Application, upstream: Upstream): Upstream;
  recordArguments?: ArgumentRecorder;
  /** Rate limits and quotas of gateway calls (limits/service.ts `calls`); none when absent. */
  limits?: GatewayDeps['limits'];
  log: Logger;
  /** Epoch seconds. */
  now: () => number;
  /** Epoch milliseconds (the gateway's own timings, the API-key cache); default Date.now. */
  nowMs?: () => number;
}

export interface GatewayRuntime {
  registry: ApplicationRegistry;
  /** The application served at `path` (relative to the issuer's path). */
  appAt(path: string): Application | undefined;
  handle(req: IncomingMessage, res: ServerResponse, app: Application): Promise<void>;
  /** RFC 9728 metadata for the application whose resource metadata lives at `wellKnownPath`. */
  metadataAt(wellKnownPath: string): Record<string, unknown> | undefined;
  upstreamFor(app: Application): Upstream;
  refreshManifest(app: Application): Promise<void>;
  /** API keys as bearer credentials (shared with introspection). */
  apiKeys: ApiKeyResolver;
  /**
   * The gateway's own token check for an application (the token explainer runs it:
   * console/server-pages/tokens.ts) — without `tokenRefused`: an administrator checking a bad
   * token is not a client failing to connect, so the connection doctor is not told.
   */
  verifierFor(app: Application): TokenVerifier;
  /** Organizations' resource trees, in memory (dropped when the change feed says one changed). */
  trees: OrgTrees;
  close(): Promise<void>;
}

async function openRegistry(options: GatewayRuntimeOptions): Promise<ApplicationRegistry> {
  const { config, store, log } = options;
  const registry = new ApplicationRegistry({ store, publicUrl: config.publicUrl, resources: options.resources, log, now: options.now });
  await registry.syncFromConfig(config.applications as ApplicationDefinition[], options.builtin.map((b) => b.definition));
  await registry.reload();
  registry.watch();
  return registry;
}

/** One verifier per application, rebuilt when its resource or scopes change; refusals go to `tokenRefused` when given. */
function verifiers(options: GatewayRuntimeOptions, apiKeys: ApiKeyResolver, tokenRefused: GatewayRuntimeOptions['tokenRefused']): (app: Application) => TokenVerifier {
  const cache = new Map<string, { app: Application; verify: TokenVerifier }>();
  return function verifierFor(app) {
    const cached = cache.get(app.slug);
    if (cached?.app.resource === app.resource && cached.app.scopes === app.scopes) return cached.verify;
    const jwt = createTokenVerifier({
      issuer: options.config.publicUrl,
      audience: app.resource,
      keys: options.keys,
      revocations: options.revocations,
      clockSkewSeconds: options.clockSkew,
      now: options.now,
      refuse: PortcullisError.from,
    });
    // A JWT never matches the key shape (it has dots), so the two never mix.
    const checked: TokenVerifier = tokenRefused
      ? (bearer) => jwt(bearer).catch((err: unknown) => {
          if (isPortcullisError(err)) tokenRefused(app, bearer, err);
          throw err;
        })
      : jwt;
    const verify: TokenVerifier = (bearer) => (isApiKeyShaped(bearer) ? apiKeys.resolve(bearer, app) : checked(bearer));
    cache.set(app.slug, { app, verify });
    return verify;
  };
}

/** One connector per application, replaced only when its upstream changes; `close` closes them all. */
function upstreams(options: GatewayRuntimeOptions): { upstreamFor(app: Application): Upstream; close(): Promise<void> } {
  const minter = createUpstreamTokenMinter({ issuer: options.config.publicUrl, signingKey: options.signingKey });
  const builtinServers = new Map(options.builtin.map((b) => [b.definition.slug, b.server]));
  const cache = new Map<string, { app: Application; upstream: Upstream }>();

  function connect(app: Application): Upstream {
    const target = app.upstream;
    if ('builtin' in target) {
      const server = builtinServers.get(app.slug);
      if (!server) throw upstreamError('unreachable', `no built-in server for ${app.slug}`);
      return createBuiltinUpstream(server, app.resource);
    }
    if ('url' in target) return createHttpUpstream(target, minter);
    return createStdioUpstream(target, { application: app.slug, log: options.log.child({ app: app.slug, upstream: 'stdio' }) });
  }

  return {
    upstreamFor(app) {
      const cached = cache.get(app.slug);
      // Compared by content: every registry reload builds new Application objects, and replacing a
      // connector needlessly would drop a stdio upstream's processes or an HTTP agent's connections.
      if (cached && (cached.app.definition === app.definition || JSON.stringify(cached.app.upstream) === JSON.stringify(app.upstream))) {
        cached.app = app;
        return cached.upstream;
      }
      if (cached) void cached.upstream.close().catch(() => {});
      const upstream = options.instrumentUpstream ? options.instrumentUpstream(app, connect(app)) : connect(app);
      cache.set(app.slug, { app, upstream });
      return upstream;
    },
    async close() {
      await Promise.all([...cache.values()].map(({ upstream }) => upstream.close().catch(() => {})));
    },
  };
}

/** Ask an application's upstream for its tools; one refresh per application at a time. */
function manifestRefresher(registry: ApplicationRegistry, upstreamFor: (app: Application) => Upstream, log: Logger): (app: Application) => Promise<void> {
  const refreshing = new Map<string, Promise<void>>();
  return function refreshManifest(app) {
    const running = refreshing.get(app.slug);
    if (running) return running;
    const work = (async () => {
      try {
        const tools = await listUpstreamTools(app, upstreamFor(app));
        await registry.observeTools(app, tools);
      } catch (err) {
        log.warn({ err, app: app.slug }, 'could not list the upstream tools');
      } finally {
        refreshing.delete(app.slug);
      }
    })();
    refreshing.set(app.slug, work);
    return work;
  };
}

/** RFC 9728 metadata for the application whose resource metadata lives at `wellKnownPath`. */
function metadataAt(registry: ApplicationRegistry, config: Config, wellKnownPath: string): Record<string, unknown> | undefined {
  const app = registry.list().find((a) => new URL(resourceMetadataUrl(a.resource)).pathname === wellKnownPath);
  if (!app) return undefined;
  return resourceMetadataDocument({
    resource: app.resource,
    authorizationServers: [config.publicUrl],
    scopes: app.scopes.map((s) => s.name),
    name: app.name,
  });
}

export async function createGatewayRuntime(options: GatewayRuntimeOptions): Promise<GatewayRuntime> {
  const { config, store, log } = options;
  const registry = await openRegistry(options);
  const trees = new OrgTrees(store.orgs, { now: options.nowMs });
  const apiKeys = new ApiKeyResolver({
    store,
    pepper: options.pepper,
    revocations: options.revocations,
    trees,
    now: options.now,
    nowMs: options.nowMs,
    onError: (err) => log.warn({ err }, 'could not record an API key use'),
  });
  const connectors = upstreams(options);
  const refreshManifest = manifestRefresher(registry, connectors.upstreamFor, log);

  const verifierFor = verifiers(options, apiKeys, options.tokenRefused);
  const gateway = createGateway({
    registry,
    bindings: new Bindings(store, options.bindingKey, options.now, options.revocations),
    verifierFor,
    orgTree: (orgId) => trees.get(orgId),
    keyUsed: (keyId, ip) => apiKeys.noteUse(keyId, ip),
    upstreamFor: connectors.upstreamFor,
    resourceMetadataUrl: (app) => resourceMetadataUrl(app.resource),
    refreshManifest: (app) => void refreshManifest(app),
    clientIp: options.clientIp,
    recordDecision: options.recordDecision,
    holdAnswers: options.holdAnswers,
    recordArguments: options.recordArguments,
    limits: options.limits,
    log,
    now: options.nowMs ?? (() => options.now() * 1000),
    maxBodyBytes: config.gateway.maxRequestBytes,
  });

  // Know every application's tools from the start (built-in ones at once, others in the background).
  for (const app of registry.list()) {
    const work = refreshManifest(app);
    if ('builtin' in app.upstream) await work;
  }

  return {
    registry,
    appAt: (path) => registry.byPath(path),
    handle: gateway,
    metadataAt: (wellKnownPath) => metadataAt(registry, config, wellKnownPath),
    upstreamFor: connectors.upstreamFor,
    refreshManifest,
    apiKeys,
    trees,
    verifierFor: verifiers(options, apiKeys, undefined),
    async close() {
      registry.stop();
      apiKeys.stop();
      await connectors.close();
    },
  };
}
