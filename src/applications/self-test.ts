/**
 * An application's self-test: does its PUBLIC gateway URL really protect it? Run from the admin
 * API and from `portcullis apps test`, against the running server over HTTP, as a client would:
 *
 *   no_token          a request without a token → 401 naming `resource_metadata` (RFC 9728 §5.1)
 *   resource_metadata that document answers and names this resource and this issuer (RFC 9728 §3)
 *   garbage_token     `Bearer garbage` → anything but 200 (RFC 6750 §3.1 invalid_token)
 *   other_audience    a valid token for another resource → 401 (RFC 8707: audience = resource)
 *   no_scope_list     a valid token without scopes → `tools/list` shows no tool
 *   no_scope_call     … and `tools/call` of an approved tool → 403 insufficient_scope (RFC 6750 §3.1)
 *   scoped_call       a token with every scope of the application → the request reaches the MCP
 *                     server behind the gateway (it answers `initialize` and `tools/list`)
 *
 * Tokens are minted here, the way the authorization server mints access tokens (RFC 9068: ES256
 * with the active signing key, `typ: at+jwt`, iss/aud/sub/client_id/scope/jti/iat/exp), for a
 * synthetic subject and client, so the test needs no user and works for any application. They
 * live 60 seconds and are never stored.
 *
 * Never checked: that a tool does what it says. The self-test never runs a tool — a tool may
 * change or delete data, and this runs against production. The one `tools/call` it sends is the
 * refused one (no_scope_call), with empty arguments and a read-only tool where there is one: if the
 * gateway wrongly forwarded it, the MCP server sees a call it will most likely reject as invalid.
 */
import type { ToolRecord } from '../store/tools.ts';
import type { SigningKey } from '../signing-keys/key-ring.ts';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { sseParser } from '../shared/sse.ts';
import { resourceMetadataUrl } from '../shared/resource-metadata.ts';
import { parseAnnotations } from '../policy/scopes.ts';
import type { Application } from '../core/application.ts';

export const SELF_TEST_SUBJECT = 'portcullis:self-test';
export const SELF_TEST_CLIENT_ID = 'portcullis-self-test';
const TOKEN_TTL = 60;
const PROTOCOL_VERSION = '2025-06-18';

export type SelfTestCheckName =
  | 'no_token'
  | 'resource_metadata'
  | 'garbage_token'
  | 'other_audience'
  | 'no_scope_list'
  | 'no_scope_call'
  | 'scoped_call';

export const SELF_TEST_CHECKS: readonly SelfTestCheckName[] = [
  'no_token',
  'resource_metadata',
  'garbage_token',
  'other_audience',
  'no_scope_list',
  'no_scope_call',
  'scoped_call',
];

export interface SelfTestCheck {
  name: SelfTestCheckName;
  outcome: 'pass' | 'fail' | 'skip';
  /** What was seen, in a sentence an administrator can act on. */
  detail: string;
}

export interface SelfTestResult {
  slug: string;
  /** The gateway URL tested (the application's resource URL). */
  url: string;
  /** Epoch seconds. */
  ranAt: number;
  /** True when no check failed. */
  passed: boolean;
  checks: SelfTestCheck[];
}

export interface SelfTestOptions {
  /** The application, resolved against the public URL of the server under test. */
  app: Application;
  /** That server's issuer (its public URL). */
  issuer: string;
  /** The active signing key (server/authz-engine.ts signingKey()). */
  signingKey: () => Promise<SigningKey>;
  /** The application's manifest: the refused call is made to one of its approved tools. */
  tools: readonly ToolRecord[];
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** Epoch seconds. */
  now?: () => number;
  fetch?: typeof fetch;
}

// ---------------------------------------------------------------------------------------------
// Tokens

export interface MintOptions {
  issuer: string;
  signingKey: () => Promise<SigningKey>;
  audience: string;
  scopes: readonly string[];
  now: number;
  subject?: string;
  clientId?: string;
}

