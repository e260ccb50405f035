/**
 * What an unknown URL answers. A person's browser (its navigations send `Accept: text/html…`,
 * WHATWG Fetch §4.1 "navigate" defaults) gets the console's "Not found" page, with a way home;
 * every API caller — the admin API, SCIM, OAuth endpoints, well-known documents, anything not
 * asking for HTML — keeps the JSON error it parses (RFC 9110 §12: the answer follows Accept).
 */
import type { WebContext, WebDeps } from '../web/pages.ts';
import { notFound } from './account/layout.ts';

/** Paths below the base whose callers are programs, whatever they send in Accept. */
const API_PREFIXES = ['/admin/api', '/scim/', '/oauth/', '/.well-known/', '/mcp'];

export function wantsPage(deps: WebDeps, c: WebContext): boolean {
  const path = new URL(c.req.url).pathname.slice(deps.base.length);
  if (API_PREFIXES.some((prefix) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`))) return false;
  return /\btext\/html\b/i.test(c.req.header('accept') ?? '');
}

export function unknownUrl(deps: WebDeps, c: WebContext): Response {
  return wantsPage(deps, c) ? notFound(deps, c) : c.json({ error: 'not_found' }, 404);
}
