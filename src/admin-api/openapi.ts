/**
 * `GET <base>/admin/api/openapi.json`: the admin API described as OpenAPI 3.1. Request bodies are
 * generated from the same zod schemas the handlers validate with (zod 4 `z.toJSONSchema`, input
 * side), so the document cannot drift from what is accepted; test/admin/openapi.test.ts checks
 * that every mounted route is described.
 */
import * as z from 'zod';
import { ApplicationDefinitionSchema } from '../core/application.ts';
import { MoveApplicationSchema } from './application-routes.ts';
import { ClientInputSchema } from '../clients/input.ts';
import { ApiKeyInputSchema } from '../api-keys/service.ts';
import { ScimGroupRolesSchema } from './org-routes/scim.ts';
import { DomainVerifySchema } from './org-routes/identity-providers.ts';
import { DomainInputSchema } from '../identity/org-domains.ts';
import { OrgConnectionSchema } from '../identity/org-connections.ts';
import { InvitationInputSchema } from '../identity/invitations.ts';
import { ApproveAccessSchema } from '../identity/access-requests.ts';
import { CreateResourceSchema, RenameResourceSchema, ResourceMemberSchema } from '../identity/workspace-tree.ts';
import { OrgUpdateSchema, RoleSchema } from './org-schemas.ts';
import { LimitSettingsSchema } from '../core/limit-settings.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Auth = 'public' | 'any' | 'server-admin' | 'org-admin';

interface Operation {
  method: Method;
  /** Hono style (`:param`); turned into `{param}`. */
  path: string;
  summary: string;
  auth: Auth;
  body?: z.ZodType;
  /** The success status (200 unless told). */
  status?: 200 | 201 | 204;
  /** Query parameters: name → description (all optional). */
  query?: Record<string, string>;
  /** A success answer that is not JSON: media type → description (a streamed download). */
  produces?: Record<string, string>;
}

const AUDIT_FILTERS: Record<string, string> = {
  since: 'From this time (ISO 8601, or epoch seconds)',
  until: 'Before this time (ISO 8601, or epoch seconds)',
  user: 'The user the record is about: id or e-mail',
  client: 'OAuth client id',
  application: 'Application slug',
  tool: 'Tool name (or resource URI, prompt name)',
  decision: 'allow | deny',
  code: 'Denial or failure code (e.g. policy_denied, rate_limited)',
  kind: 'Record kind (gateway.call), or a prefix ending in * (admin.*)',
  before: 'Records older than this seq: the previous page\'s next.before',
  limit: 'Records per page, 1–200 (default 50)',
};

const FINGERPRINT = z.strictObject({ fingerprint: z.string().optional() });

/**
 * An organization's own applications: the server-wide application routes, scoped to the org
 * (admin-api/org-routes/applications.ts); another org's or a server-wide application is 404.
 */
