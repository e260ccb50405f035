/**
 * `portcullis connect <mcp-url>`: a local stdio MCP server for clients that only speak stdio. It
 * forwards everything to the remote MCP server (normally a Portcullis gateway) over Streamable
 * HTTP with the user's token, and adds the five sign-in tools of the device-login kit.
 *
 * - Local side: `serveStdio` of the v2 server SDK, which serves both protocol eras on stdio — a
 *   2025 client opens with `initialize`, a 2026-07-28 client with `server/discover` and a `_meta`
 *   envelope on every request — from one factory; list-changed notifications reach a modern client
 *   through its `subscriptions/listen` stream.
 * - Remote side: a v2 SDK client in the 2025 era (sessions; server-to-client requests arrive on
 *   SSE and are relayed to the local client), connected once signed in, with a fetch that adds the
 *   bearer token, refreshes it before expiry and once on a 401.
 * - Before sign-in `tools/list` has only the auth tools, and any other tool answers how to sign in;
 *   a sign-in, switch, logout or a refused refresh sends `notifications/tools/list_changed`.
 * - `PORTCULLIS_TOKEN` (access token or API key) replaces the token file; it is never printed.
 * - stdout is the protocol: every log line goes to stderr.
 */
import { Client } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { ProtocolError, Server } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';
import { DeviceLogin, describeAccount, type ChangeReason } from '../sdk/device-login/session.ts';
import { authTools, errorResult, isAuthTool, signInFirstResult, type AuthTool } from '../sdk/device-login/tools.ts';
import { DeviceLoginError, isDeviceLoginError } from '../sdk/device-login/errors.ts';
import { parseCommand, usageError } from './args.ts';
import type { CommandRun } from './context.ts';

const HELP = `Usage: portcullis connect <mcp-url> [options]

A local stdio MCP server for clients that only speak stdio: forwards everything to the MCP server
at <mcp-url> with your token, and adds the tools auth_login, auth_complete, auth_status,
auth_logout and auth_switch to sign in with a code shown in your browser.

Options:
  --client-id ID      OAuth client id (default: portcullis-cli, pre-registered on Portcullis servers)
  --scope SCOPES      scopes to ask for at sign-in (space-separated; default: the server's defaults)
  --auth-file PATH    token file (default: PORTCULLIS_AUTH_FILE, else ~/.portcullis/auth.json)

Environment:
  PORTCULLIS_TOKEN       an access token or API key (pcs_…) to use instead of signing in (CI)
  PORTCULLIS_NO_BROWSER  set to 1 to never open a browser
`;

const OPTIONS = {
  'client-id': { type: 'string' },
  scope: { type: 'string' },
  'auth-file': { type: 'string' },
} as const;

/** What the bridge promises before it knows the remote server: a superset of what a gateway serves. */
const LOCAL_CAPABILITIES = {
  tools: { listChanged: true },
  resources: { listChanged: true, subscribe: true },
  prompts: { listChanged: true },
  logging: {},
  completions: {},
};

const anyResult = z.looseObject({});

/** Parse an MCP URL given on the command line: http(s) only, no credentials in it. */
export function parseMcpUrl(raw: string, command: string): string {
  const url = URL.parse(raw);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw usageError(`not an http(s) URL: ${raw}`, command);
  if (url.username || url.password) throw usageError('the URL must not contain credentials', command);
  return url.href;
}

/** Options shared by connect and login: the kit's session from the command line and environment. */
export function loginFromOptions(mcpUrl: string, values: { 'client-id'?: string; scope?: string; 'auth-file'?: string }, env: NodeJS.ProcessEnv): DeviceLogin {
  return new DeviceLogin({
    mcpUrl,
    ...(values['client-id'] ? { clientId: values['client-id'] } : {}),
    ...(values.scope ? { scope: values.scope } : {}),
    ...(values['auth-file'] ? { authFile: values['auth-file'] } : {}),
    ...(env.PORTCULLIS_TOKEN ? { token: env.PORTCULLIS_TOKEN } : {}),
  });
}

