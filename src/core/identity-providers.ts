/**
 * Single sign-on connections (`identityProviders` in the configuration file): which company
 * identity provider signs in the people of which e-mail domains, into which organization, with
 * which role. Declared server-wide so a deployment is reproducible; a domain is claimed here only
 * by whoever writes the server's configuration (a server administrator).
 */
import * as z from 'zod';
import { isLoopbackUrl } from '../shared/net.ts';
import type { OrgRole } from './roles.ts';
import { parseIdpMetadata } from './saml-metadata.ts';

const ROLE = z.enum(['owner', 'admin', 'member']);
const TENANT_ID = z.string().regex(/^[0-9a-f-]{36}$/i, 'expected the directory (tenant) id, a GUID');

/** Microsoft Entra ID's sign-in host, where its issuers and discovery documents live. */
export const ENTRA_AUTHORITY = 'https://login.microsoftonline.com';

/**
 * Where requests for {@link ENTRA_AUTHORITY} go: Entra itself, or a stand-in on a loopback
 * address (development and tests: Entra cannot be reached from there). Nothing else, so no
 * configuration can send Entra's tokens and secrets to another host.
 */
const ENTRA_AUTHORITY_URL = z
  .url()
  .refine((raw) => {
    const url = new URL(raw);
    return url.href === `${url.origin}/` && (url.origin === ENTRA_AUTHORITY || isLoopbackUrl(url));
  }, `expected ${ENTRA_AUTHORITY} or, for development and tests, a loopback origin such as http://127.0.0.1:8080`)
  .transform((raw) => new URL(raw).origin);
const SLUG = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'expected lowercase letters, digits and dashes');
export const DOMAIN = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/, 'expected a domain name such as acme.com'));

/**
 * The IdP's issuer. Tokens are bearer credentials and discovery tells us where to send secrets,
 * so https only — plain http to a loopback host is allowed for development and tests.
 */
const ISSUER = z.url().refine((raw) => {
  // zod runs refinements after a failed check too: a non-URL must fail here, not throw.
  const url = URL.parse(raw);
  return url !== null && !url.username && !url.password && !url.search && !url.hash && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url)));
}, 'expected an https URL without credentials, query or fragment (http only to localhost)');

/**
 * IdP group → memberships of the organization's workspaces and projects, named (the configuration
 * is written before, and independently of, the tree's ids). Granted at every sign-in of a group's
 * member and taken away when the group is gone (identity/sso-memberships.ts); a name that matches
 * no workspace or project (or more than one) grants nothing and is logged: the tree belongs to
 * the organization's administrators, and an IdP group never creates parts of it.
 */
export const SsoMembershipsSchema = z
  .record(
    z.string().min(1),
    z
      .array(
        z.strictObject({
          workspace: z.string().trim().min(1).max(200),
          /** A project of that workspace; without it, the workspace itself. */
          project: z.string().trim().min(1).max(200).optional(),
          role: z.enum(['viewer', 'editor', 'manager']).default('viewer'),
        }),
      )
      .max(50),
  )
  .default({});

