/**
 * `/orgs/<slug>/sso`: the organization's own single sign-on, for its owners (and server
 * administrators among its managers) — claimed e-mail domains with the TXT record each needs and
 * a "Verify" button, its connections (the configuration's shown read-only), adding an OpenID
 * Connect, GitHub or SAML connection, deleting one. The rules are identity/org-connections.ts's and
 * identity/org-domains.ts's, the same the admin API applies.
 */
import type { Hono } from 'hono';
import type { FieldError } from '../../core/errors.ts';
import { PortcullisError } from '../../core/errors.ts';
import { connectionUsingDomain, createOrgConnection, deleteOrgConnection, orgConnectionDeps, orgConnectionViews, type OrgConnectionDeps } from '../../identity/org-connections.ts';
import { claimDomain, domainView, removeDomain, txtLookup, verifyDomain } from '../../identity/org-domains.ts';
import { audit } from '../account/audit.ts';
import { errorPage, notice } from '../account/layout.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { connectionSection, domainSection, githubForm, oidcForm, samlForm, ssoForms, type FormState } from '../sso-views.ts';
import { formRefusal } from '../refusals.ts';
import { orgAccess, orgAction, orgForm, orgPage, orgPath, type Asking, type OrgAccess } from './access.ts';

type Form = Record<string, string | File>;

const NOTICES = {
  added: 'The domain was added: create its TXT record, then verify it.',
  verified: 'The domain is verified.',
  removed: 'The domain was removed.',
  created: 'The connection was added. It signs people in now.',
  deleted: 'The connection was deleted.',
};

const isOwner = (access: OrgAccess) => access.role === 'owner' || access.me.user.isAdmin;
const notOwner = () => new PortcullisError('forbidden', 'Only the organization\'s owners manage its single sign-on.');

const list = (value: string) => value.split(/[\s,]+/).filter(Boolean);

/** "group=role, group=role" → the role map (a pair without "=" maps to "", which the schema names). */
function roleMap(value: string): Record<string, string> {
  return Object.fromEntries(list(value).map((pair) => [pair.split('=')[0]!.trim(), (pair.split('=')[1] ?? '').trim()]));
}

/** A SAML form's IdP: the metadata URL or the pasted metadata — exactly one (one source of the IdP's keys). */
function samlIdp(form: Form): Record<string, string> {
  const url = field(form, 'metadataUrl').trim();
  const xml = field(form, 'metadataXml').trim();
  if (Boolean(url) === Boolean(xml)) {
    const message = 'give the IdP metadata URL or paste its metadata (one of the two)';
    throw new PortcullisError('invalid_request', message, { rule: 'saml-metadata-source', detail: { errors: [{ path: 'metadataUrl', message }] } });
  }
  return url ? { metadataUrl: url } : { metadataXml: xml };
}

function samlInput(form: Form, v: (name: string) => string): Record<string, unknown> {
  return {
    id: v('id'),
    type: 'saml',
    name: v('name'),
    idp: samlIdp(form),
    domains: list(v('domains')),
    public: form.public === 'on',
    roles: { attribute: v('rolesAttribute') || undefined, map: roleMap(v('rolesMap')), default: v('rolesDefault') || undefined },
    requireSso: form.requireSso === 'on',
  };
}

/** The form's fields as the definition the admin API takes (left-empty fields fall back to the defaults). */
export function connectionInput(kind: 'oidc' | 'github' | 'saml', form: Form): Record<string, unknown> {
  const v = (name: string) => field(form, name).trim();
  if (kind === 'saml') return samlInput(form, v);
  const common = { id: v('id'), type: kind, name: v('name'), clientId: v('clientId'), clientSecret: v('clientSecret') || undefined, domains: list(v('domains')), public: form.public === 'on' };
  if (kind === 'github') return { ...common, githubOrg: v('githubOrg') || undefined, githubTeam: v('githubTeam') || undefined };
  return {
    ...common,
    issuer: v('issuer') || undefined,
    scopes: v('scopes') ? list(v('scopes')) : undefined,
    roles: { claim: v('rolesClaim') || undefined, map: roleMap(v('rolesMap')), default: v('rolesDefault') || undefined },
    requireSso: form.requireSso === 'on',
  };
}

/** The page: domains, connections, the forms (`state`: a refused one, shown again). */
async function ssoPage(deps: WebDeps, connectionDeps: OrgConnectionDeps, c: WebContext, access: OrgAccess, state?: FormState): Promise<string> {
  const org = { id: access.org.id, slug: access.org.slug };
  const [domains, connections] = await Promise.all([deps.store.orgConnections.listDomains(org.id), orgConnectionViews(connectionDeps, org)]);
  const forms = ssoForms(deps, c, (rest) => orgPath(deps, access.org, 'sso', rest));
  const verified = domains.filter((d) => d.verifiedAt !== null).map((d) => d.domain);
  const ssoBase = `${deps.config.publicUrl}/sso`;
  const buttons = connectionDeps.allowPublicButtons === true;
  const body: Html = html`${notice(c, NOTICES)}
${domainSection(forms, domains.map(domainView))}
${connectionSection(forms, connections, ssoBase)}
${oidcForm(forms, state, ssoBase, verified, buttons)}
${githubForm(forms, state, buttons)}
${samlForm(forms, state, ssoBase, verified, buttons)}`;
  return orgPage(deps, c, access, 'sso', body);
}