export const connect: CommandRun = async (argv, io) => {
  const parsed = parseCommand({ name: 'connect', help: HELP, options: OPTIONS, positionals: { min: 1, max: 1, names: '<mcp-url>' } }, argv, io.stdout);
  if (!parsed) return 0;
  const mcpUrl = parseMcpUrl(parsed.positionals[0]!, 'connect');
  const login = loginFromOptions(mcpUrl, parsed.values, process.env);
  const log = (line: string) => io.stderr.write(`portcullis connect: ${line}\n`);
  const bridge = new Bridge(login, mcpUrl, log);
  const handle = serveStdio(({ era }) => bridge.localServer(era), { onerror: (err) => log(`stdio: ${err.message}`) });
  log(`serving ${mcpUrl} on stdio${login.usesEnvironmentToken ? ' with the token from PORTCULLIS_TOKEN' : ''}`);
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
  });
  await handle.close().catch(() => {});
  await bridge.close();
  return 0;
};

/** The relay between one local stdio client and the remote MCP server. */
export class Bridge {
  readonly #login: DeviceLogin;
  readonly #mcpUrl: string;
  readonly #log: (line: string) => void;
  readonly #tools: AuthTool[];
  /** The local server instance serveStdio pinned (the latest one it built). */
  #local: Server | undefined;
  #remote: Promise<Client> | undefined;
  /** Set when the tokens stopped working, so the next non-auth call says "signed out", not "not signed in". */
  #signedOutReason: string | undefined;
  /** Why the token file could not be used (insecure, corrupt), to say so instead of "not signed in". */
  #fileProblem: DeviceLoginError | undefined;
  /** The server answered 401 to PORTCULLIS_TOKEN (it cannot be renewed: the user must replace it). */
  #environmentTokenRefused = false;

  constructor(login: DeviceLogin, mcpUrl: string, log: (line: string) => void) {
    this.#login = login;
    this.#mcpUrl = mcpUrl;
    this.#log = log;
    this.#tools = authTools(login);
    login.onChange((reason) => this.#changed(reason));
  }

  #changed(reason: ChangeReason): void {
    if (reason === 'signed_out') {
      this.#signedOutReason = `You have been signed out of ${this.#mcpUrl} (the server no longer accepts the sign-in: revoked or expired).`;
      this.#log('signed out: the server refused to renew the sign-in');
    } else {
      this.#signedOutReason = undefined;
      this.#log(reason === 'signed_in' ? 'signed in' : reason === 'switched' ? 'switched account' : 'logged out');
    }
    // Another account (or none) means another remote session and another set of tools.
    void this.#closeRemote();
    void this.#local?.sendToolListChanged().catch(() => {});
  }

