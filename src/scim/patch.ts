/**
 * PATCH (RFC 7644 §3.5.2) applied to a resource as the IdP sees it — pure, no store. The caller
 * reads the result as it reads a PUT body, so one set of rules decides what a change does.
 *
 * What IdPs send and this accepts: ops in any case (Entra: "Replace"); `path` absent with an object
 * value (Okta: `{"op":"replace","value":{"active":false}}`), a plain path (`active`,
 * `name.givenName`), an extension path (`urn:…:enterprise:2.0:User:department`), a value path
 * (`emails[type eq "work"].value`, `members[value eq "…"]`); `remove` of `members` with a value
 * list (Entra). Read-only attributes (`id`, `meta`, `schemas`) in a value are ignored; named by a
 * path they are a `mutability` error.
 */
import { badRequest } from './errors.ts';
import { keyIn, matches, parseFilter, splitSchema, type Filter } from './filter.ts';
import { URN } from './schema.ts';

type Json = Record<string, unknown>;
type Op = 'add' | 'replace' | 'remove';

export interface PatchOperation {
  op: Op;
  path?: string;
  value?: unknown;
}

const READ_ONLY = new Set(['id', 'meta', 'schemas']);
/** More operations than any IdP sends in one request. */
const MAX_OPERATIONS = 1000;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The Operations of a PatchOp body, checked. */
export function readPatch(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'send a PatchOp object');
  const schemas = body[keyIn(body, 'schemas')];
  if (Array.isArray(schemas) && !schemas.includes(URN.patch)) throw badRequest('invalidSyntax', `schemas must name ${URN.patch}`);
  const operations = body[keyIn(body, 'Operations')];
  if (!Array.isArray(operations) || operations.length === 0 || operations.length > MAX_OPERATIONS) throw badRequest('invalidSyntax', 'Operations must be a non-empty list');
  return operations.map((raw): PatchOperation => {
    if (!isObject(raw)) throw badRequest('invalidSyntax', 'each operation is an object');
    const op = String(raw[keyIn(raw, 'op')] ?? '').toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw badRequest('invalidSyntax', 'op is add, replace or remove');
    const path = raw[keyIn(raw, 'path')];
    if (path !== undefined && (typeof path !== 'string' || path.trim() === '')) throw badRequest('invalidPath', 'path is a string');
    const value = raw[keyIn(raw, 'value')];
    if (op !== 'remove' && value === undefined) throw badRequest('invalidValue', `${op} needs a value`);
    if (op === 'remove' && path === undefined) throw badRequest('noTarget', 'remove needs a path');
    return { op, path: path?.trim(), value };
  });
}

interface Target {
  schema: string | undefined;
  attr: string;
  filter: Filter | undefined;
  sub: string | undefined;
}

/** RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr]. */
function parsePath(path: string): Target {
  const { schema, rest } = splitSchema(path);
  const match = /^([A-Za-z][\w$-]*)(?:\[(.*)\])?(?:\.([A-Za-z][\w$-]*))?$/s.exec(rest);
  if (!match) throw badRequest('invalidPath', 'the path does not follow RFC 7644 §3.5.2');
  const [, attr, filterText, sub] = match;
  if (schema === undefined && READ_ONLY.has(attr!.toLowerCase())) throw badRequest('mutability', `${attr} is read-only`);
  return { schema, attr: attr!, filter: filterText === undefined ? undefined : parseFilter(filterText), sub };
}

function containerOf(doc: Json, schema: string | undefined): Json {
  if (schema === undefined) return doc;
  const key = keyIn(doc, schema);
  if (!isObject(doc[key])) doc[key] = {};
  return doc[key] as Json;
}

const sameValue = (a: unknown, b: unknown) => isObject(a) && isObject(b) && a.value !== undefined && String(a.value) === String(b.value);

