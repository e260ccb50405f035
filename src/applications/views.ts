/**
 * What the admin API and the CLI show of applications and their tools: chosen fields only, with
 * secrets in upstream definitions (extra HTTP headers, stdio environment) masked — an
 * administrator sets them, but they are not read back (screenshots, logs, shoulder surfing).
 * A definition sent back with a masked value keeps the stored value (`restoreMasked`).
 */
import type { ToolRecord, ToolVersion } from '../store/tools.ts';
import type { ApplicationSource, StoredApplication } from '../store/applications.ts';
import type { Application } from '../core/application.ts';
import { parseDefinition } from './registry.ts';
import { resolveApplication } from '../core/application.ts';
import type { StatusReport } from './status.ts';
import { defaultToolScope, parseAnnotations, toolScope } from '../policy/scopes.ts';

export const MASK = '********';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function maskValues(values: unknown): unknown {
  if (!isObject(values)) return values;
  return Object.fromEntries(Object.keys(values).map((k) => [k, MASK]));
}

/** The definition with upstream header and environment values replaced by the mask. */
export function maskDefinition(definition: unknown): unknown {
  if (!isObject(definition) || !isObject(definition.upstream)) return definition;
  const upstream = { ...definition.upstream };
  if ('headers' in upstream) upstream.headers = maskValues(upstream.headers);
  if ('env' in upstream) upstream.env = maskValues(upstream.env);
  return { ...definition, upstream };
}

/** In an edited definition, masked header/env values take the stored ones (same name, same kind of upstream). */
export function restoreMasked(edited: unknown, stored: unknown): unknown {
  if (!isObject(edited) || !isObject(edited.upstream) || !isObject(stored) || !isObject(stored.upstream)) return edited;
  const upstream = { ...edited.upstream };
  for (const field of ['headers', 'env'] as const) {
    const now = upstream[field];
    const before = stored.upstream[field];
    if (!isObject(now)) continue;
    upstream[field] = Object.fromEntries(
      Object.entries(now).map(([k, v]) => [k, v === MASK && isObject(before) && typeof before[k] === 'string' ? before[k] : v]),
    );
  }
  return { ...edited, upstream };
}

/** One line saying where requests go. */
export function upstreamSummary(app: Application): string {
  const upstream = app.upstream;
  if ('builtin' in upstream) return `built-in (${upstream.builtin})`;
  if ('url' in upstream) return upstream.url;
  return `stdio: ${[upstream.command, ...upstream.args].join(' ')}`;
}

export function isReadOnly(source: ApplicationSource): boolean {
  return source !== 'api';
}

/** A stored application resolved against the public URL; undefined when its definition no longer parses. */
export function resolveStored(stored: StoredApplication, publicUrl: string): Application | undefined {
  try {
    return resolveApplication(parseDefinition(JSON.parse(stored.definition)), publicUrl);
  } catch {
    return undefined;
  }
}

const iso = (seconds: number | null) => (seconds === null ? null : new Date(seconds * 1000).toISOString());

export function applicationSummary(app: Application, source: ApplicationSource, status: StatusReport) {
  return {
    slug: app.slug,
    name: app.name,
    path: app.path,
    url: app.resource,
    source,
    readOnly: isReadOnly(source),
    upstream: upstreamSummary(app),
    status: status.status,
    tools: { total: status.tools.total, needsReview: status.tools.needsReview.length },
  };
}

export function applicationDetail(app: Application, stored: StoredApplication, status: StatusReport) {
  let definition: unknown;
  try {
    definition = maskDefinition(JSON.parse(stored.definition));
  } catch {
    definition = null;
  }
  return {
    ...applicationSummary(app, stored.source, status),
    /** The organization that manages it; null: server-wide. */
    orgId: stored.orgId ?? null,
    scopes: app.scopes,
    defaultScopes: app.defaultScopes,
    autoApprove: app.autoApprove,
    createdAt: iso(stored.createdAt),
    updatedAt: iso(stored.updatedAt),
    definition,
    statusDetail: statusView(status),
  };
}

export function statusView(status: StatusReport) {
  return {
    slug: status.slug,
    status: status.status,
    reason: status.reason,
    tools: status.tools,
    selfTest: status.selfTest && { ...status.selfTest, ranAt: iso(status.selfTest.ranAt) },
  };
}

/** A manifest entry as a reviewer sees it: what the model is told, the scope it needs, who approved it. */
export function toolView(app: Application, tool: ToolRecord) {
  const annotations = parseAnnotations(tool.annotations);
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    annotations: parsedJson(tool.annotations),
    inputSchema: parsedJson(tool.inputSchema),
    outputSchema: parsedJson(tool.outputSchema),
    scope: toolScope(app, tool.name, annotations),
    /** The MCP-annotation default (policy/scopes.ts), what `scope` is unless the definition names one. */
    defaultScope: defaultToolScope(app.slug, annotations),
    status: tool.status,
    /** Send it with an approval to approve exactly this version. */
    fingerprint: tool.fingerprint,
    /** The version last approved, when it differs from this one (null when unchanged or never approved). */
    approved: tool.approved && tool.approvedFingerprint !== tool.fingerprint ? versionView(tool.approved) : null,
    firstSeenAt: iso(tool.firstSeenAt),
    lastSeenAt: iso(tool.lastSeenAt),
    reviewedAt: iso(tool.reviewedAt),
    reviewedBy: tool.reviewedBy,
  };
}

export type ToolView = ReturnType<typeof toolView>;

/** Kept JSON text (schemas, annotations) as the value it holds; null when absent or unreadable. */
function parsedJson(text: string | null): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function versionView(version: ToolVersion) {
  return {
    title: version.title,
    description: version.description,
    annotations: parsedJson(version.annotations),
    inputSchema: parsedJson(version.inputSchema),
    outputSchema: parsedJson(version.outputSchema),
  };
}
