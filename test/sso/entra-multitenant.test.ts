/**
 * Microsoft Entra ID connections, end to end against a local stand-in for Entra
 * (entra-stand-in.ts): a multi-tenant app registration (`tenantIds`) signs in through the
 * `organizations` endpoint, whose discovery names the issuer template
 * `https://login.microsoftonline.com/{tenantid}/v2.0`. A token counts only when its `iss` is that
 * template with the token's own `tid`, and that `tid` is one of the connection's tenants — the
 * checks whose absence makes the issuer-confusion and "nOAuth" takeovers. The same object id in two
 * tenants is two people. A single-tenant connection (`tenantId`) still works.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { IdentityProvidersSchema, type OidcConnection } from '../../src/core/identity-providers.ts';
import { createOrgConnection, type OrgConnectionDeps } from '../../src/identity/org-connections.ts';
import { PortcullisError } from '../../src/core/errors.ts';
import { audited, Browser, refusalCode, type Answer } from './support.ts';
import { startEntraStandIn, type EntraStandIn } from './entra-stand-in.ts';

// Directory ids: two the company owns (after an acquisition), one it does not, one for the single-tenant connection.
const CONTOSO = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const FABRIKAM = '0b1f4c2e-5d6a-4e8b-9c7d-3a2b1c0d9e8f';
const STRANGER = '9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4';
const NORTHWIND = '4a3b2c1d-0e9f-4877-b665-544332211000';
/** Entra's v2.0 issuer for a tenant (Microsoft identity platform, "ID tokens": `iss`). */
const issuerOf = (tenant: string) => `https://login.microsoftonline.com/${tenant}/v2.0`;

let entra: EntraStandIn;
let server: TestServer;

before(async () => {
  entra = await startEntraStandIn({
    ada: { tid: CONTOSO, oid: 'oid-ada', email: 'ada@contoso.test', name: 'Ada', xms_edov: true },
    // The same object id as Ada's, in the acquired company's directory: another person.
    bert: { tid: FABRIKAM, oid: 'oid-ada', email: 'bert@fabrikam.test', name: 'Bert', xms_edov: true },
    // Any directory can consent to a multi-tenant app; this one is not the company's.
    stranger: { tid: STRANGER, oid: 'oid-stranger', email: 'eve@contoso.test', name: 'Eve', xms_edov: true },
    // A token whose `iss` names the company's tenant while its `tid` is another: issuer confusion.
    forgedIss: { tid: STRANGER, oid: 'oid-forged', email: 'mallory@contoso.test', name: 'Mallory', xms_edov: true, issTenant: CONTOSO },
    forgedTid: { tid: CONTOSO, oid: 'oid-forged-2', email: 'trent@contoso.test', name: 'Trent', xms_edov: true, issTenant: FABRIKAM },
    nina: { tid: NORTHWIND, oid: 'oid-nina', email: 'nina@northwind.test', name: 'Nina', xms_edov: true },
  });
  const common = { type: 'oidc' as const, preset: 'entra' as const, clientId: entra.clientId, clientSecret: entra.clientSecret, authority: entra.authority };
  server = await startTestServer({
    identityProviders: [
      { ...common, id: 'entra-group', name: 'Contoso group', tenantIds: [CONTOSO, FABRIKAM.toUpperCase()], organization: 'contoso', domains: ['contoso.test', 'fabrikam.test'] },
      { ...common, id: 'entra-single', name: 'Northwind', tenantId: NORTHWIND, organization: 'northwind', domains: ['northwind.test'] },
    ],
  });
  entra.redirectUris.add(`${server.url}/sso/entra-group/callback`);
  entra.redirectUris.add(`${server.url}/sso/entra-single/callback`);
});

after(async () => {
  await server?.stop();
  await entra?.close();
});

