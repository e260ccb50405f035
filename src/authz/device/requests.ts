/**
 * A device request as the verification pages see it: the engine's DeviceCode found by its user
 * code, whether it can still be approved, and what it asks for — the client, the resource and the
 * scopes — read the way the authorization endpoint reads a request.
 */
import type Provider from 'oidc-provider';
import type { ProtectedResource } from '../../core/protected-resource.ts';
import { isUnavailable } from '../../core/errors.ts';
import type { WebDeps } from '../../web/pages.ts';
import type { SignedIn } from '../../web/session.ts';
import type { ClientView } from '../../web/approval.ts';
import { clientView } from '../client-view.ts';
import { ACR_MFA, acrFor, OIDC_SCOPES } from '../protocol.ts';

export type DeviceCode = InstanceType<Provider['DeviceCode']>;

/** What the person is asked to approve: the client, the resource, the scopes. */
export interface DeviceRequest {
  code: DeviceCode;
  userCode: string;
  client: ClientView;
  resource: ProtectedResource | undefined;
  /** Scopes of the resource that were asked for (its defaults when none were). */
  resourceScopes: string[];
  /** OpenID scopes asked for (openid, email, …). */
  oidcScopes: string[];
}

export type DeviceRequestDeps = Pick<WebDeps, 'provider' | 'store' | 'resources'> & {
  /** The audience of a device request that names no resource (as at the authorization endpoint). */
  defaultResource: () => string | undefined;
};

/** The code a (normalized) user code names, expired ones included; undefined when there is none. */
export async function findCode(provider: Provider, userCode: string): Promise<DeviceCode | undefined> {
  try {
    return (await provider.DeviceCode.findByUserCode(userCode, { ignoreExpiration: true })) ?? undefined;
  } catch (err) {
    // An unreadable code is no code; an outage stays an outage (503), never "wrong code" or "expired".
    if (isUnavailable(err)) throw err;
    return undefined;
  }
}

/** A code that can still be approved, or why not. */
export async function pendingCode(provider: Provider, userCode: string): Promise<DeviceCode | 'expired' | 'used'> {
  const code = await findCode(provider, userCode);
  // Past its expiry the store no longer returns it: a ticket proves it existed, so it expired.
  if (!code || code.isExpired) return 'expired';
  if (code.consumed || code.accountId || code.error || code.inFlight) return 'used';
  return code;
}

/** What the code asks for; undefined when its client is gone. */
export async function describeRequest(deps: DeviceRequestDeps, code: DeviceCode, userCode: string): Promise<DeviceRequest | undefined> {
  const client = code.clientId ? await clientView(deps, code.clientId) : undefined;
  if (!client) return undefined;
  const params = (code.params ?? {}) as Record<string, unknown>;
  const named = Array.isArray(params.resource) ? (params.resource.length === 1 ? String(params.resource[0]) : undefined) : params.resource;
  const indicator = typeof named === 'string' ? named : deps.defaultResource();
  const resource = indicator ? deps.resources.get(indicator) : undefined;
  const requested = typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : [];
  const own = new Set(resource?.scopes.map((s) => s.name) ?? []);
  const asked = requested.filter((s) => own.has(s));
  // Like the authorization endpoint: a request naming none of the resource's scopes gets its defaults.
  const resourceScopes = resource ? (asked.length ? asked : resource.defaultScopes.filter((s) => own.has(s))) : [];
  return { code, userCode, client, resource, resourceScopes, oidcScopes: requested.filter((s) => OIDC_SCOPES.includes(s)) };
}

/**
 * A step-up scope (authz/step-up.ts) is put in a token only when the sign-in behind it is recent:
 * approving it from an older session would hand the device a token without it, and the device
 * would be sent back here in a loop. So the password is asked for again first, as the consent
 * flow does.
 */
/** The step-up the request asks for (its resource's step-up scope is among the scopes), if any. */
export function deviceStepUp(request: DeviceRequest): { maxAge: number; mfa: boolean } | undefined {
  const { resource } = request;
  if (!resource?.stepUpScope || resource.stepUpMaxAge === undefined || !request.resourceScopes.includes(resource.stepUpScope)) return undefined;
  return { maxAge: resource.stepUpMaxAge, mfa: resource.stepUpMfa === true };
}

export function needsFreshSignIn(request: DeviceRequest, me: SignedIn, now: number): boolean {
  const { resource } = request;
  if (!resource?.stepUpScope || resource.stepUpMaxAge === undefined || !request.resourceScopes.includes(resource.stepUpScope)) return false;
  return now - me.session.authTime > resource.stepUpMaxAge;
}

/**
 * The step-up scope asked for needs a second factor (`stepUpMfa`) and this session's sign-in has
 * none: the token endpoint would leave the scope out, so the second factor is asked for first.
 */
export function needsSecondFactor(request: DeviceRequest, me: SignedIn): boolean {
  const { resource } = request;
  if (!resource?.stepUpScope || !resource.stepUpMfa || !request.resourceScopes.includes(resource.stepUpScope)) return false;
  return acrFor(me.session.amr) !== ACR_MFA;
}
