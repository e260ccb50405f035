/**
 * Single sign-on through a SAML 2.0 identity provider (Web Browser SSO profile, SAML Profiles
 * §4.1): `GET /sso/<id>/start` (web/sso-routes.ts) sends the browser to the IdP with an
 * AuthnRequest; the IdP posts the Response to `POST /sso/<id>/saml/acs`; `GET /sso/<id>/saml/finish`
 * signs the browser in. `GET /sso/<id>/saml/metadata` describes this SP to the IdP.
 *
 * The ACS is a cross-site POST, which SameSite=Lax cookies do not accompany, so the login
 * transaction is bound twice:
 * - to the AuthnRequest: its ID is kept single-use in the store (sealed with where to return
 *   and the RelayState sent), and the assertion's signed InResponseTo must name one we issued
 *   and nobody used yet — on any instance sharing the store;
 * - to the browser: the ACS only parks the verified sign-in and redirects (a top-level GET, which
 *   Lax cookies do accompany) to `finish`, which requires the cookie set at the start — so a
 *   Response captured elsewhere and posted from another site (login CSRF) signs nobody in.
 * Every assertion ID is recorded until its NotOnOrAfter has passed: a replay is refused everywhere.
 */
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { constantTimeEqual, keyedHash, open, randomToken, seal } from '../core/crypto.ts';
import { PortcullisError, type ErrorCode } from '../core/errors.ts';
import type { SamlConnection } from '../core/identity-providers.ts';
import { ssoAccount } from '../identity/sso-accounts.ts';
import { clientIp, type WebContext, type WebDeps, type WebEnv } from './pages.ts';
import { checkAssertion, samlAmr, samlClaims, type CheckedAssertion } from './saml-assertion.ts';
import { SamlRefusedError, type SamlServiceProviders } from './saml-service-provider.ts';
import { connections, ssoRefusal, ssoRefusalPage, startSsoSession } from './sso-routes.ts';

const BROWSER_COOKIE = '__Host-pc_saml';
const REQUEST_KIND = 'saml-request';
const SIGNIN_KIND = 'saml-signin';
const ASSERTION_KIND = 'saml-assertion';
const REQUEST_CONTEXT = 'portcullis/saml-request/v1';
const SIGNIN_CONTEXT = 'portcullis/saml-signin/v1';
/** Long enough to sign in at the IdP, short enough to be useless later. */
const REQUEST_TTL = 15 * 60;
/** From the ACS to `finish` is one redirect. */
const SIGNIN_TTL = 2 * 60;

export interface SamlRouteDeps extends WebDeps {
  saml: SamlServiceProviders;
}

/** What the AuthnRequest's ID is kept with until its Response arrives. */
interface SamlRequest {
  connectionId: string;
  returnTo: string;
  relayState: string;
  /** Keyed hash of this browser's cookie. */
  browser: string;
  /** A step-up's fresh sign-in (ForceAuthn): asked at `askedAt` (epoch seconds), for at most `maxAge`. */
  fresh?: { maxAge: number; askedAt: number };
}

/** A verified sign-in parked between the ACS and `finish`. */
interface ParkedSignIn {
  connectionId: string;
  claims: Record<string, unknown> & { iss: string; sub: string };
  amr: string[];
  returnTo: string;
  /** Null for an IdP-initiated sign-in (no browser to bind: the reason it is off by default). */
  browser: string | null;
  /** The max age a step-up asked the IdP for, the assertion's AuthnInstant having shown it was honoured. */
  idpMaxAge?: number;
}

const MESSAGES: Record<string, string> = {
  signature: 'The identity provider’s answer is not signed with its key.',
  audience: 'The identity provider’s answer is meant for another service.',
  recipient: 'The identity provider’s answer is meant for another address.',
  destination: 'The identity provider’s answer is meant for another address.',
  expired: 'The identity provider’s answer has expired. Start again.',
  not_yet_valid: 'The identity provider’s answer is not valid yet: a clock is wrong.',
  replayed: 'This answer from the identity provider has been used already. Start again.',
  unknown_request: 'This answer does not belong to a sign-in started here, or that sign-in has been used or has expired. Start again.',
  idp_initiated: 'Sign-ins started at the identity provider are not accepted for this connection: start here instead.',
  relay_state: 'The identity provider’s answer does not belong to this sign-in.',
  transient_name_id: 'The identity provider sent a one-time name for you: configure a persistent NameID for this application.',
  stale_authentication: 'The identity provider did not ask you to sign in again, which this action needs. Start again.',
};

