/**
 * SCIM filters (RFC 7644 §3.4.2.2): the grammar is scim2-parse-filter's; matching a resource is
 * ours, because attribute names are case-insensitive (RFC 7643 §2.1) and so are the string
 * attributes this provider filters on (userName, emails, displayName: caseExact false, §4.1).
 * `emails[type eq "work"].value eq "…"` is read as "a work e-mail, and an e-mail with this value".
 */
import { parse, type Filter } from 'scim2-parse-filter';
import { badRequest } from './errors.ts';
import { URN } from './schema.ts';

export type { Filter };

type Json = Record<string, unknown>;

/** The longest filter read: an IdP's filters are a few dozen characters. */
const MAX_FILTER = 2000;

export function parseFilter(text: string): Filter {
  if (text.length > MAX_FILTER) throw badRequest('invalidFilter', `a filter is at most ${MAX_FILTER} characters`);
  try {
    return parse(text);
  } catch {
    throw badRequest('invalidFilter', 'the filter does not follow RFC 7644 §3.4.2.2');
  }
}

/** The key of `object` named `name`, compared case-insensitively; `name` itself when absent. */
export function keyIn(object: Json, name: string): string {
  const lower = name.toLowerCase();
  return Object.keys(object).find((k) => k.toLowerCase() === lower) ?? name;
}

/** Split `urn:…:User:name.givenName` into the extension it lives in (none for the core schemas) and the path in it. */
export function splitSchema(path: string): { schema: string | undefined; rest: string } {
  if (!path.toLowerCase().startsWith('urn:')) return { schema: undefined, rest: path };
  const end = path.indexOf('[');
  const head = end === -1 ? path : path.slice(0, end);
  const colon = head.lastIndexOf(':');
  const schema = path.slice(0, colon);
  const rest = path.slice(colon + 1);
  const core = schema.toLowerCase() === URN.user.toLowerCase() || schema.toLowerCase() === URN.group.toLowerCase();
  return { schema: core ? undefined : schema, rest };
}

/** Every value at a dotted path, multi-valued attributes flattened (RFC 7644 §3.4.2.2 "any value matches"). */
function valuesAt(resource: Json, attrPath: string): unknown[] {
  const { schema, rest } = splitSchema(attrPath);
  let current: unknown[] = [schema === undefined ? resource : resource[keyIn(resource, schema)]];
  for (const name of rest.split('.')) {
    const next: unknown[] = [];
    for (const value of current.flat()) {
      if (value && typeof value === 'object' && !Array.isArray(value)) next.push((value as Json)[keyIn(value as Json, name)]);
    }
    current = next;
  }
  return current.flat().filter((v) => v !== undefined && v !== null);
}

function compare(op: string, actual: unknown, expected: unknown): boolean {
  const a = typeof actual === 'string' ? actual.toLowerCase() : actual;
  const e = typeof expected === 'string' ? expected.toLowerCase() : expected;
  switch (op) {
    case 'eq': return a === e;
    case 'ne': return a !== e;
    case 'co': return typeof a === 'string' && typeof e === 'string' && a.includes(e);
    case 'sw': return typeof a === 'string' && typeof e === 'string' && a.startsWith(e);
    case 'ew': return typeof a === 'string' && typeof e === 'string' && a.endsWith(e);
    case 'gt': return typeof a === typeof e && (a as string) > (e as string);
    case 'ge': return typeof a === typeof e && (a as string) >= (e as string);
    case 'lt': return typeof a === typeof e && (a as string) < (e as string);
    case 'le': return typeof a === typeof e && (a as string) <= (e as string);
    default: throw badRequest('invalidFilter', `unknown operator ${op}`);
  }
}

/** Does `resource` (as the IdP sees it) match `filter`? */
export function matches(filter: Filter, resource: Json): boolean {
  switch (filter.op) {
    case 'and': return filter.filters.every((f) => matches(f, resource));
    case 'or': return filter.filters.some((f) => matches(f, resource));
    case 'not': return !matches(filter.filter, resource);
    case '[]': return valuesAt(resource, filter.attrPath).some((v) => v !== null && typeof v === 'object' && matches(filter.valFilter, v as Json));
    case 'pr': return valuesAt(resource, filter.attrPath).some((v) => v !== '' && !(Array.isArray(v) && v.length === 0));
    default: {
      const values = valuesAt(resource, filter.attrPath);
      // `ne` on an absent attribute matches (nothing equals the value).
      if (filter.op === 'ne') return values.every((v) => compare('ne', v, filter.compValue));
      return values.some((v) => compare(filter.op, v, filter.compValue));
    }
  }
}
