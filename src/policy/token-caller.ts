/**
 * The policy caller a verified access token makes, as the gateway builds it (gateway/caller.ts
 * callerFrom, then steps/policy.ts): here, below the gateway, so the console's token explainer
 * judges with the very same caller instead of a copy.
 */
import type { VerifiedToken } from '../shared/verify.ts';
import type { Caller } from './rule.ts';

export function callerOfToken(token: VerifiedToken, ip: string): Caller {
  return {
    subject: token.subject,
    clientId: token.clientId,
    scopes: token.scopes,
    authTime: token.authTime,
    acr: token.acr,
    ip,
    orgId: token.orgId,
    levels: token.levels,
    credential: token.keyId === undefined ? 'token' : 'key',
  };
}