/** An RFC 9068 access token, as the authorization server would issue it, for the self-test's subject. */
export async function mintSelfTestToken(options: MintOptions): Promise<string> {
  const { key, kid } = await options.signingKey();
  return new SignJWT({
    client_id: options.clientId ?? SELF_TEST_CLIENT_ID,
    scope: options.scopes.join(' '),
    // A sign-in "just now", so tools that need a recent sign-in (step-up) are reachable too.
    auth_time: options.now,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
    .setIssuer(options.issuer)
    .setSubject(options.subject ?? SELF_TEST_SUBJECT)
    .setAudience(options.audience)
    .setIssuedAt(options.now)
    .setExpirationTime(options.now + TOKEN_TTL)
    .setJti(randomUUID())
    .sign(key);
}

// ---------------------------------------------------------------------------------------------
// A minimal Streamable HTTP client (MCP transport spec, 2025-06-18), so every HTTP status is seen

interface Answer {
  status: number;
  headers: Headers;
  /** The JSON-RPC response to our request, when one came (as JSON or inside an SSE stream). */
  message: Record<string, unknown> | undefined;
}

class McpHttp {
  readonly #url: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  #session: string | undefined;
  #protocol: string | undefined;
  #nextId = 1;

  constructor(url: string, token: string | undefined, fetcher: typeof fetch, timeoutMs: number) {
    this.#url = url;
    this.#token = token;
    this.#fetch = fetcher;
    this.#timeoutMs = timeoutMs;
  }

  #headers(): Headers {
    const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' });
    if (this.#token !== undefined) headers.set('authorization', `Bearer ${this.#token}`);
    if (this.#session) headers.set('mcp-session-id', this.#session);
    if (this.#protocol) headers.set('mcp-protocol-version', this.#protocol);
    return headers;
  }

  /** Send one request and read its response (and nothing more of a stream). */
  async request(method: string, params: Record<string, unknown> = {}): Promise<Answer> {
    const id = this.#nextId++;
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const response = await this.#fetch(this.#url, {
      method: 'POST',
      headers: this.#headers(),
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
      signal,
    });
    return { status: response.status, headers: response.headers, message: await readResponse(response, id) };
  }

  async notify(method: string): Promise<void> {
    const response = await this.#fetch(this.#url, {
      method: 'POST',
      headers: this.#headers(),
      body: JSON.stringify({ jsonrpc: '2.0', method }),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    await response.body?.cancel();
  }

  /** initialize + notifications/initialized; returns the initialize answer. */
  async open(): Promise<Answer> {
    const answer = await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'portcullis-self-test', version: '1' },
    });
    const result = resultOf(answer);
    if (answer.status === 200 && result) {
      this.#session = answer.headers.get('mcp-session-id') ?? undefined;
      this.#protocol = typeof result.protocolVersion === 'string' ? result.protocolVersion : PROTOCOL_VERSION;
      await this.notify('notifications/initialized');
    }
    return answer;
  }

  /** End the session, if the server gave one (best effort). */
  async close(): Promise<void> {
    if (!this.#session) return;
    try {
      const response = await this.#fetch(this.#url, { method: 'DELETE', headers: this.#headers(), signal: AbortSignal.timeout(this.#timeoutMs) });
      await response.body?.cancel();
    } catch {
      // The session expires on its own.
    }
  }
}

