/** Who is calling through the gateway, as every step after authentication sees it. */
import type { VerifiedToken } from '../guard/verify.ts';

export interface CallerIdentity {
  subject: string;
  clientId: string;
  scopes: string[];
  authTime: number | undefined;
  grantId: string | undefined;
  /** Client IP (the socket peer, or the X-Forwarded-For hop a trusted proxy appended: http/io.ts requestIp). */
  ip: string;
}

export function callerFrom(token: VerifiedToken, ip: string): CallerIdentity {
  return {
    subject: token.subject,
    clientId: token.clientId,
    scopes: [...token.scopes],
    authTime: token.authTime,
    grantId: token.grantId,
    ip,
  };
}

/** Sessions, streams and tasks belong to one (user, client) within one application. */
export function ownerOf(caller: Pick<CallerIdentity, 'subject' | 'clientId'>): string {
  return `${caller.subject} ${caller.clientId}`;
}