/** Signed in at "Entra" as `who`, start a sign-in through `connection`; returns Entra's redirect to the callback. */
async function callbackFor(browser: Browser, who: string, connection: string): Promise<string> {
  entra.signedIn = who;
  const toCallback = (location: string) => location.startsWith(`${server.url}/sso/${connection}/callback`);
  const answer = await browser.follow(`${server.url}/sso/${connection}/start?return_to=/`, toCallback);
  assert.ok(answer.location && toCallback(answer.location), `Entra sends the browser back: ${answer.location ?? answer.body.slice(0, 300)}`);
  return answer.location;
}

async function signInAs(who: string, connection = 'entra-group'): Promise<{ browser: Browser; answer: Answer }> {
  const browser = new Browser();
  const answer = await browser.request(await callbackFor(browser, who, connection));
  return { browser, answer };
}

const signedIn = (browser: Browser) => browser.jars.get(new URL(server.url).origin)?.has('__Host-pc_session') ?? false;

async function linksOf(email: string): Promise<[string, string, string][]> {
  const user = await server.store.users.findByEmail(email);
  return user ? (await server.store.ssoLinks.forUser(user.id)).map((l) => [l.issuer, l.subject, l.connectionId]) : [];
}

describe('Microsoft Entra ID: a multi-tenant app for several directories', () => {
  test('a person of a listed tenant signs in through the organizations endpoint, linked under their own tenant’s issuer', async () => {
    const { browser, answer } = await signInAs('ada');
    assert.equal(answer.status, 303, answer.body.slice(0, 300));
    assert.ok(signedIn(browser));
    assert.match(entra.authorizePaths.at(-1)!, /^\/organizations\/oauth2\/v2\.0\/authorize$/);
    assert.deepEqual(await linksOf('ada@contoso.test'), [[issuerOf(CONTOSO), 'oid-ada', 'entra-group']]);
    const org = await server.store.orgs.bySlug('contoso');
    const ada = await server.store.users.findByEmail('ada@contoso.test');
    assert.equal((await server.store.orgs.member(org!.id, ada!.id))?.role, 'member');
  });

  test('the same object id in the second tenant is another person', async () => {
    const { browser, answer } = await signInAs('bert');
    assert.equal(answer.status, 303, answer.body.slice(0, 300));
    assert.ok(signedIn(browser));
    assert.deepEqual(await linksOf('bert@fabrikam.test'), [[issuerOf(FABRIKAM), 'oid-ada', 'entra-group']]);
    const [ada, bert] = await Promise.all([server.store.users.findByEmail('ada@contoso.test'), server.store.users.findByEmail('bert@fabrikam.test')]);
    assert.notEqual(ada!.id, bert!.id);
  });

  test('a token from a tenant not in tenantIds is refused (audit reason "tenant"), even for an address in the domains', async () => {
    const before = await audited(server, 'signin.failed', 'tenant');
    const { browser, answer } = await signInAs('stranger');
    assert.deepEqual([answer.status, refusalCode(answer.body)], [403, 'sso_account_refused']);
    assert.equal(signedIn(browser), false);
    assert.equal(await server.store.users.findByEmail('eve@contoso.test'), undefined, 'no account created');
    assert.equal(await audited(server, 'signin.failed', 'tenant'), before + 1);
  });

  test('a token whose iss names another tenant than its tid is refused, whichever of the two is listed', async () => {
    for (const who of ['forgedIss', 'forgedTid']) {
      const before = await audited(server, 'signin.failed', 'iss');
      const { browser, answer } = await signInAs(who);
      assert.deepEqual([answer.status, refusalCode(answer.body)], [400, 'sso_refused'], who);
      assert.equal(signedIn(browser), false, who);
      assert.equal(await audited(server, 'signin.failed', 'iss'), before + 1, who);
    }
    assert.equal(await server.store.users.findByEmail('mallory@contoso.test'), undefined);
    assert.equal(await server.store.users.findByEmail('trent@contoso.test'), undefined);
  });

  test('an iss parameter slipped into the authorization response (RFC 9207; Entra sends none) is refused', async () => {
    const browser = new Browser();
    const callback = new URL(await callbackFor(browser, 'ada', 'entra-group'));
    callback.searchParams.set('iss', issuerOf(CONTOSO));
    const answer = await browser.request(callback.href);
    assert.deepEqual([answer.status, refusalCode(answer.body)], [400, 'sso_refused']);
    assert.equal(signedIn(browser), false);
  });

  test('a single-tenant connection (tenantId) uses its tenant’s own endpoint and issuer', async () => {
    const { browser, answer } = await signInAs('nina', 'entra-single');
    assert.equal(answer.status, 303, answer.body.slice(0, 300));
    assert.ok(signedIn(browser));
    assert.equal(entra.authorizePaths.at(-1), `/${NORTHWIND}/oauth2/v2.0/authorize`);
    assert.deepEqual(await linksOf('nina@northwind.test'), [[issuerOf(NORTHWIND), 'oid-nina', 'entra-single']]);
  });
});

