/**
 * The five sign-in tools, framework-free: name, description, JSON Schema of the arguments, and a
 * handler returning an MCP `CallToolResult`. The bridge serves them with the low-level server;
 * `addDeviceLogin` registers them on an MCP SDK server.
 *
 * Every answer has a human sentence (`content`) for the model to relay, and the same facts in
 * `structuredContent` with a `status` (and on failure the stable `code`). Failures are tool
 * results with `isError` (MCP "Error Handling": errors the model can act on), never protocol errors.
 */
import { isDeviceLoginError } from './errors.ts';
import { describeAccount, type AccountView, type DeviceLogin, type LoginStatus, type PendingLogin } from './session.ts';

export interface CallToolResult {
  [key: string]: unknown;
  content: Array<{ type: 'text'; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface AuthTool {
  name: string;
  title: string;
  description: string;
  /** JSON Schema (draft 2020-12) of the arguments. */
  inputSchema: { type: 'object'; properties: Record<string, unknown>; additionalProperties?: boolean };
  run(args: Record<string, unknown>): Promise<CallToolResult>;
}

export const AUTH_TOOL_NAMES = ['auth_login', 'auth_complete', 'auth_status', 'auth_logout', 'auth_switch'] as const;

export function isAuthTool(name: string): boolean {
  return (AUTH_TOOL_NAMES as readonly string[]).includes(name);
}

function result(text: string, structured: Record<string, unknown>, isError = false): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured, ...(isError ? { isError: true } : {}) };
}

/** A failure as a tool result with its stable code. */
export function errorResult(err: unknown): CallToolResult {
  if (isDeviceLoginError(err)) return result(err.message, { status: 'error', code: err.code, message: err.message, ...err.detail }, true);
  return result(`sign-in failed: ${err instanceof Error ? err.message : String(err)}`, { status: 'error', code: 'server_error' }, true);
}

function accountFacts(view: AccountView): Record<string, unknown> {
  return {
    account: view.account,
    user: view.user,
    ...(view.org ? { org: view.org } : {}),
    ...(view.workspaces ? { workspaces: view.workspaces } : {}),
    expires_at: new Date(view.expiresAt * 1000).toISOString(),
  };
}

function signedInText(view: AccountView, server: string): string {
  const workspaces = view.workspaces?.length ? ` Workspaces: ${view.workspaces.map((w) => w.name ?? w.id).join(', ')}.` : '';
  return `Signed in to ${server} as ${describeAccount(view)}.${workspaces}`;
}

/** The message a non-auth tool gives before sign-in. */
export function signInFirstResult(server: string, code: 'not_signed_in' | 'signed_out' = 'not_signed_in', reason?: string): CallToolResult {
  const why = reason ?? (code === 'signed_out' ? `You have been signed out of ${server}.` : `You are not signed in to ${server}.`);
  return result(`${why} Call the auth_login tool, open the link it gives and enter the code, then call auth_complete.`, { status: 'error', code, server }, true);
}

const ACCOUNT_ARG = { type: 'string', description: 'The account: its id, e-mail address, or organization slug (see auth_status).' };

/** `auth_login`: start the device flow (RFC 8628 §3.1) and hand the link and code to the model to show. */
function loginTool(login: DeviceLogin): AuthTool {
  return {
    name: 'auth_login',
    title: 'Sign in',
    description:
      'Start signing in to the MCP server with a code (OAuth device flow). Returns a link and a short code: show both to the user, who opens the link in a browser, signs in and enters the code. Then call auth_complete.',
    inputSchema: { type: 'object', properties: {} },
    run: async () => pendingResult(await login.start()),
  };
}

function pendingResult(pending: PendingLogin): CallToolResult {
  const url = pending.verificationUriComplete ?? pending.verificationUri;
  const minutes = Math.max(1, Math.round(pending.expiresIn / 60));
  return result(
    `To sign in, open ${url} and confirm the code ${pending.userCode} (it expires in ${minutes} minutes).${pending.browserOpened ? ' A browser window was opened.' : ''} Then call auth_complete.`,
    {
      status: 'pending',
      verification_uri: pending.verificationUri,
      ...(pending.verificationUriComplete ? { verification_uri_complete: pending.verificationUriComplete } : {}),
      user_code: pending.userCode,
      expires_in: pending.expiresIn,
      browser_opened: pending.browserOpened,
    },
  );
}

