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
import { resourceMetadataUrl } from '../shared/resource-metadata.ts';
import { parseAnnotations } from '../policy/scopes.ts';
import type { Application } from '../core/application.ts';
import { challengeParams, errorOf, INITIALIZE_PARAMS, listTools, McpHttp, parseObject, resultOf, type Answer } from './mcp-http.ts';

export const SELF_TEST_SUBJECT = 'portcullis:self-test';
export const SELF_TEST_CLIENT_ID = 'portcullis-self-test';
const TOKEN_TTL = 60;

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
// The checks, one function each, in SELF_TEST_CHECKS order

/** What every check needs: the application under test, tokens for it, and clients for its URL. */
interface Probe {
  options: SelfTestOptions;
  url: string;
  timeoutMs: number;
  fetch: typeof fetch;
  mint(audience: string, scopes: readonly string[]): Promise<string>;
  client(token: string | undefined): McpHttp;
}

function checked(name: SelfTestCheckName, outcome: SelfTestCheck['outcome'], detail: string): SelfTestCheck {
  return { name, outcome, detail };
}

const initialized = (answer: Answer) => answer.status === 200 && resultOf(answer) !== undefined;

/** An MCP session with a token for these scopes, closed afterwards whatever happens. */
async function inSession<T>(probe: Probe, audience: string, scopes: readonly string[], use: (client: McpHttp, opened: Answer) => Promise<T>): Promise<T> {
  let client: McpHttp | undefined;
  try {
    client = probe.client(await probe.mint(audience, scopes));
    return await use(client, await client.open());
  } finally {
    await client?.close();
  }
}

/** no_token, and reachability: nothing else can be learnt from a URL that does not answer. */
async function noToken(probe: Probe): Promise<{ check: SelfTestCheck; reachable: boolean; metadataUrl?: string }> {
  try {
    const answer = await probe.client(undefined).request('initialize', INITIALIZE_PARAMS);
    const metadataUrl = challengeParams(answer.headers.get('www-authenticate')).resource_metadata;
    if (answer.status !== 401) return { reachable: true, metadataUrl, check: checked('no_token', 'fail', `expected 401 without a token, got HTTP ${answer.status}`) };
    if (!metadataUrl) return { reachable: true, check: checked('no_token', 'fail', '401 without a token, but WWW-Authenticate names no resource_metadata') };
    return { reachable: true, metadataUrl, check: checked('no_token', 'pass', `401 with resource_metadata=${metadataUrl}`) };
  } catch (err) {
    return { reachable: false, check: checked('no_token', 'fail', `${probe.url} could not be reached: ${describe(err)}`) };
  }
}

/** The RFC 9728 document the challenge named (else the well-known one) names this resource and this issuer. */
async function resourceMetadata(probe: Probe, metadataUrl: string | undefined): Promise<SelfTestCheck> {
  const { url, options: { issuer } } = probe;
  try {
    const target = metadataUrl ?? resourceMetadataUrl(url);
    const response = await probe.fetch(target, { signal: AbortSignal.timeout(probe.timeoutMs) });
    const document = response.ok ? parseObject(await response.text()) : (await response.body?.cancel(), undefined);
    const servers = Array.isArray(document?.authorization_servers) ? document.authorization_servers : [];
    if (!document) return checked('resource_metadata', 'fail', `${target} answered HTTP ${response.status}, not a metadata document`);
    if (document.resource !== url) return checked('resource_metadata', 'fail', `${target} names the resource ${String(document.resource)}, not ${url}`);
    if (!servers.includes(issuer)) return checked('resource_metadata', 'fail', `${target} does not list the authorization server ${issuer}`);
    return checked('resource_metadata', 'pass', `${target} names ${url} and the authorization server ${issuer}`);
  } catch (err) {
    return checked('resource_metadata', 'fail', `the resource metadata could not be fetched: ${describe(err)}`);
  }
}

async function garbageToken(probe: Probe): Promise<SelfTestCheck> {
  try {
    const answer = await probe.client('garbage').request('tools/list');
    if (answer.status === 200) return checked('garbage_token', 'fail', '`Bearer garbage` was accepted (HTTP 200)');
    return checked('garbage_token', answer.status === 401 ? 'pass' : 'fail', `HTTP ${answer.status} for \`Bearer garbage\`${answer.status === 401 ? '' : ' (expected 401)'}`);
  } catch (err) {
    return checked('garbage_token', 'fail', `request failed: ${describe(err)}`);
  }
}

async function otherAudience(probe: Probe): Promise<SelfTestCheck> {
  try {
    const otherAudience = `${probe.options.issuer}/portcullis-self-test/another-resource`;
    const token = await probe.mint(otherAudience, probe.options.app.scopes.map((s) => s.name));
    const answer = await probe.client(token).request('tools/list');
    if (answer.status === 401) return checked('other_audience', 'pass', `401 for a token whose audience is ${otherAudience}`);
    return checked('other_audience', 'fail', `a token for another resource got HTTP ${answer.status} (expected 401)`);
  } catch (err) {
    return checked('other_audience', 'fail', `request failed: ${describe(err)}`);
  }
}