  localServer(_era: 'legacy' | 'modern'): Server {
    const server = new Server({ name: 'portcullis-connect', version: '1.0.0' }, { capabilities: LOCAL_CAPABILITIES });
    this.#local = server;
    server.setRequestHandler('tools/list', async (request) => {
      const cursor = request.params?.cursor;
      const own = cursor ? [] : this.#tools.map(({ name, title, description, inputSchema }) => ({ name, title, description, inputSchema }));
      const remote = await this.#remoteOrUndefined();
      if (!remote) return { tools: own } as never;
      try {
        const listed = await remote.listTools(cursor ? { cursor } : undefined);
        return { ...listed, tools: [...own, ...listed.tools.filter((tool) => !isAuthTool(tool.name))] } as never;
      } catch (err) {
        if (await this.#signedOut(err)) return { tools: own } as never;
        throw this.#asProtocolError(err);
      }
    });
    server.setRequestHandler('tools/call', async (request, ctx) => {
      const { name } = request.params;
      const own = this.#tools.find((tool) => tool.name === name);
      if (own) return (await own.run(request.params.arguments ?? {})) as never;
      const remote = await this.#remoteOrUndefined();
      if (!remote) return this.#signInFirst() as never;
      const progressToken = ctx.mcpReq._meta?.progressToken;
      // Progress goes to the remote under a token of ours and comes back through #relayProgress,
      // not the SDK's onprogress: the SDK hands notifications to handlers a microtask late and
      // forgets a request's progress handler as soon as its answer arrives, so a last progress
      // arriving together with the answer was dropped. Relayed notifications are awaited before
      // the answer goes out, so the local client sees them first.
      const relay = progressToken === undefined ? undefined : { token: `bridge-${++this.#progressCounter}`, progressToken, notify: ctx.mcpReq.notify, sent: Promise.resolve() as Promise<unknown> };
      if (relay) this.#progressRelays.set(relay.token, relay);
      try {
        const params = relay ? { ...request.params, _meta: { ...request.params._meta, progressToken: relay.token } } : request.params;
        const result = await remote.callTool(params, { signal: ctx.mcpReq.signal });
        if (relay) await relay.sent;
        return result as never;
      } catch (err) {
        if (this.#environmentTokenRefused || (await this.#signedOut(err))) return this.#signInFirst() as never;
        const status = (err as { status?: number; data?: { status?: number } }).status ?? (err as { data?: { status?: number } }).data?.status;
        if (status === 403) {
          return { content: [{ type: 'text', text: `${name}: your account may not use this tool (the server answered 403 insufficient_scope).` }], structuredContent: { status: 'error', code: 'insufficient_scope' }, isError: true } as never;
        }
        throw this.#asProtocolError(err);
      } finally {
        if (relay) this.#progressRelays.delete(relay.token);
      }
    });
    server.fallbackRequestHandler = async (request, ctx) => {
      const remote = await this.#remoteOrUndefined();
      if (!remote) {
        // Empty lists rather than errors: a client lists everything right after connecting.
        if (request.method === 'resources/list') return { resources: [] };
        if (request.method === 'resources/templates/list') return { resourceTemplates: [] };
        if (request.method === 'prompts/list') return { prompts: [] };
        if (request.method === 'logging/setLevel' || request.method === 'ping') return {};
        throw new ProtocolError(-32001, `not signed in to ${this.#mcpUrl}: call the auth_login tool`, { code: 'not_signed_in' });
      }
      try {
        return await remote.request({ method: request.method, params: request.params as Record<string, unknown> | undefined }, anyResult, { signal: ctx.mcpReq.signal });
      } catch (err) {
        if (await this.#signedOut(err)) throw new ProtocolError(-32001, `signed out of ${this.#mcpUrl}: call the auth_login tool`, { code: 'signed_out' });
        throw this.#asProtocolError(err);
      }
    };
    server.fallbackNotificationHandler = async (notification) => {
      // Cancellation of relayed requests travels through the abort signals above.
      if (notification.method === 'notifications/cancelled' || notification.method === 'notifications/initialized') return;
      const remote = await this.#remote?.catch(() => undefined);
      await remote?.notification(notification as never).catch(() => {});
    };
    return server;
  }

  #signInFirst() {
    if (this.#environmentTokenRefused) {
      return errorResult(new DeviceLoginError('signed_out', `the server at ${this.#mcpUrl} refused the token in PORTCULLIS_TOKEN (expired or revoked); replace it, or unset it and call auth_login`));
    }
    if (this.#fileProblem) return errorResult(this.#fileProblem);
    return this.#signedOutReason ? signInFirstResult(this.#mcpUrl, 'signed_out', this.#signedOutReason) : signInFirstResult(this.#mcpUrl);
  }

  /** Whether `err` came from the tokens no longer working (the user is now signed out). */
  async #signedOut(err: unknown): Promise<boolean> {
    if (isDeviceLoginError(err)) return true;
    try {
      await this.#login.accessToken();
      return false;
    } catch (cause) {
      if (isDeviceLoginError(cause) && (cause.code === 'not_signed_in' || cause.code === 'signed_out')) return true;
      return false;
    }
  }

  #asProtocolError(err: unknown): Error {
    if (err instanceof ProtocolError) return err;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') return new ProtocolError(code, (err as Error).message, (err as { data?: unknown }).data);
    this.#log(`remote: ${err instanceof Error ? err.message : String(err)}`);
    return new ProtocolError(-32603, `the MCP server at ${this.#mcpUrl} could not be reached or answered with an error`);
  }

  /** The remote client when signed in (connected on first use), else undefined. */
  async #remoteOrUndefined(): Promise<Client | undefined> {
    if (this.#environmentTokenRefused) return undefined;
    try {
      await this.#login.accessToken();
      this.#fileProblem = undefined;
    } catch (err) {
      if (!isDeviceLoginError(err)) throw err;
      this.#fileProblem = err.code === 'auth_file_corrupt' || err.code === 'auth_file_insecure' ? err : undefined;
      return undefined;
    }
    this.#remote ??= this.#connectRemote().catch((err: unknown) => {
      this.#remote = undefined;
      throw err;
    });
    try {
      return await this.#remote;
    } catch (err) {
      if (this.#environmentTokenRefused || (await this.#signedOut(err))) return undefined;
      throw this.#asProtocolError(err);
    }
  }

