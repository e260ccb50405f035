/** Who is calling through the gateway, as every step after authentication sees it. */
import type { VerifiedToken } from '../shared/verify.ts';
import type { ResourceLevels } from '../shared/levels.ts';

export interface CallerIdentity {
  subject: string;
  /** The OAuth client, or `key:<id>` for an API key. */
  clientId: string;
  scopes: string[];
  authTime: number | undefined;
  /** How that sign-in was made (claim `acr`): a step-up with `mfa` needs a second factor. */
  acr?: string;
  grantId: string | undefined;
  /** Client IP (the socket peer, or the X-Forwarded-For hop a trusted proxy appended: http/io.ts requestIp). */
  ip: string;
  /** The organization the caller acts for, and their levels on its resources (docs/design/identity.md). */
  orgId?: string;
  levels?: ResourceLevels;
  /** An OAuth access token (default) or an API key. */
  credential?: 'token' | 'key';
}

export function callerFrom(token: VerifiedToken, ip: string): CallerIdentity {
  return {
    subject: token.subject,
    clientId: token.clientId,
    scopes: [...token.scopes],
    authTime: token.authTime,
    acr: token.acr,
    grantId: token.grantId,
    ip,
    orgId: token.orgId,
    levels: token.levels,
    credential: token.keyId === undefined ? 'token' : 'key',
  };
}

/** Sessions, streams and tasks belong to one (user, client) within one application. */
export function ownerOf(caller: Pick<CallerIdentity, 'subject' | 'clientId'>): string {
  return `${caller.subject} ${caller.clientId}`;
}