export function ssoRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const connectionDeps: OrgConnectionDeps = orgConnectionDeps(deps);
  const domainDeps = { ...connectionDeps, lookup: (name: string) => txtLookup(deps.config.organizationConnections.dnsServers)(name) };

  app.get('/orgs/:org/sso', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    if (!isOwner(access)) return errorPage(deps, c, 403, 'forbidden', 'Only owners', `Only the owners of ${access.org.name} manage its single sign-on.`);
    return c.html(await ssoPage(deps, connectionDeps, c, access));
  });

  for (const kind of ['oidc', 'github', 'saml'] as const) {
    app.post(`/orgs/:org/sso/connections/${kind}`, async (c) => {
      const posted = await orgForm(deps, c, 'sso:connection-add');
      if (posted instanceof Response) return posted;
      const { access, form } = posted;
      if (!isOwner(access)) return errorPage(deps, c, 403, 'forbidden', 'Only owners', `Only the owners of ${access.org.name} manage its single sign-on.`);
      try {
        const connection = await createOrgConnection(connectionDeps, { id: access.org.id, slug: access.org.slug }, connectionInput(kind, form));
        await audit(deps, { kind: 'admin.sso_connection.created', orgId: access.org.id, actor: access.me.user.id, details: { connection: connection.id, type: kind, domains: connection.domains.join(',') } });
      } catch (err) {
        const refused = formRefusal(err);
        const errors: FieldError[] = refused.errors.length ? refused.errors : [{ path: refused.code === 'already_exists' ? 'id' : '(root)', message: refused.text }];
        const values = Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'clientSecret' && e[0] !== 'csrf'));
        return c.html(await ssoPage(deps, connectionDeps, c, access, { kind, values, errors }), refused.status);
      }
      return c.redirect(`${orgPath(deps, access.org, 'sso')}?done=created`, 303);
    });
  }

  /** An owner's action on the page; a refusal is its page, and a failed verification is on the record too. */
  const ownerAction = (path: string, purpose: string, done: keyof typeof NOTICES, act: (form: Form, access: OrgAccess) => Promise<{ kind: string; details: Record<string, string> }>, confirm?: Asking) =>
    orgAction(app, deps, { path: `/orgs/:org/sso${path}`, purpose, section: 'sso', done, confirm }, async (form, access) => {
      if (!isOwner(access)) throw notOwner();
      return act(form, access);
    });

  ownerAction('/domains', 'sso:domain-add', 'added', async (form, { org }) => {
    const claim = await claimDomain(domainDeps, org.id, { domain: field(form, 'domain') });
    return { kind: 'admin.domain.claimed', details: { domain: claim.domain } };
  });

  ownerAction('/domains/verify', 'sso:domain-verify', 'verified', async (form, { org, me }) => {
    const domain = field(form, 'domain').toLowerCase();
    try {
      await verifyDomain(domainDeps, org.id, domain, me.user.id, 'dns');
    } catch (err) {
      if (err instanceof PortcullisError) await audit(deps, { kind: 'admin.domain.verification_failed', orgId: org.id, actor: me.user.id, reason: err.code, details: { domain, method: 'dns' } });
      throw err;
    }
    return { kind: 'admin.domain.verified', details: { domain, method: 'dns' } };
  });

  ownerAction('/domains/remove', 'sso:domain-remove', 'removed', async (form, { org }) => {
    const domain = field(form, 'domain').toLowerCase();
    await removeDomain(domainDeps, org.id, domain, (d) => connectionUsingDomain(connectionDeps, org.id, d));
    return { kind: 'admin.domain.removed', details: { domain } };
  }, { title: 'Remove this domain?', text: 'Addresses at it are no longer sent to your connection when people sign in, and it has to be verified again to claim it back.', button: 'Remove' });

  ownerAction('/connections/delete', 'sso:connection-delete', 'deleted', async (form, { org }) => {
    await deleteOrgConnection(connectionDeps, { id: org.id, slug: org.slug }, field(form, 'connection'));
    return { kind: 'admin.sso_connection.deleted', details: { connection: field(form, 'connection') } };
  }, { title: 'Delete this connection?', text: 'Nobody signs in through it any more; the links between its accounts and people here go with it (the accounts stay, and sign in with a password or passkey if they have one).', button: 'Delete' });
}
