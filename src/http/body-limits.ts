/**
 * How large a request body each surface accepts. The front door (server/router.ts) refuses a
 * declared Content-Length above the limit before anything is read; each reader enforces the same
 * limit while reading, for bodies sent without a length (chunked). Nothing the server reads is
 * unbounded: an unauthenticated 400 MiB form once stalled every other request.
 */
export const BODY_LIMITS = {
  /** Our pages' forms (sign-in, consent, account, org pages): a few fields each. */
  page: 64 * 1024,
  /** The admin JSON API: application definitions with their tool tables are the largest bodies. */
  admin: 256 * 1024,
  /**
   * The OAuth endpoints. The engine (oidc-provider) reads at most 56 KiB itself
   * (lib/shared/selective_body.js); our introspection and revocation endpoints take the same.
   */
  oauth: 56 * 1024,
  /** SCIM (RFC 7644): a User or a Group with its member list; Okta and Entra send groups in batches. */
  scim: 1024 * 1024,
} as const;

/** Where a request is going, for its limits and for the shape of a refusal. */
export type Surface = 'gateway' | 'oauth' | 'admin' | 'page' | 'scim';
