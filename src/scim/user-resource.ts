/**
 * A User resource both ways (RFC 7643 §4.1): what an IdP's body says (userName, externalId,
 * active, the rest kept as sent) and how a provisioned user is answered. `active` may come as the
 * string "True"/"False" (Entra ID sends them so).
 */
import type { ScimUserRow } from '../store/scim.ts';
import { displayName, isEmailAddress } from '../identity/new-users.ts';
import { badRequest } from './errors.ts';
import { keyIn } from './filter.ts';
import { isoTime, URN } from './schema.ts';

type Json = Record<string, unknown>;

export interface UserInput {
  userName: string;
  externalId: string | null;
  active: boolean;
  /** Everything else the IdP sent (name, displayName, emails, extensions …). */
  attributes: Json;
}

/** Attributes the provider owns or reads itself; never kept among the IdP's attributes. */
const OWN = new Set(['id', 'meta', 'schemas', 'groups', 'password', 'username', 'externalid', 'active']);
const MAX_USERNAME = 256;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export function readActive(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw badRequest('invalidValue', 'active is true or false');
}

export function readUser(body: unknown): UserInput {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'send a User object');
  const userName = body[keyIn(body, 'userName')];
  if (typeof userName !== 'string' || userName.trim() === '' || userName.length > MAX_USERNAME) throw badRequest('invalidValue', 'userName is required (a non-empty string)');
  const externalId = body[keyIn(body, 'externalId')] ?? null;
  if (externalId !== null && typeof externalId !== 'string') throw badRequest('invalidValue', 'externalId is a string');
  const attributes = Object.fromEntries(Object.entries(body).filter(([k]) => !OWN.has(k.toLowerCase())));
  return { userName: userName.trim(), externalId, active: readActive(body[keyIn(body, 'active')]), attributes };
}

function emails(attributes: Json): Json[] {
  const list = attributes[keyIn(attributes, 'emails')];
  return Array.isArray(list) ? list.filter(isObject) : [];
}

/** The account's e-mail address: the userName when it is one, else the primary, work or first e-mail. */
export function emailOf(input: UserInput): string {
  if (isEmailAddress(input.userName)) return input.userName;
  const list = emails(input.attributes);
  const chosen = list.find((e) => e.primary === true || e.primary === 'True' || e.primary === 'true') ?? list.find((e) => e.type === 'work') ?? list[0];
  const value = chosen?.value;
  if (typeof value === 'string' && isEmailAddress(value.trim())) return value.trim();
  throw badRequest('invalidValue', 'a user needs an e-mail address: as userName, or in emails');
}

/** The account's display name: displayName, name.formatted, or given and family name. */
export function nameOf(input: UserInput): string | null {
  const a = input.attributes;
  const explicit = a[keyIn(a, 'displayName')];
  if (typeof explicit === 'string' && explicit.trim()) return displayName(explicit);
  const name = a[keyIn(a, 'name')];
  if (!isObject(name)) return null;
  if (typeof name.formatted === 'string' && name.formatted.trim()) return displayName(name.formatted);
  return displayName([name.givenName, name.familyName].filter((p) => typeof p === 'string').join(' '));
}

/** The resource as the IdP sees it (and as a filter reads it). */
export function renderUser(base: string, row: ScimUserRow, groups: { id: string; displayName: string }[]): Json {
  const extensions = Object.keys(row.attributes).filter((k) => k.toLowerCase().startsWith('urn:'));
  return {
    schemas: [URN.user, ...extensions],
    id: row.id,
    ...(row.externalId === null ? {} : { externalId: row.externalId }),
    userName: row.userName,
    ...row.attributes,
    active: row.active,
    groups: groups.map((g) => ({ value: g.id, display: g.displayName, $ref: `${base}/Groups/${g.id}` })),
    meta: { resourceType: 'User', created: isoTime(row.createdAt), lastModified: isoTime(row.updatedAt), location: `${base}/Users/${row.id}` },
  };
}

/** What PATCH starts from: the resource without what the provider owns. */
export function patchableUser(row: ScimUserRow): Json {
  return { userName: row.userName, ...(row.externalId === null ? {} : { externalId: row.externalId }), active: row.active, ...row.attributes };
}
