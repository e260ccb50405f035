/**
 * The two protocol eras the bridge serves over HTTP, in front of one process that speaks a legacy
 * revision over stdio (MCP 2026-07-28, "Versioning and Compatibility"):
 *
 * - legacy (2024-11-05 … 2025-11-25): the client opens a session with `initialize`. The process was
 *   initialized once, by the bridge; the client's `initialize` is answered from that cached result
 *   with the version negotiated per 2025-11-25 "Lifecycle" §Version Negotiation.
 * - modern (2026-07-28): no handshake; every request carries its version and capabilities in
 *   `_meta`. The bridge answers `server/discover` itself from the cached initialize result,
 *   removes the envelope before the legacy process sees the request, and gives each result what a
 *   modern client requires of it (`resultType`, and `ttlMs` / `cacheScope` on cacheable results,
 *   SEP-2549).
 *
 * Not bridged: a process that speaks only the modern revision on stdio (the bridge always opens
 * the process with `initialize`, which such a process refuses).
 */
import { isObject, type JsonRpcRequest } from '../../jsonrpc.ts';

/** Legacy revisions, oldest first. */
export const LEGACY_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'] as const;
export const LATEST_LEGACY_VERSION = '2025-11-25';
/** Modern revisions the bridge serves. */
export const MODERN_VERSIONS = ['2026-07-28'] as const;

/** `_meta` keys of the 2026-07-28 request envelope (basic/index "_meta"). */
export const ENVELOPE = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
} as const;
const SERVER_INFO_META = 'io.modelcontextprotocol/serverInfo';

/** 2026-07-28 `UnsupportedProtocolVersionError`. */
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** What the process said when the bridge initialized it. */
export interface ProcessInit {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  serverInfo: Record<string, unknown>;
  instructions?: string;
}

export function isLegacyVersion(version: unknown): version is string {
  return typeof version === 'string' && (LEGACY_VERSIONS as readonly string[]).includes(version);
}

/**
 * The version to answer a client's `initialize` with. The process speaks `processVersion`; the
 * HTTP side of every legacy revision is the bridge's own, and what a process says on stdio only
 * grows from one legacy revision to the next (new optional fields and methods), so a client asking
 * for a known revision no newer than the process's gets that revision. Anything else gets the
 * process's version, and the client decides whether it can speak it (2025-11-25 "Lifecycle").
 */
export function negotiateVersion(requested: unknown, processVersion: string): string {
  if (isLegacyVersion(requested) && isLegacyVersion(processVersion) && requested <= processVersion) return requested;
  return processVersion;
}

/** The client's `initialize` answer, from the process's cached one. */
export function initializeResult(init: ProcessInit, version: string): Record<string, unknown> {
  const result: Record<string, unknown> = { protocolVersion: version, capabilities: init.capabilities, serverInfo: init.serverInfo };
  if (init.instructions !== undefined) result.instructions = init.instructions;
  return result;
}

/** The modern version a message claims through its `_meta` envelope, if it carries one. */
export function envelopeVersion(message: unknown): string | undefined {
  if (!isObject(message) || !isObject(message.params) || !isObject(message.params._meta)) return undefined;
  const version = message.params._meta[ENVELOPE.protocolVersion];
  return typeof version === 'string' ? version : undefined;
}

export function isModernVersion(version: string): boolean {
  return (MODERN_VERSIONS as readonly string[]).includes(version);
}

/** The capabilities a modern request declares (what the client can do for this one request). */
export function envelopeCapabilities(message: JsonRpcRequest): Record<string, unknown> {
  const meta = isObject(message.params) && isObject(message.params._meta) ? message.params._meta : {};
  const caps = meta[ENVELOPE.clientCapabilities];
  return isObject(caps) ? caps : {};
}

/** A copy of `meta` without the envelope keys (a legacy process has no use for them). */
export function withoutEnvelope(meta: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...meta };
  for (const key of Object.values(ENVELOPE)) delete rest[key];
  return rest;
}

/** Server capabilities a 2026-07-28 `DiscoverResult` may carry. */
const MODERN_CAPABILITIES = ['experimental', 'logging', 'completions', 'prompts', 'resources', 'tools', 'extensions'];

/** `server/discover` (2026-07-28 server/discover), answered from the cached initialize result. */
export function discoverResult(init: ProcessInit): Record<string, unknown> {
  const capabilities = Object.fromEntries(Object.entries(init.capabilities).filter(([key]) => MODERN_CAPABILITIES.includes(key)));
  const result: Record<string, unknown> = {
    resultType: 'complete',
    supportedVersions: [...MODERN_VERSIONS],
    capabilities,
    // What the gateway shows depends on the caller's token: never cache it for others.
    ttlMs: 0,
    cacheScope: 'private',
    _meta: { [SERVER_INFO_META]: init.serverInfo },
  };
  if (init.instructions !== undefined) result.instructions = init.instructions;
  return result;
}

/** Methods whose 2026-07-28 results are `CacheableResult`s (`ttlMs` and `cacheScope` required). */
const CACHEABLE = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read', 'server/discover']);

/** A legacy result as a modern client must receive it. */
export function modernResult(method: string, result: unknown, serverInfo: Record<string, unknown>): unknown {
  if (!isObject(result)) return result;
  const out: Record<string, unknown> = { ...result };
  if (typeof out.resultType !== 'string') out.resultType = 'complete';
  if (CACHEABLE.has(method) || 'cacheScope' in out) {
    // What a caller gets through the gateway depends on its token (lists are filtered for it,
    // reads allowed for it): private, whatever the process said — a list filtered for one caller
    // must not be shared across tokens (2026-07-28, SEP-2549). A ttlMs the process set is kept;
    // none means "do not reuse".
    if (typeof out.ttlMs !== 'number' && CACHEABLE.has(method)) out.ttlMs = 0;
    out.cacheScope = 'private';
  }
  const meta = isObject(out._meta) ? { ...out._meta } : {};
  if (meta[SERVER_INFO_META] === undefined) meta[SERVER_INFO_META] = serverInfo;
  out._meta = meta;
  return out;
}
