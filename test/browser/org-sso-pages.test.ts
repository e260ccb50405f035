/**
 * An organization's "Single sign-on" and "Settings" pages in a real browser, used by its owner:
 * a domain claimed, its TXT record read off the page and published (a real DNS server on a
 * loopback port answers), verified with the button; an OpenID Connect connection added — refused
 * first with each problem beside its field and what was typed kept (never the secret) — then
 * deleted; a SAML connection added from pasted IdP metadata (unusable metadata refused on its
 * field), the values to give the IdP shown; "Require MFA" switched on; the SCIM token generated and shown once. An admin of the
 * org gets 403 on the SSO page; forms without their CSRF token are refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { startTestDns, type TestDns } from '../sso/dns-server.ts';
import { TestSamlIdp } from '../sso/saml-idp.ts';
import { waitFor } from '../admin/support.ts';
import { assertClean, codeOf, hook, httpSignedIn, personSignedIn, postForm, press, type Person } from './account-support.ts';

describe('an organization\'s single sign-on and settings pages in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let dns: TestDns;
  let browser: Browser;
  let ada: Person;
  const people: Person[] = [];

  before(async () => {
    dns = await startTestDns();
    server = await startTestServer({ organizationConnections: { dnsServers: [dns.server] } });
    await server.addUser('adam@example.com', TEST_PASSWORD, { role: 'admin' });
    browser = await launchChromium();
    ada = await personSignedIn(browser, server, server.user.email, TEST_PASSWORD);
    people.push(ada);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await dns?.close();
  });

  it('claims a domain, shows its TXT record, and verifies it once the record is published', async () => {
    const { page } = ada;
    await page.goto(`${server.url}/orgs/acme/sso`);
    assert.equal(await hook(page, 'no-domains').count(), 1);
    await page.locator('#domain').fill('initech.test');
    assert.equal(await press(page, hook(page, 'add-domain').getByRole('button')), 200);
    assert.equal(await codeOf(page, 'notice'), 'added');
    const row = page.locator('[data-testid="domain"][data-domain="initech.test"]');
    assert.equal(await row.getAttribute('data-verified'), 'false');
    const name = (await row.locator('[data-testid="txt-name"]').innerText()).trim();
    const value = (await row.locator('[data-testid="txt-value"]').innerText()).trim();
    assert.equal(name, '_portcullis-challenge.initech.test');
    assert.match(value, /^portcullis-domain-verification=/);

    assert.equal(await press(page, row.locator('[data-testid="verify-domain"]')), 400, 'no record yet');
    assert.equal(await codeOf(page, 'error'), 'verification_failed');
    await checkPage(page, 'org-sso-domain-unverified', { narrow: true });
    dns.txt.set(name, [[value]]);
    await page.goto(`${server.url}/orgs/acme/sso`);
    assert.equal(await press(page, page.locator('[data-testid="domain"][data-domain="initech.test"] [data-testid="verify-domain"]')), 200);
    assert.equal(await codeOf(page, 'notice'), 'verified');
    assert.equal(await page.locator('[data-testid="domain"][data-domain="initech.test"]').getAttribute('data-verified'), 'true');
  });

  it('adds an OpenID Connect connection: problems beside their fields first, the secret never sent back', async () => {
    const { page } = ada;
    await page.goto(`${server.url}/orgs/acme/sso`);
    const form = hook(page, 'add-oidc');
    await form.locator('#oidc-id').fill('initech');
    await form.locator('#oidc-name').fill('Initech SSO');
    await form.locator('#oidc-issuer').fill('https://idp.initech.test');
    await form.locator('#oidc-clientId').fill('portcullis');
    await form.locator('#oidc-clientSecret').fill('typed-secret-1234');
    await form.locator('#oidc-domains').fill('other.test');
    await form.locator('#oidc-rolesMap').fill('mcp-admins=superuser');
    assert.equal(await press(page, form.getByRole('button', { name: 'Add connection' })), 400);
    const problems = hook(page, 'add-oidc').locator('[data-testid="field-error"]');
    assert.deepEqual((await problems.evaluateAll((els) => els.map((e) => e.getAttribute('data-field')))).sort(), ['rolesMap']);
    assert.equal(await page.locator('#oidc-name').inputValue(), 'Initech SSO', 'what was typed is kept');
    assert.equal(await page.locator('#oidc-clientSecret').inputValue(), '', 'the secret is never sent back');
    assert.doesNotMatch(await page.content(), /typed-secret-1234/);
    await checkPage(page, 'org-sso-oidc-field-errors', { narrow: true });

    await page.locator('#oidc-rolesMap').fill('mcp-admins=admin');
    await page.locator('#oidc-clientSecret').fill('typed-secret-1234');
    assert.equal(await press(page, hook(page, 'add-oidc').getByRole('button', { name: 'Add connection' })), 400);
    assert.equal(await hook(page, 'add-oidc').locator('[data-testid="field-error"][data-field="domains"]').count(), 1, 'an unverified domain, beside the domains field');

    await page.locator('#oidc-clientSecret').fill('typed-secret-1234');
    await page.locator('#oidc-domains').fill('initech.test');
    assert.equal(await page.locator('#oidc-public').count(), 0, 'no button on every sign-in page unless the server administrator allows it');
    assert.equal(await press(page, hook(page, 'add-oidc').getByRole('button', { name: 'Add connection' })), 200);
    assert.equal(await codeOf(page, 'notice'), 'created');
    assert.equal(await page.locator('[data-testid="connection"][data-connection="initech"]').count(), 1);
    assert.doesNotMatch(await page.content(), /typed-secret-1234/);
    const stored = await server.store.orgConnections.getConnection('initech');
    assert.ok(stored && !stored.definition.includes('typed-secret-1234'));
  });

  it('deletes the connection', async () => {
    const { page } = ada;
    await page.goto(`${server.url}/orgs/acme/sso`);
    assert.equal(await press(page, page.locator('[data-testid="connection"][data-connection="initech"] [data-testid="delete-connection"]')), 200);
    assert.equal(await press(page, page.locator('[data-testid="confirm"]')), 200);
    assert.equal(await codeOf(page, 'notice'), 'deleted');
    assert.equal(await server.store.orgConnections.getConnection('initech'), undefined);
  });

  it('adds a SAML connection from pasted metadata, and shows the values to give the IdP', async () => {
    const { page } = ada;
    const idp = new TestSamlIdp();
    await page.goto(`${server.url}/orgs/acme/sso`);
    const form = hook(page, 'add-saml');
    await form.locator('#saml-id').fill('initech-saml');
    await form.locator('#saml-name').fill('Initech SAML');
    await form.locator('#saml-domains').fill('initech.test');
    assert.equal(await press(page, form.getByRole('button', { name: 'Add connection' })), 400, 'neither a metadata URL nor metadata');
    assert.deepEqual(await hook(page, 'add-saml').locator('[data-testid="field-error"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-field'))), ['metadataUrl']);
    await page.locator('#saml-metadataXml').fill(idp.metadataXml().replace(/<md:KeyDescriptor[\s\S]*?<\/md:KeyDescriptor>/, ''));
    await page.locator('#saml-rolesMap').fill('mcp-admins=admin');
    assert.equal(await press(page, form.getByRole('button', { name: 'Add connection' })), 400, 'metadata without a signing certificate');
    const problems = hook(page, 'add-saml').locator('[data-testid="field-error"]');
    assert.deepEqual(await problems.evaluateAll((els) => els.map((e) => e.getAttribute('data-field'))), ['metadataXml']);
    assert.equal(await page.locator('#saml-name').inputValue(), 'Initech SAML', 'what was typed is kept');

    await page.locator('#saml-metadataXml').fill(idp.metadataXml());
    assert.equal(await press(page, hook(page, 'add-saml').getByRole('button', { name: 'Add connection' })), 200);
    assert.equal(await codeOf(page, 'notice'), 'created');
    const values = page.locator('[data-testid="connection"][data-connection="initech-saml"] [data-testid="sp-values"]');
    const entityId = `${server.url}/sso/initech-saml/saml`;
    assert.equal((await values.locator('[data-testid="sp-entity-id"]').innerText()).trim(), entityId);
    assert.equal((await values.locator('[data-testid="sp-acs-url"]').innerText()).trim(), `${entityId}/acs`);
    assert.equal((await values.locator('[data-testid="sp-metadata-url"]').innerText()).trim(), `${entityId}/metadata`);
    await checkPage(page, 'org-sso-saml-values', { narrow: true });
    // The SP metadata URL shown answers (once the directory has read the new connection), naming the entity ID shown.
    const metadata = await waitFor(async () => {
      const answer = await fetch(`${entityId}/metadata`);
      return answer.status === 200 && (await answer.text());
    }, 'the SP metadata of the new connection');
    assert.ok(metadata.includes(`entityID="${entityId}"`));
    const stored = await server.store.orgConnections.getConnection('initech-saml');
    assert.ok(stored?.definition.includes(idp.entityId), 'the pasted metadata is kept');
  });

  it('refuses an admin of the org, and forms without their CSRF token', async () => {
    const adam = await personSignedIn(browser, server, 'adam@example.com', TEST_PASSWORD);
    people.push(adam);
    assert.equal((await adam.page.goto(`${server.url}/orgs/acme/sso`))?.status(), 403);
    assert.equal(await codeOf(adam.page, 'error'), 'forbidden');

    const adminUa = await httpSignedIn(server, 'adam@example.com', TEST_PASSWORD);
    const ownerUa = await httpSignedIn(server, server.user.email, TEST_PASSWORD);
    for (const ua of [adminUa, ownerUa]) {
      const answer = await postForm(ua, server, '/orgs/acme/sso/domains', { domain: 'sneaky.test' });
      assert.equal(answer.status, 403);
    }
    const settings = await ownerUa.request(`${server.url}/orgs/acme/sso`);
    const byAdmin = await postForm(adminUa, server, '/orgs/acme/sso/domains', { domain: 'sneaky.test', csrf: /data-testid="add-domain"><input type="hidden" name="csrf" value="([^"]+)"/.exec(settings.body)![1]! });
    assert.equal(byAdmin.status, 403, 'the owner\'s token is not the admin\'s');
    assert.deepEqual((await server.store.orgConnections.listDomains(server.org.id)).map((d) => d.domain), ['initech.test']);
  });

  it('turns on "Require MFA" and shows a new SCIM token once', async () => {
    const { page } = ada;
    await page.goto(`${server.url}/orgs/acme/settings`);
    await hook(page, 'require-mfa-box').check();
    assert.equal(await press(page, hook(page, 'require-mfa').getByRole('button')), 200);
    assert.equal((await server.store.orgs.get(server.org.id))?.settings.requireMfa, true);
    assert.equal(await hook(page, 'require-mfa-box').isChecked(), true);

    assert.equal(await press(page, hook(page, 'scim-token-form').getByRole('button', { name: 'Generate token' })), 200);
    const token = (await hook(page, 'scim-token').innerText()).trim();
    assert.match(token, /^pcscim_/);
    await checkPage(page, 'org-settings-scim-token', { narrow: true });
    const scim = await fetch(`${server.url}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(scim.status, 200, 'the token works at the SCIM endpoint');
    await page.goto(`${server.url}/orgs/acme/settings`);
    assert.equal(await hook(page, 'scim-token').count(), 0, 'shown once');
    assert.equal(await hook(page, 'scim-token-form').getByRole('button', { name: 'Rotate token' }).count(), 1);
    assertClean(...people);
  });
});
