/**
 * `/orgs/<slug>/settings`: what an organization's owners and admins switch on for everyone —
 * "Require MFA" (members without a second factor enrol at their next sign-in: identity/totp.ts),
 * and the SCIM token its identity provider provisions people with (scim/tokens.ts): generated or
 * rotated here, shown once in the answer that made it, only its hash kept.
 */
import type { Hono } from 'hono';
import { identityDeps } from '../../identity/context.ts';
import { updateOrganization } from '../../identity/org-settings.ts';
import { issueScimToken } from '../../scim/tokens.ts';
import { audit } from '../account/audit.ts';
import { csrfField, notice, when } from '../account/layout.ts';
import { html, type Html } from '../../web/html.ts';
import type { WebContext, WebDeps, WebEnv } from '../../web/pages.ts';
import { refusalPage } from '../refusals.ts';
import { orgAccess, orgAction, orgForm, orgPage, orgPath, type OrgAccess } from './access.ts';
import { newMemberAccessForm, newMemberAccessRoute } from './new-member-access.ts';

export function settingsRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const ids = identityDeps(deps);
  const scimUrl = `${deps.config.publicUrl.replace(/\/$/, '')}/scim/v2`;

  async function settingsPage(c: WebContext, access: OrgAccess, issued?: string): Promise<string> {
    const { org } = access;
    const scim = await deps.store.scim.config(org.id);
    const mfa = org.settings.requireMfa === true;
    const shown: Html | '' = issued
      ? html`<section class="notice" data-testid="scim-token-issued"><p>Give this token to your identity provider now: it is not shown again, and it replaced any earlier one.</p><code class="secret" data-testid="scim-token">${issued}</code></section>`
      : '';
    const newMembers = await newMemberAccessForm(deps, c, org);
    return orgPage(deps, c, access, 'settings', html`${notice(c, { mfa: 'Saved.', new_member_access: 'Saved: new members get this access when they join.' })}
${newMembers}
<h2>Second factor</h2>
<form method="post" action="${orgPath(deps, org, 'settings', '/mfa')}" data-testid="require-mfa">${csrfField(deps, c, 'org:require-mfa')}
<label class="choice"><input type="checkbox" name="requireMfa" data-testid="require-mfa-box"${mfa ? html` checked` : ''}> Require MFA: members without a second factor set one up at their next sign-in</label>
<div class="actions"><button class="primary" type="submit">Save</button></div></form>
<h2>SCIM provisioning</h2>
<p>Base URL for your identity provider: <code data-testid="scim-url">${scimUrl}</code></p>
<p data-testid="scim-token-state">${scim?.tokenHash ? html`A token exists (made ${when(scim.tokenCreatedAt)}).` : 'No token yet.'}</p>
${shown}
<form method="post" action="${orgPath(deps, org, 'settings', '/scim-token')}" data-testid="scim-token-form">${csrfField(deps, c, 'org:scim-token')}
<div class="actions"><button class="primary" type="submit">${scim?.tokenHash ? 'Rotate token' : 'Generate token'}</button></div></form>`);
  }

  app.get('/orgs/:org/settings', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    return c.html(await settingsPage(c, access));
  });

  orgAction(app, deps, { path: '/orgs/:org/settings/mfa', purpose: 'org:require-mfa', section: 'settings', done: 'mfa' }, async (form, { org }) => {
    const requireMfa = form.requireMfa === 'on';
    // The settings are replaced as a whole: keep the others as they are.
    await updateOrganization(ids, deps.config, org.id, { settings: { ...org.settings, requireMfa } });
    return { kind: 'admin.org.updated', details: { settings: true, requireMfa } };
  });

  newMemberAccessRoute(app, deps);

  app.post('/orgs/:org/settings/scim-token', async (c) => {
    const posted = await orgForm(deps, c, 'org:scim-token');
    if (posted instanceof Response) return posted;
    const { access } = posted;
    let token: string;
    try {
      token = await issueScimToken(ids, access.org.id, access.me.user.id);
    } catch (err) {
      return refusalPage(deps, c, err);
    }
    await audit(deps, { kind: 'admin.scim_token.issued', orgId: access.org.id, actor: access.me.user.id });
    // Shown in this answer only (not a redirect: the token must not travel in a URL).
    return c.html(await settingsPage(c, access, token));
  });
}
