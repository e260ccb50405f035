/**
 * SCIM failures as PortcullisErrors: the code gives the status (core/errors.ts), the rule carries
 * the RFC 7644 §3.12 `scimType` (http/refusal.ts renders them in the SCIM error schema).
 */
import { PortcullisError } from '../core/errors.ts';

/** The RFC 7644 §3.12 detail error keywords this service uses. */
export type ScimType = 'invalidFilter' | 'invalidValue' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'mutability' | 'uniqueness';

/** 400 with a scimType (every keyword but `uniqueness` is a bad request). */
export function badRequest(scimType: Exclude<ScimType, 'uniqueness'>, message: string): PortcullisError {
  return new PortcullisError('invalid_request', message, { rule: scimType });
}

/** 409 `uniqueness`: a userName or displayName already taken in the organization. */
export function notUnique(message: string): PortcullisError {
  return new PortcullisError('conflict', message, { rule: 'uniqueness' });
}

export function notFound(what: 'User' | 'Group'): PortcullisError {
  return new PortcullisError('not_found', `no such ${what} in this organization`);
}
