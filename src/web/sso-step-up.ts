/**
 * Which single sign-on sessions prove a recent authentication. An SSO session is dated when the
 * IdP answered, and an IdP with a live session of its own answers at once, without asking anyone
 * anything: a plain SSO sign-in says nothing of when the person last authenticated. Only a sign-in
 * in which Portcullis asked the IdP for one (`prompt=login`, `max_age`, OpenID Connect Core
 * §3.1.2.1; the ID token's `auth_time` then checked by openid-client) does — that is recorded here
 * for the session it created, with the max age asked for, and a step-up for an SSO user accepts
 * only such a session (authz/interaction/step-up-sign-in.ts).
 */
import { keyedHash } from '../core/crypto.ts';
import type { SessionRecord } from '../store/sessions.ts';
import type { WebDeps } from './pages.ts';

const KIND = 'sso-reauthenticated';

const keyOf = (deps: Pick<WebDeps, 'pepper'>, sessionId: string) => keyedHash(deps.pepper, `sso-reauthenticated:${sessionId}`);

/** The IdP was asked to authenticate the person within `maxAge` seconds for this new session. */
export async function recordIdpReauthentication(deps: Pick<WebDeps, 'store' | 'pepper'>, session: Pick<SessionRecord, 'id' | 'expiresAt'>, maxAge: number): Promise<void> {
  await deps.store.oneTime.put(KIND, keyOf(deps, session.id), String(maxAge), session.expiresAt);
}

/**
 * Did this session come from an IdP sign-in asked for a max age no longer than `maxAge`? (Read and
 * kept: the store's one-time values are taken by reading, so it is put back.)
 */
export async function reauthenticatedAtIdp(deps: Pick<WebDeps, 'store' | 'pepper' | 'now'>, session: Pick<SessionRecord, 'id' | 'expiresAt'>, maxAge: number): Promise<boolean> {
  const asked = await deps.store.oneTime.consume(KIND, keyOf(deps, session.id), deps.now());
  if (asked === undefined) return false;
  await deps.store.oneTime.put(KIND, keyOf(deps, session.id), asked, session.expiresAt);
  return Number(asked) <= maxAge;
}
