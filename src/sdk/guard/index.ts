/**
 * `portcullis/guard`: protect your own MCP server (or any resource server) with Portcullis tokens.
 * The framework-free core lives here; adapters are separate entry points so an application loads
 * only the one it uses: `portcullis/guard/node`, `portcullis/guard/express`,
 * `portcullis/guard/hono`, `portcullis/guard/mcp` (MCP SDK v2 servers).
 */
export { createGuard, type Guard, type RevocationStatus } from './guard.ts';
export { bearerToken, type AuthResult } from './authenticate.ts';
export type { GuardIdentity, McpAuthInfo } from './identity.ts';
export type { GuardOptions } from './options.ts';
export { TOOL_SCOPE_META, type ListedTool, type ToolDecision } from './tool-scopes.ts';
export type { Challenge } from '../../shared/challenge.ts';
export { GuardError, isGuardError, type GuardErrorCode } from './errors.ts';
export type { DenialCode } from '../../shared/denials.ts';
export type { VerifiedToken } from '../../shared/verify.ts';
export type { Freshness } from './revocation-feed.ts';