export const OidcConnectionSchema = z
  .strictObject({
    /** Stable id: part of the redirect URI (`<publicUrl>/sso/<id>/callback`) and of every account link. */
    id: SLUG,
    type: z.literal('oidc'),
    /** Shown to people: "Continue with <name>". */
    name: z.string().trim().min(1).max(80),
    issuer: ISSUER.optional(),
    clientId: z.string().min(1),
    /** client_secret_basic toward the IdP… */
    clientSecret: z.string().min(1).optional(),
    /** …or private_key_jwt (RFC 7523 §2.2): a private JWK (RSA or EC P-256), its `kid` named in the assertion. */
    privateKeyJwt: z.strictObject({ jwk: z.record(z.string(), z.unknown()), alg: z.enum(['RS256', 'PS256', 'ES256']).optional() }).optional(),
    /** The organization's slug; created at start when it does not exist. */
    organization: SLUG,
    /** E-mail domains this connection owns: home-realm discovery and account linking. */
    domains: z.array(DOMAIN).min(1).max(100),
    /** Shown as a "Continue with <name>" button on every sign-in page. */
    public: z.boolean().default(false),
    roles: z
      .strictObject({
        /** The ID token / userinfo claim holding group names (a string or an array of strings). */
        claim: z.string().min(1).default('groups'),
        /** Group → role; the highest role any group maps to wins. */
        map: z.record(z.string(), ROLE).default({}),
        default: ROLE.default('member'),
      })
      .prefault({}),
    /** Group (same claim as `roles`) → workspace / project memberships. */
    memberships: SsoMembershipsSchema,
    /** google: `hd` must be one of `domains`; entra: the `tid` must be `tenantId` (or one of `tenantIds`); okta: plain OIDC. */
    preset: z.enum(['google', 'entra', 'okta']).optional(),
    /** Microsoft Entra ID directory (tenant) id, with preset "entra". */
    tenantId: TENANT_ID.optional(),
    /**
     * …or, for a multi-tenant app registration used by several directories, their ids: sign-in
     * then goes through Entra's `organizations` endpoint, and a token counts only when its `tid`
     * is one of these (and its `iss` names that same tenant).
     */
    tenantIds: z.array(TENANT_ID.transform((id) => id.toLowerCase())).min(1).max(50).optional(),
    /** Development and tests only: a loopback stand-in answering for login.microsoftonline.com (preset "entra"). */
    authority: ENTRA_AUTHORITY_URL.optional(),
    /** Scopes asked for; `openid` is always included. */
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).default(['openid', 'email', 'profile']),
    /** Record the IdP's `amr` on the session (e.g. `mfa`); otherwise it is `["ext"]` (RFC 8176 §2). */
    trustAmr: z.boolean().default(false),
    /**
     * `acr_values` sent to the IdP when a step-up needs a second factor (with `prompt=login` and
     * `max_age`, authz/interaction/step-up-sign-in.ts), e.g. Okta's `urn:okta:loa:2fa:any`.
     */
    stepUpAcrValues: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).min(1).max(10).optional(),
    /**
     * Leavers lose access at once (identity/sso-recheck.ts): ask for a refresh token
     * (`offline_access`; Google: `access_type=offline`) and, at every refresh a client makes with
     * Portcullis, refresh at the IdP too — an IdP that refuses (`invalid_grant`) ends the user's access.
     */
    recheck: z.boolean().default(true),
    /** The organization's members sign in only through this connection: their passwords stop working… */
    requireSso: z.boolean().default(false),
    /** …except these owners' (break-glass accounts, for when the IdP is down or misconfigured). */
    breakGlass: z.array(z.email().transform((e) => e.toLowerCase())).max(10).default([]),
  })
  .superRefine((value, ctx) => {
    if ((value.clientSecret === undefined) === (value.privateKeyJwt === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'set exactly one of clientSecret and privateKeyJwt' });
    }
    for (const [path, message] of entraIssues(value)) ctx.addIssue({ code: 'custom', path: [path], message });
    if (!value.issuer && value.preset !== 'google' && value.preset !== 'entra') ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'expected the issuer URL' });
  })
  .transform((value) => ({ ...value, issuer: value.issuer ?? presetIssuer(value.preset, value.tenantId, value.tenantIds), scopes: [...new Set(['openid', ...value.scopes])] }));

export type OidcConnection = z.output<typeof OidcConnectionSchema>;

/**
 * The well-known issuers: Google's documented issuer; Entra's v2.0 per-tenant issuer, or for
 * several tenants the `organizations` endpoint, whose discovery document names the issuer template
 * `https://login.microsoftonline.com/{tenantid}/v2.0` (each token's `iss` is its own tenant's).
 */
function presetIssuer(preset: string | undefined, tenantId: string | undefined, tenantIds: readonly string[] | undefined): string {
  if (preset === 'google') return 'https://accounts.google.com';
  return `${ENTRA_AUTHORITY}/${tenantIds ? 'organizations' : (tenantId ?? 'unknown')}/v2.0`;
}