async function noScopeList(client: McpHttp): Promise<SelfTestCheck> {
  const { answer, names } = await listTools(client);
  if (answer.status !== 200 || !resultOf(answer)) return checked('no_scope_list', 'fail', `tools/list failed: ${errorOf(answer)}`);
  if (names.length) return checked('no_scope_list', 'fail', `a token without scopes sees ${names.length} tool(s): ${names.slice(0, 5).join(', ')}`);
  return checked('no_scope_list', 'pass', 'tools/list shows no tool to a token without scopes');
}

async function noScopeCall(probe: Probe, client: McpHttp): Promise<SelfTestCheck> {
  const tool = probeTool(probe.options.app, probe.options.tools);
  if (!tool) return checked('no_scope_call', 'skip', 'no approved tool to call (approve the application\'s tools first)');
  const call = await client.request('tools/call', { name: tool, arguments: {} });
  const challenge = challengeParams(call.headers.get('www-authenticate'));
  if (call.status === 403 && challenge.error === 'insufficient_scope') return checked('no_scope_call', 'pass', `tools/call ${tool} → 403 insufficient_scope (scope="${challenge.scope ?? ''}")`);
  if (call.status === 200 && !call.message?.error) return checked('no_scope_call', 'fail', `tools/call ${tool} was forwarded to the MCP server without its scope`);
  return checked('no_scope_call', 'fail', `tools/call ${tool} without its scope: ${errorOf(call)} (expected 403 insufficient_scope)`);
}

/** no_scope_list and no_scope_call, on one session with a token without scopes. */
async function withoutScopes(probe: Probe): Promise<SelfTestCheck[]> {
  const checks: SelfTestCheck[] = [];
  try {
    await inSession(probe, probe.url, [], async (client, opened) => {
      if (!initialized(opened)) {
        const reason = `initialize with a token without scopes failed: ${errorOf(opened)}`;
        checks.push(checked('no_scope_list', 'fail', reason), checked('no_scope_call', 'skip', reason));
        return;
      }
      checks.push(await noScopeList(client));
      checks.push(await noScopeCall(probe, client));
    });
  } catch (err) {
    for (const name of ['no_scope_list', 'no_scope_call'] as const) {
      if (!checks.some((c) => c.name === name)) checks.push(checked(name, 'fail', `request failed: ${describe(err)}`));
    }
  }
  return checks;
}

async function scopedCall(probe: Probe): Promise<SelfTestCheck> {
  const { app, tools } = probe.options;
  try {
    return await inSession(probe, probe.url, app.scopes.map((s) => s.name), async (client, opened) => {
      if (!initialized(opened)) return checked('scoped_call', 'fail', `initialize with every scope did not reach the MCP server: ${errorOf(opened)}`);
      const info = resultOf(opened)?.serverInfo as { name?: unknown; version?: unknown } | undefined;
      const { answer, names } = await listTools(client);
      const waiting = tools.filter((t) => t.status === 'needs_review').length;
      const server = info && typeof info.name === 'string' ? `${info.name}${typeof info.version === 'string' ? ` ${info.version}` : ''}` : 'the MCP server';
      if (answer.status !== 200 || !resultOf(answer)) return checked('scoped_call', 'fail', `initialize reached ${server}, but tools/list failed: ${errorOf(answer)}`);
      return checked('scoped_call', 'pass', `reached ${server}; tools/list shows ${names.length} tool(s)${waiting ? `, ${waiting} waiting for review are hidden` : ''}`);
    });
  } catch (err) {
    return checked('scoped_call', 'fail', `request failed: ${describe(err)}`);
  }
}

export async function runSelfTest(options: SelfTestOptions): Promise<SelfTestResult> {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const url = options.app.resource;
  const probe: Probe = {
    options,
    url,
    timeoutMs: options.timeoutMs ?? 10_000,
    fetch: options.fetch ?? fetch,
    mint: (audience, scopes) => mintSelfTestToken({ issuer: options.issuer, signingKey: options.signingKey, audience, scopes, now: now() }),
    client: (token) => new McpHttp(url, token, probe.fetch, probe.timeoutMs),
  };
  const ranAt = now();
  const result = (checks: SelfTestCheck[]): SelfTestResult => ({ slug: options.app.slug, url, ranAt, passed: checks.every((c) => c.outcome !== 'fail'), checks });

  const first = await noToken(probe);
  if (!first.reachable) {
    return result([first.check, ...SELF_TEST_CHECKS.slice(1).map((name) => checked(name, 'skip', 'the gateway URL could not be reached'))]);
  }
  return result([
    first.check,
    await resourceMetadata(probe, first.metadataUrl),
    await garbageToken(probe),
    await otherAudience(probe),
    ...(await withoutScopes(probe)),
    await scopedCall(probe),
  ]);
}
