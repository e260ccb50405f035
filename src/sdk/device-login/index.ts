/**
 * `portcullis/device-login`: sign the user of a stdio MCP server in to your backend with
 * Portcullis, using the device flow (RFC 8628), in a few lines:
 *
 * ```ts
 * const login = addDeviceLogin(server, { issuer: 'https://auth.example.com', clientId: 'my-tool' });
 * server.registerTool('list_notes', {}, async () => {
 *   const res = await fetch(api, { headers: { authorization: `Bearer ${await login.accessToken()}` } });
 *   …
 * });
 * ```
 *
 * Adds the tools `auth_login`, `auth_complete`, `auth_status`, `auth_logout` and `auth_switch` to
 * an MCP SDK server (`McpServer` of `@modelcontextprotocol/server` v2 or `@modelcontextprotocol/sdk`
 * v1), and keeps the tokens in `~/.portcullis/auth.json` (mode 0600, written atomically).
 */
import { z } from 'zod';
import { DeviceLogin, type DeviceLoginOptions } from './session.ts';
import { authTools, type CallToolResult } from './tools.ts';

export { AuthFile, defaultAuthFilePath, type AuthData, type StoredAccount } from './auth-file.ts';
export { DeviceLoginError, isDeviceLoginError, type DeviceLoginCode } from './errors.ts';
export { DeviceLogin, describeAccount, PORTCULLIS_CLI_CLIENT_ID, type AccountView, type ChangeReason, type DeviceLoginOptions, type LoginStatus, type PendingLogin } from './session.ts';
export { AUTH_TOOL_NAMES, authTools, isAuthTool, signInFirstResult, type AuthTool, type CallToolResult } from './tools.ts';
export { discoverFromIssuer, discoverFromMcpUrl, type LoginTarget } from './discovery.ts';

/** The part of an MCP SDK server (v1 or v2 `McpServer`) that the kit uses. */
export interface ToolRegistry {
  registerTool(name: string, config: { title?: string; description?: string; inputSchema?: any }, callback: (args: any, extra: any) => any): unknown;
}

export interface AddDeviceLoginOptions extends Omit<DeviceLoginOptions, 'token'> {
  /** Also accept a token from this environment variable (for CI), instead of the file. */
  tokenEnv?: string;
}

export interface DeviceLoginHandle {
  /** The current access token for your backend calls, refreshed when needed. Throws `not_signed_in` / `signed_out`. */
  accessToken(): Promise<string>;
  /** After your backend answered 401 with `token`: a refreshed token (or `signed_out`). */
  afterUnauthorized(token: string): Promise<string>;
  /** The underlying session (status, switch, logout, change events). */
  login: DeviceLogin;
}

/** Zod versions of the tools' argument schemas (both SDK generations accept zod objects). */
const ZOD_INPUTS: Record<string, z.ZodObject> = {
  auth_login: z.object({}),
  auth_complete: z.object({ wait_seconds: z.number().min(0).max(60).optional().describe('How long to wait for approval (default 20, 0 = check once).') }),
  auth_status: z.object({}),
  auth_logout: z.object({ account: z.string().optional().describe('The account: its id, e-mail address, or organization slug (see auth_status).') }),
  auth_switch: z.object({ account: z.string().optional().describe('The account: its id, e-mail address, or organization slug (see auth_status).') }),
};

export function addDeviceLogin(server: ToolRegistry, options: AddDeviceLoginOptions): DeviceLoginHandle {
  const token = options.tokenEnv ? process.env[options.tokenEnv] || undefined : undefined;
  const login = new DeviceLogin({ ...options, ...(token ? { token } : {}) });
  for (const tool of authTools(login)) {
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: ZOD_INPUTS[tool.name] },
      (args: Record<string, unknown> | undefined): Promise<CallToolResult> => tool.run(args ?? {}),
    );
  }
  return {
    accessToken: () => login.accessToken(),
    afterUnauthorized: (used) => login.afterUnauthorized(used),
    login,
  };
}
