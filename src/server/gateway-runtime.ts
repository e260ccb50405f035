/**
 * Wires the gateway for every application: the registry (config file + admin API + the built-in
 * demo), one token verifier and one upstream connector per application (rebuilt when its
 * definition changes), the upstream-token minter, bindings, and manifest refreshes. A bearer that
 * looks like an API key (`pcs_…`) is resolved by keys/api-key-resolver.ts instead of verified as a
 * JWT; organizations' resource trees are held by guard/org-trees.ts (both in memory).
 */
import type { Store } from '../store/store.ts';
import { PortcullisError } from '../core/errors.ts';
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
import { createGateway } from '../gateway/gateway.ts';
import { listUpstreamTools } from '../gateway/probe.ts';
import { createUpstreamTokenMinter } from '../gateway/upstream-token.ts';
import { createBuiltinUpstream, type InProcessServer } from '../gateway/upstreams/builtin.ts';
import { createHttpUpstream } from '../gateway/upstreams/http.ts';
import { createStdioUpstream } from '../gateway/upstreams/stdio/index.ts';
import { UpstreamError, type Upstream } from '../gateway/upstreams/upstream.ts';
import { resourceMetadataDocument, resourceMetadataUrl } from '../shared/resource-metadata.ts';
import { OrgTrees } from '../identity/org-trees.ts';
import type { RevocationList } from '../revocation/revocation-list.ts';
import { createTokenVerifier, type TokenVerifier } from '../shared/verify.ts';
import { ApiKeyResolver } from '../api-keys/resolver.ts';

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
  log: Logger;
  now: () => number;
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
  close(): Promise<void>;
}

export async function createGatewayRuntime(options: GatewayRuntimeOptions): Promise<GatewayRuntime> {
  const { config, store, log } = options;
  const registry = new ApplicationRegistry({ store, publicUrl: config.publicUrl, resources: options.resources, log, now: options.now });
  await registry.syncFromConfig(config.applications as ApplicationDefinition[], options.builtin.map((b) => b.definition));
  await registry.reload();
  registry.watch();

  const minter = createUpstreamTokenMinter({ issuer: config.publicUrl, signingKey: options.signingKey });
  const bindings = new Bindings(store, options.bindingKey, options.now, options.revocations);
  const builtinServers = new Map(options.builtin.map((b) => [b.definition.slug, b.server]));

  // One verifier and one connector per application, rebuilt when its definition changes.
  const verifiers = new Map<string, { app: Application; verify: TokenVerifier }>();
  const upstreams = new Map<string, { app: Application; upstream: Upstream }>();

  const trees = new OrgTrees(store.orgs);
  const apiKeys = new ApiKeyResolver({
    store,
    pepper: options.pepper,
    revocations: options.revocations,
    trees,
    now: options.now,
    onError: (err) => log.warn({ err }, 'could not record an API key use'),
  });

  function verifierFor(app: Application): TokenVerifier {
    const cached = verifiers.get(app.slug);
    if (cached?.app.resource === app.resource && cached.app.scopes === app.scopes) return cached.verify;
    const jwt = createTokenVerifier({ issuer: config.publicUrl, audience: app.resource, keys: options.keys, revocations: options.revocations, clockSkewSeconds: options.clockSkew, refuse: PortcullisError.from });
    // A JWT never matches the key shape (it has dots), so the two never mix.
    const verify: TokenVerifier = (bearer) => (isApiKeyShaped(bearer) ? apiKeys.resolve(bearer, app) : jwt(bearer));
    verifiers.set(app.slug, { app, verify });
    return verify;
  }

  function upstreamFor(app: Application): Upstream {
    const cached = upstreams.get(app.slug);
    // Compared by content: every registry reload builds new Application objects, and replacing a
    // connector needlessly would drop a stdio upstream's processes or an HTTP agent's connections.
    if (cached && (cached.app.definition === app.definition || JSON.stringify(cached.app.upstream) === JSON.stringify(app.upstream))) {
      cached.app = app;
      return cached.upstream;
    }
    if (cached) void cached.upstream.close().catch(() => {});
    let upstream: Upstream;
    const target = app.upstream;
    if ('builtin' in target) {
      const server = builtinServers.get(app.slug);
      if (!server) throw new UpstreamError('unreachable', `no built-in server for ${app.slug}`);
      upstream = createBuiltinUpstream(server, app.resource);
    } else if ('url' in target) {
      upstream = createHttpUpstream(target, minter);
    } else {
      upstream = createStdioUpstream(target, { application: app.slug, log: log.child({ app: app.slug, upstream: 'stdio' }) });
    }
    upstreams.set(app.slug, { app, upstream });
    return upstream;
  }

  const refreshing = new Map<string, Promise<void>>();
  async function refreshManifest(app: Application): Promise<void> {
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
  }

  const gateway = createGateway({
    registry,
    bindings,
    verifierFor,
    orgTree: (orgId) => trees.get(orgId),
    keyUsed: (keyId, ip) => apiKeys.noteUse(keyId, ip),
    upstreamFor,
    resourceMetadataUrl: (app) => resourceMetadataUrl(app.resource),
    refreshManifest: (app) => void refreshManifest(app),
    clientIp: options.clientIp,
    log,
    now: () => options.now() * 1000,
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
    metadataAt(wellKnownPath) {
      const app = registry.list().find((a) => new URL(resourceMetadataUrl(a.resource)).pathname === wellKnownPath);
      if (!app) return undefined;
      return resourceMetadataDocument({
        resource: app.resource,
        authorizationServers: [config.publicUrl],
        scopes: app.scopes.map((s) => s.name),
        name: app.name,
      });
    },
    upstreamFor,
    refreshManifest,
    apiKeys,
    async close() {
      registry.stop();
      apiKeys.stop();
      await Promise.all([...upstreams.values()].map(({ upstream }) => upstream.close().catch(() => {})));
    },
  };
}