/** Entra's settings: exactly one of `tenantId` / `tenantIds`, and none of them without preset "entra". */
function entraIssues(value: { preset?: string; issuer?: string; tenantId?: string; tenantIds?: string[]; authority?: string }): [string, string][] {
  if (value.preset !== 'entra') {
    return (['tenantId', 'tenantIds', 'authority'] as const).filter((key) => value[key] !== undefined).map((key) => [key, `${key} is only for preset "entra"`]);
  }
  const issues: [string, string][] = [];
  if ((value.tenantId === undefined) === (value.tenantIds === undefined)) issues.push(['tenantId', 'preset "entra" needs the tenantId — or tenantIds, for a multi-tenant app (one of the two)']);
  // The issuer is Entra's (per tenant, or the organizations template): one given by hand would be checked instead.
  if (value.issuer !== undefined && (value.tenantIds !== undefined || value.authority !== undefined)) issues.push(['issuer', 'with tenantIds or authority, leave the issuer out (it is Entra\'s)']);
  return issues;
}

const GITHUB_NAME = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,98})$/i, 'expected a GitHub organization or team slug');

/**
 * A GitHub OAuth app (GitHub is not an OpenID provider): the identity is the numeric user id
 * (the login can be renamed), the e-mail the primary address GitHub has verified, and optionally
 * membership of an organization or one of its teams, mapped to a role.
 */
export const GithubConnectionSchema = z
  .strictObject({
    id: SLUG,
    type: z.literal('github'),
    name: z.string().trim().min(1).max(80),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    organization: SLUG,
    /** When given, only addresses in these domains sign in (and link); otherwise any verified primary address. */
    domains: z.array(DOMAIN).max(100).default([]),
    public: z.boolean().default(false),
    /** Sign-in requires active membership of this GitHub organization… */
    githubOrg: GITHUB_NAME.transform((v) => v.toLowerCase()).optional(),
    /** …and, when set, of this team of it (its slug). */
    githubTeam: GITHUB_NAME.transform((v) => v.toLowerCase()).optional(),
    roles: z
      .strictObject({
        /** "<org>/<team-slug>" or "<org>" → role; a team's role beats the organization's. */
        map: z.record(z.string().transform((v) => v.toLowerCase()), ROLE).default({}),
        default: ROLE.default('member'),
      })
      .prefault({}),
    /** "<org>/<team-slug>" or "<org>" → workspace / project memberships. */
    memberships: SsoMembershipsSchema,
    apiUrl: ISSUER.default('https://api.github.com'),
    webUrl: ISSUER.default('https://github.com'),
    /** Keep the OAuth app's token and, at every refresh a client makes, ask GitHub whether the account (and its required membership) still is. */
    recheck: z.boolean().default(true),
    requireSso: z.boolean().default(false),
    breakGlass: z.array(z.email().transform((e) => e.toLowerCase())).max(10).default([]),
  })
  .superRefine((value, ctx) => {
    if (value.githubTeam && !value.githubOrg) ctx.addIssue({ code: 'custom', path: ['githubTeam'], message: 'githubTeam needs githubOrg' });
    for (const key of Object.keys(value.roles.map)) {
      // Membership is only looked up within githubOrg (the read:org scope asked for it).
      const [org, team, more] = key.split('/');
      if (!value.githubOrg || org !== value.githubOrg || more !== undefined || (team !== undefined && !GITHUB_NAME.safeParse(team).success)) {
        ctx.addIssue({ code: 'custom', path: ['roles', 'map', key], message: 'expected "<githubOrg>" or "<githubOrg>/<team-slug>" (githubOrg must be set)' });
      }
    }
  })
  .transform((value) => ({
    ...value,
    apiUrl: value.apiUrl.replace(/\/+$/, ''),
    webUrl: value.webUrl.replace(/\/+$/, ''),
    /** The issuer of account links: GitHub's web origin (the user id is unique there). */
    issuer: new URL(value.webUrl).origin,
  }));

export type GithubConnection = z.output<typeof GithubConnectionSchema>;