const requestKey = (deps: WebDeps, connectionId: string, requestId: string) => keyedHash(deps.pepper, `saml-request:${connectionId}:${requestId}`);
const browserHash = (deps: WebDeps, value: string) => keyedHash(deps.pepper, `saml-browser:${value}`);

function refusal(connection: SamlConnection, reason: string, code?: ErrorCode): PortcullisError {
  const message = MESSAGES[reason];
  return message ? new PortcullisError(code ?? 'sso_refused', message, { rule: reason }) : ssoRefusal(connection, reason, code);
}

/** A refused step: audited (`signin.failed` with the stable reason), then the refusal page. */
function refuse(deps: WebDeps, c: WebContext, connection: SamlConnection, reason: string, code?: ErrorCode) {
  deps.audit.record({ kind: 'signin.failed', actor: 'anonymous', reason, details: { connection: connection.id, ip: clientIp(deps, c) } });
  return ssoRefusalPage(c, deps, refusal(connection, reason, code));
}

/** The SAML connection a route names, if it is one. */
function samlConnection(deps: WebDeps, c: WebContext): SamlConnection | undefined {
  const connection = connections(deps).get(c.req.param('id') ?? '');
  return connection?.type === 'saml' ? connection : undefined;
}

const unknownConnection = () => new PortcullisError('unknown_connection', 'This single sign-on connection does not exist.');