/** `auth_complete`: poll the token endpoint (RFC 8628 §3.4) for a while; still pending is an answer too. */
function completeTool(login: DeviceLogin): AuthTool {
  return {
    name: 'auth_complete',
    title: 'Finish signing in',
    description: 'Finish the sign-in started by auth_login, once the user has entered the code. Waits briefly for approval; answers signed_in (with the user and organization), pending (call again), or an error (expired, denied).',
    inputSchema: {
      type: 'object',
      properties: { wait_seconds: { type: 'number', minimum: 0, maximum: 60, description: 'How long to wait for approval (default 20, 0 = check once).' } },
    },
    run: async (args) => {
      const wait = typeof args.wait_seconds === 'number' && Number.isFinite(args.wait_seconds) ? Math.min(60, Math.max(0, args.wait_seconds)) : 20;
      const view = await login.complete(wait);
      if (view) return result(signedInText(view, login.server), { status: 'signed_in', server: login.server, ...accountFacts(view) });
      const pending = (await login.status()).pending;
      return result(`Not approved yet. Ask the user to open the link and confirm the code${pending ? ` ${pending.userCode}` : ''}, then call auth_complete again.`, {
        status: 'pending',
        ...(pending ? { user_code: pending.userCode, expires_in: pending.expiresIn } : {}),
      });
    },
  };
}

function statusTool(login: DeviceLogin): AuthTool {
  return {
    name: 'auth_status',
    title: 'Sign-in status',
    description: 'Who is signed in to the MCP server, for which organization, until when; and the other signed-in accounts.',
    inputSchema: { type: 'object', properties: {} },
    run: async () => statusResult(await login.status()),
  };
}

function statusResult(status: LoginStatus): CallToolResult {
  const facts: Record<string, unknown> = {
    status: status.signedIn ? 'signed_in' : status.pending ? 'pending' : 'signed_out',
    server: status.server,
    source: status.source,
    accounts: status.accounts.map((a) => ({ ...accountFacts(a), current: a.current })),
  };
  if (status.current) Object.assign(facts, accountFacts(status.current));
  if (status.source === 'environment') return result(`Using the token from PORTCULLIS_TOKEN for ${status.server}.`, facts);
  if (!status.current) return result(`Not signed in to ${status.server}. Call auth_login to sign in.`, facts);
  const others = status.accounts.length > 1 ? ` Other accounts: ${status.accounts.filter((a) => !a.current).map(describeAccount).join('; ')} (auth_switch).` : '';
  return result(`${signedInText(status.current, status.server)} The access token expires at ${new Date(status.current.expiresAt * 1000).toISOString()} and is renewed automatically.${others}`, facts);
}

/** `auth_logout`: revoke at the server (RFC 7009) and forget here; the tokens go even if revocation fails. */
function logoutTool(login: DeviceLogin): AuthTool {
  return {
    name: 'auth_logout',
    title: 'Sign out',
    description: 'Sign out of the MCP server: revokes the tokens at the server and removes them from this computer. Signs out the current account unless another is named.',
    inputSchema: { type: 'object', properties: { account: ACCOUNT_ARG } },
    run: async (args) => {
      const { removed, revoked, current } = await login.logout(typeof args.account === 'string' && args.account ? args.account : undefined);
      if (!removed) return result(`Not signed in to ${login.server}.`, { status: 'signed_out', server: login.server });
      const next = current ? ` Now using ${describeAccount(current)}.` : '';
      return result(`Signed out ${describeAccount(removed)}${revoked ? '' : ' (the server could not confirm the revocation; the tokens were removed here)'}.${next}`, {
        status: current ? 'signed_in' : 'signed_out',
        server: login.server,
        removed: removed.account,
        revoked,
        ...(current ? { current: current.account } : {}),
      });
    },
  };
}

function switchTool(login: DeviceLogin): AuthTool {
  return {
    name: 'auth_switch',
    title: 'Switch account',
    description: 'Use another account that is signed in to this MCP server (see auth_status for the list).',
    inputSchema: { type: 'object', properties: { account: ACCOUNT_ARG }, additionalProperties: false },
    run: async (args) => {
      if (typeof args.account !== 'string' || !args.account) return nameAnAccountResult(await login.status());
      const view = login.switchTo(args.account);
      return result(`Now using ${describeAccount(view)}.`, { status: 'signed_in', server: login.server, ...accountFacts(view) });
    },
  };
}

/** `auth_switch` without an account: the accounts there are to choose from. */
function nameAnAccountResult(status: LoginStatus): CallToolResult {
  return result(`Name the account to use: ${status.accounts.map((a) => `${a.account} (${describeAccount(a)})`).join('; ') || 'none is signed in'}.`, {
    status: 'error',
    code: 'unknown_account',
    accounts: status.accounts.map((a) => accountFacts(a)),
  }, true);
}

/** In AUTH_TOOL_NAMES order. */
const TOOLS: readonly ((login: DeviceLogin) => AuthTool)[] = [loginTool, completeTool, statusTool, logoutTool, switchTool];

/** The five tools on one session; a failure is a tool result with its stable code, never a thrown error. */
export function authTools(login: DeviceLogin): AuthTool[] {
  return TOOLS.map((make) => {
    const tool = make(login);
    const run = tool.run;
    return {
      ...tool,
      run: async (args: Record<string, unknown>) => {
        try {
          return await run(args);
        } catch (err) {
          return errorResult(err);
        }
      },
    };
  });
}