  #progressCounter = 0;
  readonly #progressRelays = new Map<string, { progressToken: string | number; notify: (notification: never) => Promise<void>; sent: Promise<unknown> }>();

  /** A remote progress notification, back under the local client's own token, in order. */
  #relayProgress(params: Record<string, unknown>): void {
    const relay = this.#progressRelays.get(String(params.progressToken));
    if (!relay) return;
    const notification = { method: 'notifications/progress', params: { ...params, progressToken: relay.progressToken } };
    relay.sent = relay.sent.then(() => relay.notify(notification as never)).catch(() => {});
  }

  async #connectRemote(): Promise<Client> {
    const local = this.#local;
    const clientCapabilities = local?.getClientCapabilities() ?? {};
    const clientInfo = local?.getClientVersion();
    const client = new Client(
      { name: clientInfo?.name ? `${clientInfo.name} via portcullis connect` : 'portcullis connect', version: clientInfo?.version ?? '1.0.0' },
      { capabilities: clientCapabilities },
    );
    // Server-to-client requests (sampling, elicitation, roots) go to the local client.
    client.fallbackRequestHandler = async (request) => {
      if (!this.#local) throw new ProtocolError(-32601, 'no local client');
      return this.#local.request({ method: request.method, params: request.params as Record<string, unknown> | undefined }, anyResult);
    };
    client.setNotificationHandler('notifications/progress', (notification) => this.#relayProgress(notification.params as Record<string, unknown>));
    // Notifications (logging, list changes, resource updates) go to the local client as they are.
    client.fallbackNotificationHandler = async (notification) => {
      await this.#local?.notification(notification as never).catch(() => {});
    };
    const transport = new StreamableHTTPClientTransport(new URL(this.#mcpUrl), { fetch: this.#authorizedFetch });
    await client.connect(transport);
    this.#log(`connected to ${this.#mcpUrl}${await this.#who()}`);
    return client;
  }

  async #who(): Promise<string> {
    try {
      const status = await this.#login.status();
      return status.current ? ` as ${describeAccount(status.current)}` : '';
    } catch {
      return '';
    }
  }

  /** fetch with the bearer token; on a 401, one refresh and one retry (the body is a string, so it can be re-sent). */
  readonly #authorizedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const send = (token: string) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    };
    const token = await this.#login.accessToken();
    const response = await send(token);
    if (response.status !== 401) return response;
    let fresh: string;
    try {
      fresh = await this.#login.afterUnauthorized(token);
    } catch (err) {
      if (!isDeviceLoginError(err)) throw err;
      if (this.#login.usesEnvironmentToken && !this.#environmentTokenRefused) {
        this.#environmentTokenRefused = true;
        this.#log('the server refused PORTCULLIS_TOKEN (401)');
        void this.#local?.sendToolListChanged().catch(() => {});
      }
      return response;
    }
    await response.body?.cancel();
    return send(fresh);
  };

  async #closeRemote(): Promise<void> {
    const remote = this.#remote;
    this.#remote = undefined;
    const client = await remote?.catch(() => undefined);
    await client?.close().catch(() => {});
  }

  async close(): Promise<void> {
    await this.#closeRemote();
  }
}