const PEM_CERTIFICATE = z.string().regex(/^\s*-----BEGIN CERTIFICATE-----[\sA-Za-z0-9+/=]+-----END CERTIFICATE-----\s*$/, 'expected a PEM certificate (-----BEGIN CERTIFICATE-----)');

/**
 * A SAML 2.0 identity provider (Web Browser SSO profile, SAML Profiles §4.1): Portcullis is the
 * service provider. The IdP is described by its metadata (a URL fetched and cached, or the XML
 * inline) or explicitly. Account links use the IdP's entityID as issuer and the NameID as subject.
 */
export const SamlConnectionSchema = z
  .strictObject({
    id: SLUG,
    type: z.literal('saml'),
    name: z.string().trim().min(1).max(80),
    organization: SLUG,
    /** SAML has no `email_verified`: an address is trusted only in these domains (see README). */
    domains: z.array(DOMAIN).min(1).max(100),
    public: z.boolean().default(false),
    idp: z.union([
      z.strictObject({ metadataUrl: ISSUER }),
      z.strictObject({ metadataXml: z.string().min(1).max(1024 * 1024) }),
      z.strictObject({ entityId: z.string().min(1).max(1024), ssoUrl: ISSUER, certificates: z.array(PEM_CERTIFICATE).min(1).max(10) }),
    ]),
    roles: z
      .strictObject({
        /** The attribute holding group names (one value or several). */
        attribute: z.string().min(1).default('http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'),
        map: z.record(z.string(), ROLE).default({}),
        default: ROLE.default('member'),
      })
      .prefault({}),
    /** Group (the `roles` attribute's values) → workspace / project memberships. */
    memberships: SsoMembershipsSchema,
    /** Attribute names tried in order; the first present wins. */
    attributes: z
      .strictObject({
        email: z.array(z.string().min(1)).min(1).default(['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', 'email', 'mail', 'urn:oid:0.9.2342.19200300.100.1.3', 'emailAddress']),
        name: z.array(z.string().min(1)).min(1).default(['http://schemas.microsoft.com/identity/claims/displayname', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', 'displayName', 'name', 'urn:oid:2.16.840.1.113730.3.1.241']),
      })
      .prefault({}),
    /** The NameID format asked for in the AuthnRequest's NameIDPolicy; none by default (the IdP's configured one). */
    nameIdFormat: z.string().min(1).optional(),
    /** Accept responses no AuthnRequest of ours asked for (IdP-initiated SSO: no login-CSRF protection). */
    allowIdpInitiated: z.boolean().default(false),
    clockSkewSeconds: z.number().int().min(0).max(600).default(60),
    /** Require the assertion itself to be signed (not only the response around it). */
    wantAssertionsSigned: z.boolean().default(true),
    /** Record MFA on the session when the AuthnContextClassRef says so; otherwise `["ext"]`. */
    trustAuthnContext: z.boolean().default(false),
    requireSso: z.boolean().default(false),
    breakGlass: z.array(z.email().transform((e) => e.toLowerCase())).max(10).default([]),
  })
  // Inline metadata is read when the configuration loads: a broken document is a configuration error.
  .transform((value, ctx) => {
    if (!('metadataXml' in value.idp)) return { ...value, idp: value.idp };
    try {
      return { ...value, idp: parseIdpMetadata(value.idp.metadataXml) };
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['idp', 'metadataXml'], message: `unusable IdP metadata: ${(err as Error).message}` });
      return z.NEVER;
    }
  });

export type SamlConnection = z.output<typeof SamlConnectionSchema>;

/** Any configured connection. */
export type SsoConnection = OidcConnection | GithubConnection | SamlConnection;

/**
 * The origin a sign-in through `connection` sends the browser to (a sign-in form's CSP form-action
 * must allow it): the issuer's; for SAML the sign-on URL's, or the metadata URL's when the
 * sign-on URL is only known from the metadata (an IdP serves both from one origin).
 */
