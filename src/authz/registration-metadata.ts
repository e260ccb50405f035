/**
 * The JSON types of client metadata, checked before any registration rule of ours reads a field.
 *
 * Our rules in engine/registration.ts (`extraClientMetadata.validator`) run before the engine's own checks
 * (oidc-provider's client schema calls custom validators first), so `{"redirect_uris": 5}` reached
 * `uris.find` and answered 500. Every field is checked here against the type its specification
 * gives it; what a well-typed value may contain (schemes, enums, scopes) stays with the engine's
 * rules and ours. The same check runs wherever the engine builds a client: dynamic registration,
 * Client ID Metadata Documents and stored clients.
 */
import { errors } from 'oidc-provider';
import * as z from 'zod';

const KINDS = {
  'a string': z.string(),
  'an array of strings': z.array(z.string()),
  'a number': z.number(),
  'a boolean': z.boolean(),
  // RFC 7591 §2 `jwks`: a JWK Set document, whose `keys` is an array of JWK objects (RFC 7517 §5).
  'a JWK Set (an object whose "keys" is an array of objects)': z.looseObject({ keys: z.array(z.looseObject({})) }),
} as const;

type Kind = keyof typeof KINDS;

/**
 * Field → type, from the specifications that define them. Fields the engine does not recognize
 * never get here (its schema keeps only known metadata), so they stay ignored as RFC 7591 §2
 * requires of metadata a server does not understand — `software_statement` among them: we support
 * no software statements.
 */
const FIELD_KINDS: Record<string, Kind> = {
  // RFC 7591 §2.
  redirect_uris: 'an array of strings',
  token_endpoint_auth_method: 'a string',
  grant_types: 'an array of strings',
  response_types: 'an array of strings',
  client_name: 'a string',
  client_uri: 'a string',
  logo_uri: 'a string',
  scope: 'a string',
  contacts: 'an array of strings',
  tos_uri: 'a string',
  policy_uri: 'a string',
  jwks_uri: 'a string',
  jwks: 'a JWK Set (an object whose "keys" is an array of objects)',
  software_id: 'a string',
  software_version: 'a string',
  // OpenID Connect Dynamic Client Registration 1.0 §2.
  application_type: 'a string',
  sector_identifier_uri: 'a string',
  subject_type: 'a string',
  id_token_signed_response_alg: 'a string',
  id_token_encrypted_response_alg: 'a string',
  id_token_encrypted_response_enc: 'a string',
  userinfo_signed_response_alg: 'a string',
  userinfo_encrypted_response_alg: 'a string',
  userinfo_encrypted_response_enc: 'a string',
  request_object_signing_alg: 'a string',
  request_object_encryption_alg: 'a string',
  request_object_encryption_enc: 'a string',
  token_endpoint_auth_signing_alg: 'a string',
  default_max_age: 'a number',
  require_auth_time: 'a boolean',
  default_acr_values: 'an array of strings',
  initiate_login_uri: 'a string',
  request_uris: 'an array of strings',
  // OpenID Connect RP-Initiated Logout 1.0 §3.1.
  post_logout_redirect_uris: 'an array of strings',
  // The engine's response mode list (an array like response_types).
  response_modes: 'an array of strings',
  // OpenID Connect RP Metadata Choices 1.0 §2 (features.rpMetadataChoices).
  id_token_signing_alg_values_supported: 'an array of strings',
  subject_types_supported: 'an array of strings',
  token_endpoint_auth_methods_supported: 'an array of strings',
  token_endpoint_auth_signing_alg_values_supported: 'an array of strings',
};

// Absent is fine (the engine fills in its defaults); JSON null is not a value of any of these types.
const METADATA_TYPES = z.looseObject(Object.fromEntries(Object.entries(FIELD_KINDS).map(([field, kind]) => [field, KINDS[kind].optional()])));

/**
 * Throws the RFC 7591 §3.2.2 error for the first field whose JSON type is wrong:
 * `invalid_redirect_uri` for `redirect_uris` (the code RFC 7591 gives to redirection URI values,
 * and the one the engine answers for its own redirect_uris checks), `invalid_client_metadata` for
 * every other field.
 */
export function assertMetadataTypes(metadata: Record<string, unknown>): void {
  const result = METADATA_TYPES.safeParse(metadata);
  if (result.success) return;
  const field = String(result.error.issues[0]!.path[0]);
  const description = `${field} must be ${FIELD_KINDS[field]}`;
  if (field === 'redirect_uris') throw Object.assign(new errors.InvalidRedirectUri(), { error_description: description });
  throw new errors.InvalidClientMetadata(description);
}
