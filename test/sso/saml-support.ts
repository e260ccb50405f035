/**
 * Driving a SAML sign-in against a test server the way a browser does: `/sso/<id>/start` (its
 * redirect to the IdP decoded), the IdP's auto-submitted form POSTed to the ACS from the IdP's
 * origin (a cross-site POST), then the redirects that follow.
 */
import assert from 'node:assert/strict';
import { Browser, type Answer } from './support.ts';
import { decodeAuthnRequest, type AuthnRequest, type SpEndpoints, type TestSamlIdp } from './saml-idp.ts';

export interface SamlFlow {
  sp(connection: string): SpEndpoints;
  /** Start a sign-in in `browser`; the AuthnRequest it was sent to the IdP with. */
  start(browser: Browser, connection: string, returnTo?: string, query?: Record<string, string>): Promise<AuthnRequest>;
  /** POST a SAMLResponse to the ACS as the IdP's page does, and follow the redirect to `finish`: its answer. */
  post(browser: Browser, connection: string, samlResponse: string, relayState?: string | null): Promise<Answer>;
  signedIn(browser: Browser): boolean;
}

export function samlFlow(server: { url: string }, idp: TestSamlIdp): SamlFlow {
  const sp = (connection: string) => ({ entityId: `${server.url}/sso/${connection}/saml`, acsUrl: `${server.url}/sso/${connection}/saml/acs` });
  return {
    sp,
    async start(browser, connection, returnTo = '/', query = {}) {
      const answer = await browser.request(`${server.url}/sso/${connection}/start?${new URLSearchParams({ return_to: returnTo, ...query })}`);
      assert.equal(answer.status, 303, answer.body.slice(0, 500));
      assert.ok(answer.location?.startsWith(`${idp.ssoUrl}?`), `sent to the IdP's sign-on URL: ${answer.location}`);
      return decodeAuthnRequest(answer.location!);
    },
    post(browser, connection, samlResponse, relayState) {
      const body = new URLSearchParams({ SAMLResponse: samlResponse });
      if (relayState) body.set('RelayState', relayState);
      return browser.follow(sp(connection).acsUrl, (location) => !location.includes('/saml/finish'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(idp.ssoUrl).origin },
        body,
      });
    },
    signedIn: (browser) => browser.jars.get(new URL(server.url).origin)?.has('__Host-pc_session') ?? false,
  };
}