describe('Microsoft Entra ID: configuration', () => {
  const base = { id: 'e', type: 'oidc', name: 'E', clientId: 'c', clientSecret: 's', organization: 'e', domains: ['e.test'] };
  const refused = (connection: Record<string, unknown>) => {
    const result = IdentityProvidersSchema.safeParse([connection]);
    return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
  };

  test('tenantIds signs in through the organizations endpoint', () => {
    const parsed = IdentityProvidersSchema.parse([{ ...base, preset: 'entra', tenantIds: [CONTOSO, FABRIKAM] }]);
    assert.equal((parsed[0] as OidcConnection).issuer, 'https://login.microsoftonline.com/organizations/v2.0');
  });

  test('exactly one of tenantId and tenantIds; neither without preset "entra"; no hand-written issuer with tenantIds', () => {
    assert.deepEqual(refused({ ...base, preset: 'entra', tenantId: CONTOSO, tenantIds: [FABRIKAM] }), ['0.tenantId']);
    assert.deepEqual(refused({ ...base, preset: 'entra' }), ['0.tenantId']);
    assert.deepEqual(refused({ ...base, issuer: 'https://idp.e.test', tenantIds: [CONTOSO] }), ['0.tenantIds']);
    assert.deepEqual(refused({ ...base, preset: 'entra', tenantIds: [] }), ['0.tenantIds']);
    assert.deepEqual(refused({ ...base, preset: 'entra', tenantIds: ['contoso'] }), ['0.tenantIds.0']);
    assert.deepEqual(refused({ ...base, preset: 'entra', tenantIds: [CONTOSO], issuer: issuerOf(CONTOSO) }), ['0.issuer']);
  });

  test('authority is Entra or a loopback stand-in, never another host', () => {
    for (const authority of ['https://login.microsoftonline.com', 'http://127.0.0.1:8080', 'http://localhost:3000/']) {
      assert.deepEqual(refused({ ...base, preset: 'entra', tenantIds: [CONTOSO], authority }), [], authority);
    }
    for (const authority of ['https://evil.example', 'http://login.microsoftonline.com', 'https://login.microsoftonline.com/contoso', 'http://10.0.0.1']) {
      assert.deepEqual(refused({ ...base, preset: 'entra', tenantIds: [CONTOSO], authority }), ['0.authority'], authority);
    }
  });

  test('an organization owner’s connection may not send Entra’s requests to a stand-in (the server would fetch a private address)', async () => {
    // Refused while the definition is read, before anything is stored: no store is needed.
    const deps = { store: {}, dataKey: undefined, configured: [], now: Date.now } as unknown as OrgConnectionDeps;
    const definition = { ...base, preset: 'entra', tenantIds: [CONTOSO], authority: 'http://127.0.0.1:8080' };
    await assert.rejects(createOrgConnection(deps, { id: 'org-1', slug: 'e' }, definition), (err: unknown) => {
      assert.ok(err instanceof PortcullisError);
      assert.deepEqual([err.code, err.rule], ['invalid_request', 'private-issuer']);
      return true;
    });
  });
});