async function readResponse(response: Response, id: number): Promise<Record<string, unknown> | undefined> {
  const type = response.headers.get('content-type') ?? '';
  if (!response.body) return undefined;
  if (type.startsWith('text/event-stream')) {
    const reader = response.body.pipeThrough(sseParser()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return undefined;
        const message = parseObject(value.data);
        if (message && message.id === id) return message;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
  return parseObject(await response.text());
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function resultOf(answer: Answer): Record<string, unknown> | undefined {
  const result = answer.message?.result;
  return result && typeof result === 'object' ? (result as Record<string, unknown>) : undefined;
}

function errorOf(answer: Answer): string {
  const error = answer.message?.error as { code?: unknown; message?: unknown } | undefined;
  if (error) return `HTTP ${answer.status}, JSON-RPC error ${String(error.code)}${typeof error.message === 'string' ? ` (${error.message})` : ''}`;
  const body = answer.message as { error?: unknown } | undefined;
  return `HTTP ${answer.status}${typeof body?.error === 'string' ? ` ${body.error}` : ''}`;
}

/** Parameters of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3). */
export function challengeParams(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  if (!header || !/^bearer\b/i.test(header)) return params;
  for (const match of header.matchAll(/([\w-]+)="((?:[^"\\]|\\.)*)"/g)) params[match[1]!] = match[2]!.replace(/\\(.)/g, '$1');
  return params;
}

/** Every tools/list page (at most 20), as the token sees them. */
async function listTools(client: McpHttp): Promise<{ answer: Answer; names: string[] }> {
  const names: string[] = [];
  let cursor: string | undefined;
  let answer!: Answer;
  for (let page = 0; page < 20; page++) {
    answer = await client.request('tools/list', cursor ? { cursor } : {});
    const result = resultOf(answer);
    if (answer.status !== 200 || !result || !Array.isArray(result.tools)) return { answer, names };
    for (const tool of result.tools) if (tool && typeof tool === 'object' && typeof (tool as { name?: unknown }).name === 'string') names.push((tool as { name: string }).name);
    cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined;
    if (!cursor) break;
  }
  return { answer, names };
}

/** The approved tool to send the refused call to: one without conditions of its own, read-only first. */
export function probeTool(app: Application, tools: readonly ToolRecord[]): string | undefined {
  const candidates = tools
    .filter((t) => t.status === 'approved')
    .filter((t) => !app.tools[t.name]?.ipAllow && !app.tools[t.name]?.timeWindows)
    .sort((a, b) => a.name.localeCompare(b.name));
  return (candidates.find((t) => parseAnnotations(t.annotations)?.readOnlyHint === true) ?? candidates[0])?.name;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (err.name === 'TimeoutError') return 'no answer in time';
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}

// ---------------------------------------------------------------------------------------------
// The checks

export async function runSelfTest(options: SelfTestOptions): Promise<SelfTestResult> {
  const { app, issuer } = options;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const fetcher = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const url = app.resource;
  const ranAt = now();
  const checks: SelfTestCheck[] = [];
  const check = (name: SelfTestCheckName, outcome: SelfTestCheck['outcome'], detail: string) => checks.push({ name, outcome, detail });
  const mint = (audience: string, scopes: readonly string[]) => mintSelfTestToken({ issuer, signingKey: options.signingKey, audience, scopes, now: now() });
  const session = (token: string | undefined) => new McpHttp(url, token, fetcher, timeoutMs);

  // no_token (and reachability: nothing else can be learnt from a URL that does not answer)
  let metadataUrl: string | undefined;
  try {
    const answer = await session(undefined).request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'portcullis-self-test', version: '1' } });
    metadataUrl = challengeParams(answer.headers.get('www-authenticate')).resource_metadata;
    if (answer.status !== 401) check('no_token', 'fail', `expected 401 without a token, got HTTP ${answer.status}`);
    else if (!metadataUrl) check('no_token', 'fail', '401 without a token, but WWW-Authenticate names no resource_metadata');
    else check('no_token', 'pass', `401 with resource_metadata=${metadataUrl}`);
  } catch (err) {
    check('no_token', 'fail', `${url} could not be reached: ${describe(err)}`);
    for (const name of SELF_TEST_CHECKS.slice(1)) check(name, 'skip', 'the gateway URL could not be reached');
    return { slug: app.slug, url, ranAt, passed: false, checks };
  }

  // resource_metadata
  try {
    const expected = resourceMetadataUrl(url);
    const target = metadataUrl ?? expected;
    const response = await fetcher(target, { signal: AbortSignal.timeout(timeoutMs) });
    const document = response.ok ? parseObject(await response.text()) : (await response.body?.cancel(), undefined);
    const servers = Array.isArray(document?.authorization_servers) ? document.authorization_servers : [];
    if (!document) check('resource_metadata', 'fail', `${target} answered HTTP ${response.status}, not a metadata document`);
    else if (document.resource !== url) check('resource_metadata', 'fail', `${target} names the resource ${String(document.resource)}, not ${url}`);
    else if (!servers.includes(issuer)) check('resource_metadata', 'fail', `${target} does not list the authorization server ${issuer}`);
    else check('resource_metadata', 'pass', `${target} names ${url} and the authorization server ${issuer}`);
  } catch (err) {
    check('resource_metadata', 'fail', `the resource metadata could not be fetched: ${describe(err)}`);
  }

  // garbage_token
  try {
    const answer = await session('garbage').request('tools/list');
    if (answer.status === 200) check('garbage_token', 'fail', '`Bearer garbage` was accepted (HTTP 200)');
    else check('garbage_token', answer.status === 401 ? 'pass' : 'fail', `HTTP ${answer.status} for \`Bearer garbage\`${answer.status === 401 ? '' : ' (expected 401)'}`);
  } catch (err) {
    check('garbage_token', 'fail', `request failed: ${describe(err)}`);
  }

  // other_audience
  try {
    const otherAudience = `${issuer}/portcullis-self-test/another-resource`;
    const token = await mint(otherAudience, app.scopes.map((s) => s.name));
    const answer = await session(token).request('tools/list');
    if (answer.status === 401) check('other_audience', 'pass', `401 for a token whose audience is ${otherAudience}`);
    else check('other_audience', 'fail', `a token for another resource got HTTP ${answer.status} (expected 401)`);
  } catch (err) {
    check('other_audience', 'fail', `request failed: ${describe(err)}`);
  }

  // no_scope_list, no_scope_call
  {
    let client: McpHttp | undefined;
    try {
      client = session(await mint(url, []));
      const opened = await client.open();
      if (opened.status !== 200 || !resultOf(opened)) {
        const reason = `initialize with a token without scopes failed: ${errorOf(opened)}`;
        check('no_scope_list', 'fail', reason);
        check('no_scope_call', 'skip', reason);
      } else {
        const { answer, names } = await listTools(client);
        if (answer.status !== 200 || !resultOf(answer)) check('no_scope_list', 'fail', `tools/list failed: ${errorOf(answer)}`);
        else if (names.length) check('no_scope_list', 'fail', `a token without scopes sees ${names.length} tool(s): ${names.slice(0, 5).join(', ')}`);
        else check('no_scope_list', 'pass', 'tools/list shows no tool to a token without scopes');

        const tool = probeTool(app, options.tools);
        if (!tool) {
          check('no_scope_call', 'skip', 'no approved tool to call (approve the application\'s tools first)');
        } else {
          const call = await client.request('tools/call', { name: tool, arguments: {} });
          const challenge = challengeParams(call.headers.get('www-authenticate'));
          if (call.status === 403 && challenge.error === 'insufficient_scope') check('no_scope_call', 'pass', `tools/call ${tool} → 403 insufficient_scope (scope="${challenge.scope ?? ''}")`);
          else if (call.status === 200 && !call.message?.error) check('no_scope_call', 'fail', `tools/call ${tool} was forwarded to the MCP server without its scope`);
          else check('no_scope_call', 'fail', `tools/call ${tool} without its scope: ${errorOf(call)} (expected 403 insufficient_scope)`);
        }
      }
    } catch (err) {
      if (!checks.some((c) => c.name === 'no_scope_list')) check('no_scope_list', 'fail', `request failed: ${describe(err)}`);
      if (!checks.some((c) => c.name === 'no_scope_call')) check('no_scope_call', 'fail', `request failed: ${describe(err)}`);
    } finally {
      await client?.close();
    }
  }

  // scoped_call
  {
    let client: McpHttp | undefined;
    try {
      client = session(await mint(url, app.scopes.map((s) => s.name)));
      const opened = await client.open();
      const info = resultOf(opened)?.serverInfo as { name?: unknown; version?: unknown } | undefined;
      if (opened.status !== 200 || !resultOf(opened)) {
        check('scoped_call', 'fail', `initialize with every scope did not reach the MCP server: ${errorOf(opened)}`);
      } else {
        const { answer, names } = await listTools(client);
        const waiting = options.tools.filter((t) => t.status === 'needs_review').length;
        const server = info && typeof info.name === 'string' ? `${info.name}${typeof info.version === 'string' ? ` ${info.version}` : ''}` : 'the MCP server';
        if (answer.status !== 200 || !resultOf(answer)) check('scoped_call', 'fail', `initialize reached ${server}, but tools/list failed: ${errorOf(answer)}`);
        else check('scoped_call', 'pass', `reached ${server}; tools/list shows ${names.length} tool(s)${waiting ? `, ${waiting} waiting for review are hidden` : ''}`);
      }
    } catch (err) {
      check('scoped_call', 'fail', `request failed: ${describe(err)}`);
    } finally {
      await client?.close();
    }
  }

  return { slug: app.slug, url, ranAt, passed: checks.every((c) => c.outcome !== 'fail'), checks };
}