/** Set, merge or append one value at `key` (§3.5.2.1 add, §3.5.2.3 replace). */
function put(container: Json, name: string, op: Op, value: unknown): void {
  const key = keyIn(container, name);
  const existing = container[key];
  if (op === 'add' && Array.isArray(existing)) {
    const added = Array.isArray(value) ? value : [value];
    container[key] = [...existing, ...added.filter((v) => !existing.some((e) => sameValue(e, v)))];
  } else if (isObject(existing) && isObject(value)) container[key] = { ...existing, ...value };
  else container[key] = value;
}

function removeAt(container: Json, name: string, value: unknown): void {
  const key = keyIn(container, name);
  const existing = container[key];
  // Entra removes group members by listing them in `value` instead of a value path.
  if (Array.isArray(existing) && Array.isArray(value)) container[key] = existing.filter((e) => !value.some((v) => sameValue(e, v)));
  else delete container[key];
}

function applyToValuePath(container: Json, target: Target, op: Op, value: unknown): void {
  const key = keyIn(container, target.attr);
  const list = Array.isArray(container[key]) ? (container[key] as unknown[]) : [];
  const hit = (v: unknown) => isObject(v) && matches(target.filter!, v);
  if (op === 'remove') {
    container[key] = target.sub === undefined ? list.filter((v) => !hit(v)) : list.map((v) => (hit(v) ? Object.fromEntries(Object.entries(v as Json).filter(([k]) => k.toLowerCase() !== target.sub!.toLowerCase())) : v));
    return;
  }
  const filter = target.filter!;
  if (!list.some(hit)) {
    // Nothing matches yet: an `eq` filter says what the new entry is (Okta, Entra set a work e-mail so).
    if (filter.op !== 'eq' || typeof filter.attrPath !== 'string' || filter.attrPath.includes('.')) throw badRequest('noTarget', 'no value matches the path');
    const entry: Json = { [filter.attrPath]: filter.compValue };
    if (target.sub === undefined) Object.assign(entry, isObject(value) ? value : {});
    else entry[target.sub] = value;
    container[key] = [...list, entry];
    return;
  }
  container[key] = list.map((v) => {
    if (!hit(v)) return v;
    if (target.sub === undefined) return isObject(value) ? { ...(v as Json), ...value } : value;
    return { ...(v as Json), [keyIn(v as Json, target.sub)]: value };
  });
}

function applyAtPath(doc: Json, path: string, op: Op, value: unknown): void {
  const target = parsePath(path);
  const container = containerOf(doc, target.schema);
  if (target.filter) return applyToValuePath(container, target, op, value);
  if (target.sub === undefined) return op === 'remove' ? removeAt(container, target.attr, value) : put(container, target.attr, op, value);
  const parentKey = keyIn(container, target.attr);
  if (!isObject(container[parentKey])) {
    if (op === 'remove') return;
    container[parentKey] = {};
  }
  const parent = container[parentKey] as Json;
  if (op === 'remove') removeAt(parent, target.sub, value);
  else put(parent, target.sub, op, value);
}

/** No path: the value's attributes, each as if named by a path (§3.5.2.1, §3.5.2.3). */
function applyWithoutPath(doc: Json, op: Op, value: unknown): void {
  if (!isObject(value)) throw badRequest('invalidValue', `${op} without a path needs an object value`);
  for (const [name, v] of Object.entries(value)) {
    if (READ_ONLY.has(name.toLowerCase())) continue;
    // A whole extension (`"urn:…:enterprise:2.0:User": {…}`) ends in its version and resource name; a path goes on.
    if (/^urn:.*:\d+\.\d+:[A-Za-z]+$/i.test(name) && isObject(v)) {
      put(doc, name, op, v);
      continue;
    }
    applyAtPath(doc, name, op, v);
  }
}

/** A copy of `resource` with the operations applied, in order. */
export function applyPatch(resource: Json, operations: PatchOperation[]): Json {
  const doc = structuredClone(resource);
  for (const { op, path, value } of operations) {
    if (path === undefined) applyWithoutPath(doc, op, value);
    else applyAtPath(doc, path, op, value);
  }
  return doc;
}
