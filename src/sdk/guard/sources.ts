/**
 * What the guard learns from the authorization server, wired once per guard: its signing keys
 * (keys.ts), its revocation stream (revocation-feed.ts) and its introspection endpoint
 * (introspection.ts), all fetched through one https-only fetch (shared/outbound.ts). An endpoint
 * the guard was not told is read from the issuer's RFC 8414 metadata (shared/discovery.ts).
 */
import type { JWTVerifyGetKey } from 'jose';
import { createMetadataSource, type AuthorizationServerMetadata } from '../../shared/discovery.ts';
import { checkOutboundUrl, createGuardFetch, type GuardFetch } from '../../shared/outbound.ts';
import { GuardError } from './errors.ts';
import { createIntrospector, type Introspector } from './introspection.ts';
import { createKeySource } from './keys.ts';
import type { GuardOptions } from './options.ts';
import { RevocationFeed } from './revocation-feed.ts';

export interface GuardSources {
  keys: JWTVerifyGetKey;
  /** The revocation stream, when configured (already started). */
  feed: RevocationFeed | undefined;
  /** Introspection, when configured. */
  introspect: Introspector | undefined;
  /** How much longer a request may wait for a feed that has not caught up since the guard started (ms, ≤ 0: no more). */
  startupWaitLeft(): number;
}

type Metadata = () => Promise<AuthorizationServerMetadata>;

/**
 * An endpoint from the issuer's metadata, held to the same rules as every URL the guard fetches.
 * Failures of the shared code (metadata not found or for another issuer, a refused URL) become
 * the guard's own error here; the caller reports them as keys or introspection being unavailable.
 */
async function endpointFromMetadata(metadata: Metadata, field: 'jwks_uri' | 'introspection_endpoint', allowHttpLoopback: boolean): Promise<string> {
  let uri: unknown;
  try {
    uri = (await metadata())[field];
    if (typeof uri === 'string') checkOutboundUrl(uri, allowHttpLoopback);
  } catch (err) {
    throw new GuardError('unavailable', 'the authorization server metadata cannot be used', { rule: 'metadata', cause: err });
  }
  if (typeof uri !== 'string') throw new GuardError('unavailable', `the authorization server metadata has no ${field}`, { rule: 'metadata' });
  return uri;
}

function startFeed(revocations: NonNullable<GuardOptions['revocations']>, stalenessMs: number, fetch: GuardFetch, onError: GuardOptions['onError']): RevocationFeed {
  const feed = new RevocationFeed({
    streamUrl: revocations.streamUrl,
    clientId: revocations.clientId,
    clientSecret: revocations.clientSecret,
    stalenessMs,
    fetch,
    onError,
  });
  feed.start();
  return feed;
}

function introspection(settings: NonNullable<GuardOptions['introspection']>, metadata: Metadata, fetch: GuardFetch, allowHttpLoopback: boolean): Introspector {
  return createIntrospector({
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    cacheMs: settings.cacheMs,
    fetch,
    endpoint: async () => settings.endpoint || endpointFromMetadata(metadata, 'introspection_endpoint', allowHttpLoopback),
  });
}

export function connectSources(options: GuardOptions, allowHttpLoopback: boolean): GuardSources {
  // The stream passes its own signal, so it is not cut by the fetch timeout.
  const guardFetch = createGuardFetch({ allowHttpLoopback });
  const metadata = createMetadataSource(options.issuer, guardFetch);
  const keys = createKeySource({
    fetch: guardFetch,
    cooldownMs: options.jwksCooldownMs,
    jwksUri: async () => options.jwksUri || endpointFromMetadata(metadata, 'jwks_uri', allowHttpLoopback),
  });

  const stalenessMs = options.revocations?.stalenessMs ?? 30_000;
  const feed = options.revocations ? startFeed(options.revocations, stalenessMs, guardFetch, options.onError) : undefined;
  const startedAt = Date.now();
  // Right after start the stream has not caught up yet: requests wait for it this long at most
  // (less if the connection attempt fails: then the fallback decides at once).
  const startupWaitMs = Math.min(stalenessMs, 2000);

  const introspect = options.introspection ? introspection(options.introspection, metadata, guardFetch, allowHttpLoopback) : undefined;
  // Cached key answers go the moment a key, its creator or their membership is revoked.
  feed?.subscribe((event) => {
    if (event.kind === 'key' || event.kind === 'user' || event.kind === 'member') introspect?.forgetKeys();
  });

  return { keys, feed, introspect, startupWaitLeft: () => startupWaitMs - (Date.now() - startedAt) };
}
