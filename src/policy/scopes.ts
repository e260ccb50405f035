/**
 * Which scope a tool, resource or prompt needs. Tools: the administrator's assignment, else the
 * MCP annotation defaults — a tool is destructive unless it says otherwise (MCP spec, tool
 * annotations: readOnlyHint defaults to false, destructiveHint to true):
 *   readOnlyHint: true                          → <app>:read
 *   readOnlyHint: false, destructiveHint: false → <app>:write
 *   anything else, including no annotations     → <app>:delete
 */
import type { Application } from '../core/application.ts';
import { toolRule } from './rule.ts';

export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
}

export function defaultToolScope(slug: string, annotations: ToolAnnotations | undefined): string {
  if (annotations?.readOnlyHint === true) return `${slug}:read`;
  if (annotations?.destructiveHint === false) return `${slug}:write`;
  return `${slug}:delete`;
}

export function toolScope(app: Application, name: string, annotations: ToolAnnotations | undefined): string {
  return toolRule(app, name)?.scope ?? defaultToolScope(app.slug, annotations);
}

export function parseAnnotations(json: string | null | undefined): ToolAnnotations | undefined {
  if (!json) return undefined;
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === 'object' && value !== null ? (value as ToolAnnotations) : undefined;
  } catch {
    return undefined;
  }
}

/** A resource URI's scope: an exact entry, else the longest `prefix*` entry; none → no scope needed. */
export function resourceScope(app: Application, uri: string): string | undefined {
  if (Object.hasOwn(app.resources, uri)) return app.resources[uri];
  return coveringPrefixScope(app, uri);
}

/**
 * A resource template's scope (MCP `resources/templates/list`; `uriTemplate` is an RFC 6570 URI
 * template): the scope that every URI the template can expand to needs. Each expansion begins
 * with the template's literal start (the text before its first `{`), so a `prefix*` entry whose
 * prefix that start begins with applies to all of them — the longest such entry, as for a URI.
 * Exact entries and longer prefixes match only some expansions: they do not hide the template
 * (the caller may use it for the others), and reading one of those URIs is judged on its own at
 * `resources/read`. A template without expressions is one URI, judged as a URI.
 */
export function resourceTemplateScope(app: Application, uriTemplate: string): string | undefined {
  const expression = uriTemplate.indexOf('{');
  if (expression === -1) return resourceScope(app, uriTemplate);
  return coveringPrefixScope(app, uriTemplate.slice(0, expression));
}

/** The scope of the longest `prefix*` entry whose prefix `text` begins with. */
function coveringPrefixScope(app: Application, text: string): string | undefined {
  let best: [string, string] | undefined;
  for (const [pattern, scope] of Object.entries(app.resources)) {
    if (!pattern.endsWith('*')) continue;
    const prefix = pattern.slice(0, -1);
    if (text.startsWith(prefix) && (!best || prefix.length > best[0].length)) best = [prefix, scope];
  }
  return best?.[1];
}

export function promptScope(app: Application, name: string): string | undefined {
  return Object.hasOwn(app.prompts, name) ? app.prompts[name] : undefined;
}
