/**
 * What an administrator registers a client with (the console's form, the admin API's JSON body,
 * `portcullis clients add`), checked field by field, and the engine metadata it becomes (RFC 7591
 * §2 names). Every problem is reported with the path of its field, so a page shows it beside it.
 */
import * as z from 'zod';
import type { FieldError } from '../core/errors.ts';
import { PortcullisError } from '../core/errors.ts';
import { parseInput } from '../core/input.ts';
import { isLoopbackUrl } from '../shared/net.ts';
import { CLI_CLIENT_ID } from '../shared/cli-client.ts';
import { hasNativeScheme, redirectUriProblem } from './redirect-uris.ts';

export const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
export const GRANT_NAMES = ['authorization_code', 'device_code', 'client_credentials'] as const;
export type GrantName = (typeof GRANT_NAMES)[number];

export const ClientInputSchema = z.strictObject({
  name: z.string().trim().min(1, 'a name is required').max(200),
  /** The client_id (default: generated). */
  clientId: z.string().regex(/^[\w.~-]{3,128}$/, 'letters, digits and . _ ~ - only (3 to 128 characters)').optional(),
  /** `none` is a public client; anything else is confidential (RFC 6749 §2.1). Default: none, or client_secret_basic with client_credentials. */
  tokenEndpointAuthMethod: z.enum(AUTH_METHODS).optional(),
  /** With private_key_jwt: where the client publishes its public keys (RFC 7591 §2 `jwks_uri`). */
  jwksUri: z.string().optional(),
  redirectUris: z.array(z.string()).default([]),
  grants: z.array(z.enum(GRANT_NAMES)).default(['authorization_code']),
  /** The applications (their resource URLs, RFC 8707) the client may get tokens for; empty: every one. */
  applications: z.array(z.string()).default([]),
  /** The scopes the client may be given at most; empty: no limit beyond the person's (or the resource's defaults for a service account). */
  scopes: z.array(z.string()).default([]),
  /** Resource servers this (confidential) client is: it may introspect their tokens. */
  resourceServers: z.array(z.string()).default([]),
});
export type ClientInput = z.input<typeof ClientInputSchema>;

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
/** Grant names → engine grant types. Interactive grants come with refresh tokens. */
const GRANT_TYPES: Record<GrantName, string[]> = {
  authorization_code: ['authorization_code', 'refresh_token'],
  device_code: [DEVICE_CODE, 'refresh_token'],
  client_credentials: ['client_credentials'],
};
/** RFC 6749 §3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

function httpsOrLoopback(raw: string): boolean {
  const url = URL.parse(raw);
  return Boolean(url && !url.hash && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url))));
}

/** Grants, redirect URIs and auth method that fit together; problems by field. */
function flowProblems(input: z.output<typeof ClientInputSchema>, method: AuthMethod): FieldError[] {
  const errors: FieldError[] = [];
  const add = (path: string, message: string) => errors.push({ path, message });
  const interactive = input.grants.includes('authorization_code');
  if (input.grants.includes('client_credentials') && method === 'none') add('tokenEndpointAuthMethod', 'client_credentials needs a confidential client (RFC 6749 §4.4)');
  if (interactive && input.redirectUris.length === 0) add('redirectUris', 'at least one redirect URI is needed for the authorization_code grant');
  if (!interactive && input.redirectUris.length) add('redirectUris', 'redirect URIs are only for the authorization_code grant');
  input.redirectUris.forEach((uri, i) => {
    const problem = redirectUriProblem(uri);
    if (problem) add(`redirectUris.${i}`, problem);
  });
  if (method === 'private_key_jwt' && !input.jwksUri) add('jwksUri', 'private_key_jwt needs the URL of the client\'s JWKS (RFC 7523 §2.2)');
  if (input.jwksUri !== undefined && method !== 'private_key_jwt') add('jwksUri', 'a JWKS URL is only for private_key_jwt');
  if (input.jwksUri && URL.parse(input.jwksUri)?.protocol !== 'https:') add('jwksUri', 'the JWKS URL must be https');
  if (input.resourceServers.length && method === 'none') add('resourceServers', 'introspection requires a confidential client');
  input.resourceServers.forEach((url, i) => httpsOrLoopback(url) || add(`resourceServers.${i}`, 'an https URL (or http on loopback) without a fragment'));
  input.scopes.forEach((scope, i) => SCOPE_TOKEN.test(scope) || add(`scopes.${i}`, `not a valid scope: ${scope}`));
  if (input.clientId === CLI_CLIENT_ID) add('clientId', `${CLI_CLIENT_ID} is reserved for the Portcullis CLI`);
  return errors;
}

export interface RegistrationPlan {
  clientId: string;
  metadata: Record<string, unknown>;
  confidential: boolean;
  /** Whether a secret is generated (client_secret_basic / client_secret_post). */
  secretBased: boolean;
}

/**
 * Input → engine metadata (without the secret), or 400 invalid_request listing every problem.
 * `knownApplications`: the resource URLs served now (an unknown one is refused).
 */
export function planRegistration(raw: unknown, newId: () => string, knownApplications?: readonly string[]): RegistrationPlan {
  const input = parseInput(ClientInputSchema, raw);
  const clientId = input.clientId ?? newId();
  const grants = [...new Set(input.grants)];
  const method: AuthMethod = input.tokenEndpointAuthMethod ?? (grants.includes('client_credentials') ? 'client_secret_basic' : 'none');
  const errors = flowProblems({ ...input, grants }, method);
  const applications = [...new Set(input.applications)];
  applications.forEach((url, i) => knownApplications && !knownApplications.includes(url) && errors.push({ path: `applications.${i}`, message: `no application is served at ${url}` }));
  if (errors.length) throw new PortcullisError('invalid_request', 'invalid client', { detail: { errors } });
  const redirectUris = [...new Set(input.redirectUris)];
  const scopes = [...new Set(input.scopes)];
  const resources = [...new Set(input.resourceServers)];
  const metadata: Record<string, unknown> = {
    client_id: clientId,
    client_name: input.name,
    application_type: hasNativeScheme(redirectUris) ? 'native' : 'web',
    grant_types: [...new Set(grants.flatMap((g) => GRANT_TYPES[g]))],
    response_types: grants.includes('authorization_code') ? ['code'] : [],
    redirect_uris: redirectUris,
    token_endpoint_auth_method: method,
    ...(input.jwksUri ? { jwks_uri: input.jwksUri } : {}),
    ...(resources.length ? { portcullis_resources: resources } : {}),
    ...(scopes.length ? { portcullis_scopes: scopes } : {}),
    ...(applications.length ? { portcullis_applications: applications } : {}),
  };
  return { clientId, metadata, confidential: method !== 'none', secretBased: method === 'client_secret_basic' || method === 'client_secret_post' };
}
