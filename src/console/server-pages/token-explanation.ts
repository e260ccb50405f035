/**
 * What the token explainer says of a pasted access token, computed by the code the gateway runs:
 * the gateway's own verifier for the token's application (shared/verify.ts through the running
 * gateway: signature, `typ`, `iss`, `aud`, expiry, revocation — but not its hook into the
 * connection doctor: an administrator checking a bad token is no client failing to connect,
 * server/gateway-runtime.ts `verifierFor`), then for each tool of the
 * application the gateway's rules (policy/index.ts GATEWAY_RULES) with the caller the gateway
 * builds (policy/token-caller.ts). The claims are read unverified only to show them and to find
 * the application. The token itself is never logged, stored or sent back in the page.
 */
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import type { Application } from '../../core/application.ts';
import { isPortcullisError } from '../../core/errors.ts';
import { evaluate, GATEWAY_RULES, type Decision } from '../../policy/index.ts';
import { callerOfToken } from '../../policy/token-caller.ts';
import type { VerifiedToken } from '../../shared/verify.ts';
import type { ServerPagesDeps } from './access.ts';

export type KeyState = 'current' | 'retired' | 'unknown';

export interface Explanation {
  /** Undefined when the text is not a JWT at all. */
  claims?: JWTPayload;
  kid?: string;
  keyState?: KeyState;
  app?: Application;
  user?: string;
  clientName?: string;
  /** The revocation list's answer for the token's grant, token and subject. */
  revoked?: boolean;
  /** The first check that failed, as the gateway would refuse the token; none when it passes. */
  failed?: { code: string; rule: string };
  /** Per tool of the application: the gateway's decision for a call with this token (only for a valid token). */
  tools: { name: string; decision: Decision }[];
}

function decode(token: string): { claims: JWTPayload; kid?: string } | undefined {
  try {
    return { claims: decodeJwt(token), kid: decodeProtectedHeader(token).kid };
  } catch {
    return undefined;
  }
}

const audiencesOf = (claims: JWTPayload) => (Array.isArray(claims.aud) ? claims.aud : claims.aud ? [claims.aud] : []);

async function keyState(deps: ServerPagesDeps, kid: string | undefined): Promise<KeyState> {
  const key = kid === undefined ? undefined : (await deps.store.signingKeys.list()).find((k) => k.kid === kid);
  if (!key) return 'unknown';
  return key.retiredAt === null ? 'current' : 'retired';
}

/** Who and what the claims name (shown even when the token fails). */
async function describe(deps: ServerPagesDeps, claims: JWTPayload, into: Explanation): Promise<void> {
  if (typeof claims.sub === 'string') into.user = (await deps.store.users.findById(claims.sub))?.email;
  if (typeof claims.client_id === 'string') into.clientName = (await deps.store.clients.find(claims.client_id))?.metadata.client_name as string | undefined;
  if (typeof claims.sub === 'string' && typeof claims.jti === 'string') {
    const orgId = typeof claims.org_id === 'string' ? claims.org_id : undefined;
    const grantId = typeof claims.grant_id === 'string' ? claims.grant_id : undefined;
    into.revoked = deps.revocations.isRevoked({ grantId, jti: claims.jti, subject: claims.sub, issuedAt: Number(claims.iat), orgId });
  }
}

async function verify(deps: ServerPagesDeps, app: Application, token: string): Promise<VerifiedToken | { code: string; rule: string }> {
  if (!deps.gateway.verifierFor) return { code: 'unavailable', rule: 'no-gateway' };
  try {
    return await deps.gateway.verifierFor(app)(token);
  } catch (err) {
    if (isPortcullisError(err)) return { code: err.code, rule: err.rule };
    throw err;
  }
}

/** Every tool of the application, judged as the gateway judges a `tools/call` with no arguments from `ip`. */
function judgeTools(deps: ServerPagesDeps, app: Application, verified: VerifiedToken, ip: string): Explanation['tools'] {
  const caller = callerOfToken(verified, ip);
  const now = deps.now() * 1000;
  // The same inputs as the gateway's policy step: the manifest's record of the tool (review, annotations).
  return deps.gateway.registry.tools(app.slug).map((tool) => ({
    name: tool.name,
    decision: evaluate(GATEWAY_RULES, { app, caller, target: { method: 'tools/call', name: tool.name }, tool, now }),
  }));
}

export async function explainToken(deps: ServerPagesDeps, token: string, ip: string): Promise<Explanation> {
  const decoded = decode(token);
  if (!decoded) return { failed: { code: 'invalid_token', rule: 'malformed' }, tools: [] };
  const { claims, kid } = decoded;
  const into: Explanation = { claims, kid, keyState: await keyState(deps, kid), tools: [] };
  await describe(deps, claims, into);
  const audiences = audiencesOf(claims);
  into.app = deps.gateway.registry.list().find((app) => audiences.includes(app.resource));
  // RFC 8707: a token is for the resources in its `aud`; none of ours is the gateway's `audience` refusal.
  if (!into.app) return { ...into, failed: { code: 'invalid_audience', rule: 'audience' } };
  const verified = await verify(deps, into.app, token);
  if (!('subject' in verified)) return { ...into, failed: verified };
  return { ...into, tools: judgeTools(deps, into.app, verified, ip) };
}