/** The start of an SP-initiated sign-in (called by web/sso-routes.ts's `/sso/<id>/start`). */
export function samlStart(deps: SamlRouteDeps) {
  return async (c: WebContext, connection: SamlConnection, returnTo: string, stepUp?: { maxAge: number }): Promise<Response> => {
    // An xs:ID must not start with a digit or '-' (SAML Core §1.3.4): hence the underscore.
    const requestId = `_${randomToken(20)}`;
    const relayState = randomToken(16);
    const binding = randomToken();
    let target: string;
    try {
      target = await deps.saml.authnRequestUrl(connection, requestId, relayState, stepUp !== undefined);
    } catch (err) {
      deps.log.warn({ err, connection: connection.id }, 'sso: SAML identity provider metadata unavailable');
      return ssoRefusalPage(c, deps, ssoRefusal(connection, 'idp_unavailable'));
    }
    const request: SamlRequest = { connectionId: connection.id, returnTo, relayState, browser: browserHash(deps, binding), ...(stepUp ? { fresh: { maxAge: stepUp.maxAge, askedAt: deps.now() } } : {}) };
    await deps.store.oneTime.put(REQUEST_KIND, requestKey(deps, connection.id, requestId), seal(deps.dataKey, JSON.stringify(request), REQUEST_CONTEXT), deps.now() + REQUEST_TTL);
    setCookie(c, BROWSER_COOKIE, binding, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax', maxAge: REQUEST_TTL });
    return c.redirect(target, 303);
  };
}

export function samlRoutes(deps: SamlRouteDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get('/sso/:id/saml/metadata', (c) => {
    const connection = samlConnection(deps, c);
    if (!connection) return ssoRefusalPage(c, deps, unknownConnection());
    return c.body(deps.saml.metadata(connection), 200, { 'content-type': 'application/samlmetadata+xml; charset=utf-8' });
  });
  app.post('/sso/:id/saml/acs', (c) => acs(deps, c));
  app.get('/sso/:id/saml/finish', (c) => finish(deps, c));
  return app;
}

/** The Response's assertion, verified (node-saml) and checked (saml-assertion.ts). */
async function verifiedAssertion(deps: SamlRouteDeps, connection: SamlConnection, samlResponse: string) {
  const verified = await deps.saml.verify(connection, samlResponse);
  const checked = checkAssertion(verified, connection, { acsUrl: deps.saml.acsUrl(connection), now: deps.now() });
  return { profile: verified.profile, checked };
}

/** Where the sign-in returns and which browser it is bound to; refused when no AuthnRequest of ours matches. */
async function matchRequest(deps: SamlRouteDeps, connection: SamlConnection, checked: CheckedAssertion, relayState: unknown): Promise<{ returnTo: string; browser: string | null; idpMaxAge?: number } | { refused: string }> {
  if (checked.inResponseTo === undefined) {
    if (!connection.allowIdpInitiated) return { refused: 'idp_initiated' };
    // No request to return to: RelayState from the IdP is not trusted as a place to go.
    return { returnTo: `${deps.base}/`, browser: null };
  }
  const sealed = await deps.store.oneTime.consume(REQUEST_KIND, requestKey(deps, connection.id, checked.inResponseTo), deps.now());
  if (!sealed) return { refused: 'unknown_request' };
  const request = JSON.parse(open(deps.dataKey, sealed, REQUEST_CONTEXT)) as SamlRequest;
  if (typeof relayState !== 'string' || !constantTimeEqual(relayState, request.relayState)) return { refused: 'relay_state' };
  if (!request.fresh) return { returnTo: request.returnTo, browser: request.browser };
  // A step-up asked for ForceAuthn: the signed AuthnInstant must show the IdP authenticated the
  // person after we asked (an IdP that answered from its own session did not).
  if (checked.authnInstant === undefined || checked.authnInstant < request.fresh.askedAt - connection.clockSkewSeconds) return { refused: 'stale_authentication' };
  return { returnTo: request.returnTo, browser: request.browser, idpMaxAge: request.fresh.maxAge };
}

async function acs(deps: SamlRouteDeps, c: WebContext) {
  const connection = samlConnection(deps, c);
  if (!connection) return ssoRefusalPage(c, deps, unknownConnection());
  const form = await c.req.parseBody();
  if (typeof form.SAMLResponse !== 'string' || !form.SAMLResponse) return refuse(deps, c, connection, 'invalid_response');
  let result;
  try {
    result = await verifiedAssertion(deps, connection, form.SAMLResponse);
  } catch (err) {
    if (!(err instanceof SamlRefusedError)) throw err;
    deps.log.info({ err: err.cause, connection: connection.id, reason: err.reason }, 'sso: SAML response refused');
    return refuse(deps, c, connection, err.reason);
  }
  const { profile, checked } = result;
  // One statement, on the shared store: of two instances given the same assertion, one wins.
  const first = await deps.store.oneTime.putIfAbsent(ASSERTION_KIND, keyedHash(deps.pepper, `saml-assertion:${checked.issuer}:${checked.id}`), '1', checked.keepUntil, deps.now());
  if (!first) return refuse(deps, c, connection, 'replayed');
  const match = await matchRequest(deps, connection, checked, form.RelayState);
  if ('refused' in match) return refuse(deps, c, connection, match.refused);
  const parked: ParkedSignIn = { connectionId: connection.id, claims: samlClaims(connection, profile, checked), amr: samlAmr(connection, checked), ...match };
  const key = randomToken();
  await deps.store.oneTime.put(SIGNIN_KIND, keyedHash(deps.pepper, `saml-signin:${key}`), seal(deps.dataKey, JSON.stringify(parked), SIGNIN_CONTEXT), deps.now() + SIGNIN_TTL);
  return c.redirect(`${deps.base}/sso/${connection.id}/saml/finish?${new URLSearchParams({ k: key })}`, 303);
}

async function finish(deps: SamlRouteDeps, c: WebContext) {
  const connection = samlConnection(deps, c);
  if (!connection) return ssoRefusalPage(c, deps, unknownConnection());
  const sealed = await deps.store.oneTime.consume(SIGNIN_KIND, keyedHash(deps.pepper, `saml-signin:${c.req.query('k') ?? ''}`), deps.now());
  if (!sealed) return refuse(deps, c, connection, 'state_unknown');
  const parked = JSON.parse(open(deps.dataKey, sealed, SIGNIN_CONTEXT)) as ParkedSignIn;
  if (parked.connectionId !== connection.id) return refuse(deps, c, connection, 'connection_mismatch');
  if (parked.browser !== null) {
    const cookie = getCookie(c, BROWSER_COOKIE) ?? '';
    if (!cookie || !constantTimeEqual(browserHash(deps, cookie), parked.browser)) return refuse(deps, c, connection, 'login_csrf');
  }
  const account = await ssoAccount(deps, connection, parked.claims);
  if (account.kind === 'refused') return refuse(deps, c, connection, account.reason, 'sso_account_refused');
  setCookie(c, BROWSER_COOKIE, '', { path: '/', secure: true, httpOnly: true, sameSite: 'Lax', maxAge: 0 });
  return startSsoSession(deps, c, connection, account, parked.amr, parked.returnTo, parked.idpMaxAge);
}