const ORG_APPLICATION_OPERATIONS: readonly Operation[] = [
  { method: 'get', path: '/orgs/:org/applications', summary: 'The organization\'s applications with their status', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/applications', summary: 'Create an application for the organization (an HTTP upstream: a command is server administrators\' to run)', auth: 'org-admin', body: ApplicationDefinitionSchema, status: 201 },
  { method: 'get', path: '/orgs/:org/applications/:slug', summary: 'One of the organization\'s applications and its definition (secrets masked)', auth: 'org-admin' },
  { method: 'put', path: '/orgs/:org/applications/:slug', summary: 'Replace the definition of one of the organization\'s applications', auth: 'org-admin', body: ApplicationDefinitionSchema },
  { method: 'delete', path: '/orgs/:org/applications/:slug', summary: 'Remove one of the organization\'s applications', auth: 'org-admin', status: 204 },
  { method: 'get', path: '/orgs/:org/applications/:slug/status', summary: 'not_verified, needs_review or live, and why', auth: 'org-admin' },
  { method: 'get', path: '/orgs/:org/applications/:slug/tools', summary: 'The tool manifest with each tool\'s scope and review', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/applications/:slug/tools/:name/approve', summary: 'Approve a tool (optionally exactly the version with this fingerprint)', auth: 'org-admin', body: FINGERPRINT },
  { method: 'post', path: '/orgs/:org/applications/:slug/tools/:name/reject', summary: 'Send a tool back to review', auth: 'org-admin', body: FINGERPRINT },
  { method: 'post', path: '/orgs/:org/applications/:slug/refresh', summary: 'Ask the MCP server for its tools again', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/applications/:slug/test', summary: 'Run the self-test', auth: 'org-admin' },
];

export const OPERATIONS: readonly Operation[] = [
  { method: 'get', path: '/openapi.json', summary: 'This document', auth: 'public' },
  { method: 'get', path: '/session', summary: 'Who is calling, the organizations they manage, and the CSRF token for a browser', auth: 'any' },
  { method: 'get', path: '/applications', summary: 'Every application with its status', auth: 'server-admin' },
  { method: 'post', path: '/applications', summary: 'Create an application (server-wide, or for the organization `org` names)', auth: 'server-admin', body: ApplicationDefinitionSchema, status: 201, query: { org: 'an organization\'s slug or id: its owners and admins then manage the application' } },
  { method: 'get', path: '/applications/:slug', summary: 'One application and its definition (secrets masked)', auth: 'server-admin' },
  { method: 'put', path: '/applications/:slug', summary: 'Replace an application\'s definition', auth: 'server-admin', body: ApplicationDefinitionSchema },
  { method: 'delete', path: '/applications/:slug', summary: 'Remove an application', auth: 'server-admin', status: 204 },
  { method: 'put', path: '/applications/:slug/org', summary: 'Give an application to an organization (its owners and admins manage it), or back to the server with null; an application that runs a command stays server-wide', auth: 'server-admin', body: MoveApplicationSchema },
  ...ORG_APPLICATION_OPERATIONS,
  { method: 'get', path: '/clients', summary: 'Every OAuth client (pre-registered, dynamic, metadata-document) with its last use and how many people connected', auth: 'server-admin' },
  { method: 'post', path: '/clients', summary: 'Register an OAuth client; a confidential client\'s secret is in this answer only', auth: 'server-admin', body: ClientInputSchema, status: 201 },
  { method: 'get', path: '/clients/:id', summary: 'One OAuth client\'s metadata (never its secret)', auth: 'server-admin' },
  { method: 'post', path: '/clients/:id/rotate-secret', summary: 'A new client secret, in this answer only; the old one stops working', auth: 'server-admin' },
  { method: 'delete', path: '/clients/:id', summary: 'Remove an OAuth client (tokens already issued expire as usual)', auth: 'server-admin', status: 204 },
  { method: 'get', path: '/signing-keys', summary: 'The token-signing keys: kid, algorithm, active or retired, when created and retired', auth: 'server-admin' },
  { method: 'delete', path: '/signing-keys/:kid', summary: 'Retire a retired key early: it leaves the JWKS and tokens it signed stop verifying (the signing key cannot: rotate first)', auth: 'server-admin', status: 204 },
  { method: 'get', path: '/applications/:slug/tools', summary: 'The tool manifest: each tool\'s title, description, input and output schema, annotations, scope and review, and the version last approved when it changed', auth: 'server-admin' },
  { method: 'post', path: '/applications/:slug/tools/:name/approve', summary: 'Approve a tool (optionally exactly the version with this fingerprint)', auth: 'server-admin', body: FINGERPRINT },
  { method: 'post', path: '/applications/:slug/tools/:name/reject', summary: 'Send a tool back to review', auth: 'server-admin', body: FINGERPRINT },
  { method: 'post', path: '/applications/:slug/refresh', summary: 'Ask the MCP server for its tools again', auth: 'server-admin' },
  { method: 'post', path: '/applications/:slug/test', summary: 'Run the self-test', auth: 'server-admin' },
  { method: 'get', path: '/applications/:slug/status', summary: 'not_verified, needs_review or live, and why', auth: 'server-admin' },
  { method: 'get', path: '/orgs', summary: 'The caller\'s organizations (an API key: its own)', auth: 'any' },
  { method: 'get', path: '/orgs/:org', summary: 'An organization (slug or id)', auth: 'org-admin' },
  { method: 'patch', path: '/orgs/:org', summary: 'Rename, or replace the settings (lifetimes within the server\'s bounds)', auth: 'org-admin', body: OrgUpdateSchema },
  { method: 'delete', path: '/orgs/:org', summary: 'Delete an organization: its members\' grants and its keys are revoked, its memberships, workspaces, invitations and connections go; accounts stay (409 while it owns applications)', auth: 'server-admin', status: 204 },
  { method: 'get', path: '/orgs/:org/limits', summary: 'Rate limits and quotas: the server\'s (the bounds) and the organization\'s own', auth: 'org-admin' },
  { method: 'put', path: '/orgs/:org/limits', summary: 'Replace the organization\'s limits (400 limit_too_loose: looser than the server\'s, or a key\'s or client\'s looser than the organization\'s)', auth: 'org-admin', body: LimitSettingsSchema },
  { method: 'get', path: '/orgs/:org/members', summary: 'Members with e-mail, name and role', auth: 'org-admin' },
  { method: 'patch', path: '/orgs/:org/members/:userId', summary: 'Change a member\'s role (409 last_owner; only owners touch owners)', auth: 'org-admin', body: RoleSchema },
  { method: 'delete', path: '/orgs/:org/members/:userId', summary: 'Remove a member: their grants and keys in the org are revoked at once', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/members/:userId/reset-mfa', summary: 'Reset a member\'s second factors (TOTP, recovery codes, passkeys) and end their sessions; only owners reset an owner\'s, and only a manager of every organization the person is in', auth: 'org-admin' },
  { method: 'get', path: '/orgs/:org/invitations', summary: 'Invitations and their status', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/invitations', summary: 'Invite by e-mail: the one-time link is sent (SMTP configured) or returned', auth: 'org-admin', body: InvitationInputSchema, status: 201 },
  { method: 'delete', path: '/orgs/:org/invitations/:id', summary: 'Revoke a pending invitation', auth: 'org-admin', status: 204 },
  { method: 'get', path: '/orgs/:org/access-requests', summary: "Members' requests for access (from the consent page), newest first", auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/access-requests/:id/approve', summary: 'Approve a request: the member gets the role on the workspace or project (409 conflict when decided already)', auth: 'org-admin', body: ApproveAccessSchema },
  { method: 'post', path: '/orgs/:org/access-requests/:id/refuse', summary: 'Refuse a request (409 conflict when decided already)', auth: 'org-admin' },
  { method: 'get', path: '/orgs/:org/client-approvals', summary: '"Admin approval" of OAuth clients: whether it is on, the approved clients, members\' requests', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/client-approvals/:clientId/approve', summary: 'Approve a client for the organization (on its allow-list); members who asked are told', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/client-approvals/:clientId/refuse', summary: 'Refuse a client, or withdraw its approval (off the allow-list); grants for it stop at their next issuance', auth: 'org-admin' },
  { method: 'get', path: '/orgs/:org/resources', summary: 'The resource tree (workspaces, projects, folders), flat with parent links', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/resources', summary: 'Create a workspace, project or folder', auth: 'org-admin', body: CreateResourceSchema, status: 201 },
  { method: 'patch', path: '/orgs/:org/resources/:id', summary: 'Rename a resource', auth: 'org-admin', body: RenameResourceSchema },
  { method: 'delete', path: '/orgs/:org/resources/:id', summary: 'Delete a resource and everything below it', auth: 'org-admin', status: 204 },
  { method: 'get', path: '/orgs/:org/resources/:id/members', summary: 'Memberships on a resource', auth: 'org-admin' },
  { method: 'put', path: '/orgs/:org/resources/:id/members/:userId', summary: 'Give an org member a role on a resource', auth: 'org-admin', body: ResourceMemberSchema },
  { method: 'delete', path: '/orgs/:org/resources/:id/members/:userId', summary: 'Remove a resource membership', auth: 'org-admin', status: 204 },
  { method: 'get', path: '/orgs/:org/grants', summary: 'Grants clients hold for the org\'s people: client, user, scopes, created and last used', auth: 'org-admin' },
  { method: 'delete', path: '/orgs/:org/grants/:grantId', summary: 'Revoke a grant and its tokens at once', auth: 'org-admin', status: 204 },
  { method: 'get', path: '/orgs/:org/keys', summary: 'Every API key of the org (never a secret)', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/keys', summary: 'Issue an API key to the caller; the secret is in this answer only', auth: 'org-admin', body: ApiKeyInputSchema, status: 201 },
  { method: 'delete', path: '/orgs/:org/keys/:id', summary: 'Revoke an API key, permanently (409 already_revoked the second time)', auth: 'org-admin' },
  { method: 'get', path: '/orgs/:org/audit', summary: 'The audit trail, newest first, with user e-mail and client name resolved when read; `next` is the following page', auth: 'org-admin', query: AUDIT_FILTERS },
  {
    method: 'get',
    path: '/orgs/:org/audit/export',
    summary: 'Export the trail, streamed: JSON lines (full records, verifiable offline) or CSV (RFC 4180)',
    auth: 'org-admin',
    query: { format: 'jsonl (default) | csv', since: AUDIT_FILTERS.since!, until: AUDIT_FILTERS.until! },
    produces: { 'application/jsonl': 'One record per line, as stored (seq, chain, prevHash, hash) plus userEmail, actorName, clientName, keyName', 'text/csv': 'A header row, then one record per row' },
  },
  { method: 'get', path: '/orgs/:org/audit/verify', summary: 'Verify the organization\'s hash chain: {ok, checked, chains, broken?}', auth: 'org-admin' },
  { method: 'get', path: '/orgs/:org/scim', summary: 'SCIM provisioning: the base URL to give the IdP, whether a token exists, the group → role map', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/scim-token', summary: 'Issue the organization\'s SCIM bearer token, replacing any earlier one; the secret is in this answer only', auth: 'org-admin', status: 201 },
  { method: 'delete', path: '/orgs/:org/scim-token', summary: 'Revoke the organization\'s SCIM token at once (404 when there is none)', auth: 'org-admin', status: 204 },
  { method: 'put', path: '/orgs/:org/scim/group-roles', summary: 'Replace the map from IdP group displayName to org role (admin or member), applied to provisioned members at once', auth: 'org-admin', body: ScimGroupRolesSchema },
  { method: 'get', path: '/orgs/:org/identity-providers', summary: 'The organization\'s single sign-on connections: its own, and those of the configuration file (readOnly); never a secret', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/identity-providers', summary: 'Add a connection (owners): the configuration\'s shape, organization forced to this one, domains verified (409 already_exists: the id is taken)', auth: 'org-admin', body: OrgConnectionSchema, status: 201 },
  { method: 'get', path: '/orgs/:org/identity-providers/:id', summary: 'One connection (never a secret)', auth: 'org-admin' },
  { method: 'patch', path: '/orgs/:org/identity-providers/:id', summary: 'Change some fields; secrets left out are kept (409 read_only: defined in the configuration file)', auth: 'org-admin', body: z.record(z.string(), z.unknown()) },
  { method: 'delete', path: '/orgs/:org/identity-providers/:id', summary: 'Remove a connection: its sign-ins stop at once, on every instance', auth: 'org-admin', status: 204 },
  { method: 'get', path: '/orgs/:org/domains', summary: 'The e-mail domains the organization claims, verified or not, each with the DNS TXT record to create', auth: 'org-admin' },
  { method: 'post', path: '/orgs/:org/domains', summary: 'Claim a domain (owners): 409 domain_claimed when held by the configuration or another organization; public mail providers refused', auth: 'org-admin', body: DomainInputSchema, status: 201 },
  { method: 'post', path: '/orgs/:org/domains/:domain/verify', summary: 'Verify a claim by its TXT record (400 verification_failed), or as a server administrator (method admin)', auth: 'org-admin', body: DomainVerifySchema },
  { method: 'delete', path: '/orgs/:org/domains/:domain', summary: 'Give a domain up (409 conflict while a connection uses it)', auth: 'org-admin', status: 204 },
  { method: 'get', path: '/users', summary: 'Every account (deleted ones left out), with id, e-mail, name, server-admin and disabled flags', auth: 'server-admin' },
  { method: 'post', path: '/users/:id/disable', summary: 'Disable a user: every grant, key and session ended at once', auth: 'server-admin' },
  { method: 'post', path: '/users/:id/enable', summary: 'Enable a user again (nothing revoked comes back)', auth: 'server-admin' },
  { method: 'post', path: '/users/:id/reset-mfa', summary: 'Reset a user\'s second factors (TOTP, recovery codes, passkeys) and end their sessions', auth: 'server-admin' },
  { method: 'delete', path: '/users/:id', summary: 'Delete a user: everything revoked, personal data erased, records kept (409 last_owner)', auth: 'server-admin', status: 204 },
];

const ERROR_CODES = [
  'authentication_required', 'invalid_token', 'forbidden', 'csrf_failed', 'invalid_request', 'unsupported_media_type', 'payload_too_large',
  'not_found', 'read_only', 'already_exists', 'path_in_use', 'tool_changed', 'upstream_unavailable', 'last_owner', 'already_member',
  'invitation_invalid', 'already_revoked', 'limit_too_loose', 'domain_claimed', 'verification_failed', 'conflict', 'unavailable', 'internal_error',
];

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  public: [],
  any: [{ session: [] }, { apiKey: [] }],
  'server-admin': [{ session: [] }],
  'org-admin': [{ session: [] }, { apiKey: [] }],
};

export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

let cached: Record<string, unknown> | undefined;

export function openApiDocument(publicUrl: string): Record<string, unknown> {
  cached ??= buildPaths();
  return {
    openapi: '3.1.0',
    info: { title: 'Portcullis admin API', version: '1' },
    servers: [{ url: `${publicUrl}/admin/api` }],
    paths: cached,
    components: {
      securitySchemes: {
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: '__Host-pc_session',
          description: 'A signed-in browser. Unsafe methods also need the X-CSRF-Token header from GET /session.',
        },
        apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'pcs_…', description: 'An API key issued with admin: true; acts only in its own organization.' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: { type: 'string', enum: ERROR_CODES },
            message: { type: 'string' },
            errors: { type: 'array', description: 'Field-level problems (400)', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
  };
}

function buildPaths(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const path = openApiPath(op.path);
    const params = [
      ...[...op.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(op.query ?? {}).map(([name, description]) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } })),
    ];
    const status = op.status ?? 200;
    const content = op.produces
      ? Object.fromEntries(Object.entries(op.produces).map(([type, description]) => [type, { schema: { type: 'string', description } }]))
      : { 'application/json': { schema: { type: 'object' } } };
    const responses: Record<string, unknown> = {
      [status]: status === 204 ? { description: 'Done' } : { description: 'OK', content },
      default: errorResponse('`{error, message, errors?}`: 400 invalid input, 401, 403 forbidden or csrf_failed, 404 (also for another org\'s ids), 409, 415'),
    };
    paths[path] ??= {};
    paths[path][op.method] = {
      summary: op.summary,
      operationId: `${op.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ? ch.toUpperCase() : ''))}`,
      security: SECURITY[op.auth],
      ...(params.length ? { parameters: params } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } } : {}),
      responses,
    };
  }
  return paths;
}