export function browserOrigin(connection: SsoConnection): string {
  if (connection.type === 'oidc' && connection.authority) return connection.authority;
  if (connection.type !== 'saml') return new URL(connection.issuer).origin;
  return new URL('ssoUrl' in connection.idp ? connection.idp.ssoUrl : connection.idp.metadataUrl).origin;
}

/** The list in the configuration: ids unique, and an e-mail domain claimed by at most one connection. */
export const IdentityProvidersSchema = z
  .array(z.discriminatedUnion('type', [OidcConnectionSchema, GithubConnectionSchema, SamlConnectionSchema]))
  .max(100)
  .default([])
  .superRefine((list, ctx) => {
    const ids = new Set<string>();
    const domains = new Map<string, string>();
    list.forEach((connection, index) => {
      if (ids.has(connection.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `connection id "${connection.id}" is used twice` });
      ids.add(connection.id);
      for (const domain of connection.domains) {
        const owner = domains.get(domain);
        if (owner !== undefined && owner !== connection.id) {
          ctx.addIssue({ code: 'custom', path: [index, 'domains'], message: `domain ${domain} is already claimed by connection "${owner}"` });
        }
        domains.set(domain, connection.id);
      }
    });
  });

/**
 * What organizations' own connections (managed by their owners, not in this file) may do.
 * `dnsServers`: asked for the `_portcullis-challenge.<domain>` TXT record that proves a domain
 * (README "Per-organization connections"), as `host` or `host:port` — default: the system's
 * resolver; for split-horizon DNS, and tests that answer themselves. `allowPrivateIssuers`:
 * development and tests only — let an owner's connection name an IdP on a loopback or private
 * address (otherwise refused: the server would fetch wherever an owner points it).
 * `allowPublicButtons`: let an owner's connection be `public` — a "Continue with <name>" button on
 * every sign-in page of the server, seen by every organization's people. Off by default: on a
 * server shared by many organizations, one owner's button named "Google" pointing at their own
 * IdP would be a phishing page for everyone else. Their connections still route by verified domain.
 */
export const OrganizationConnectionsSchema = z
  .strictObject({
    dnsServers: z.array(z.string().min(1).max(300)).max(4).default([]),
    allowPrivateIssuers: z.boolean().default(false),
    allowPublicButtons: z.boolean().default(false),
  })
  .prefault({});

/** Who goes where: the connection for an id, for an e-mail's domain, and those shown as buttons. */
export class ConnectionRegistry {
  readonly #byId = new Map<string, SsoConnection>();
  readonly #byDomain = new Map<string, SsoConnection>();

  constructor(connections: readonly SsoConnection[]) {
    for (const connection of connections) {
      this.#byId.set(connection.id, connection);
      for (const domain of connection.domains) this.#byDomain.set(domain, connection);
    }
  }

  get(id: string): SsoConnection | undefined {
    return this.#byId.get(id);
  }

  /** The connection owning this address's domain (home-realm discovery), if any. */
  forEmail(email: string): SsoConnection | undefined {
    const at = email.lastIndexOf('@');
    return at < 0 ? undefined : this.#byDomain.get(email.slice(at + 1).trim().toLowerCase());
  }

  /** Connections that show a "Continue with <name>" button. */
  publicOnes(): SsoConnection[] {
    return [...this.#byId.values()].filter((c) => c.public);
  }

  all(): SsoConnection[] {
    return [...this.#byId.values()];
  }
}

/**
 * The role a set of groups maps to: the highest any group grants, else the default. GitHub's
 * groups are "<org>/<team>" and "<org>": a mapped team's role beats the organization's.
 */
export function mappedRole(connection: SsoConnection, groups: readonly string[]): OrgRole {
  const rank: Record<OrgRole, number> = { member: 0, admin: 1, owner: 2 };
  let role: OrgRole = connection.roles.default;
  if (connection.type === 'github') {
    const teams = groups.filter((g) => g.includes('/') && connection.roles.map[g] !== undefined);
    if (teams.length > 0) groups = teams;
  }
  for (const group of groups) {
    const mapped = connection.roles.map[group];
    if (mapped && rank[mapped] > rank[role]) role = mapped;
  }
  return role;
}
