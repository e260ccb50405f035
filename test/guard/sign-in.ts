/**
 * Get real tokens from a running server the way an MCP client does: dynamic registration of a
 * public client, authorization code + PKCE through the sign-in and consent pages, token request.
 * Plus small helpers for calling /mcp with raw HTTP, so tests see exactly what is on the wire.
 */
import assert from 'node:assert/strict';
import { signIn as codeFlow } from '../helpers/authz.ts';

export const REDIRECT = 'http://127.0.0.1:8765/callback';

export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  token_type: string;
  clientId: string;
}

export interface SignInTarget {
  /** Issuer / base URL of the server that signs the user in. */
  url: string;
  /** The resource (audience) asked for. */
  mcpUrl: string;
  email: string;
  password: string;
}

export async function registerPublicClient(issuer: string, name = 'Guard test client'): Promise<string> {
  const response = await fetch(`${issuer}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: name, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }),
  });
  assert.equal(response.status, 201);
  return ((await response.json()) as { client_id: string }).client_id;
}

/** A fresh public client (dynamic registration, as MCP desktop clients do) signs `email` in: the one code flow of helpers/authz.ts. */
export async function signIn(target: SignInTarget, options: { scope?: string; clientId?: string } = {}): Promise<TokenSet> {
  const clientId = options.clientId ?? (await registerPublicClient(target.url));
  const { code: _code, ...tokens } = await codeFlow(target, { client_id: clientId }, { email: target.email, password: target.password, scope: options.scope, redirectUri: REDIRECT });
  return { ...(tokens as Omit<TokenSet, 'clientId'>), clientId };
}

/** Revoke a refresh token (RFC 7009) as the public client that holds it: its whole grant goes. */
export async function revokeRefreshToken(issuer: string, tokens: TokenSet): Promise<void> {
  const response = await fetch(`${issuer}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: tokens.refresh_token!, token_type_hint: 'refresh_token', client_id: tokens.clientId }),
  });
  assert.equal(response.status, 200);
}

export interface McpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** POST a JSON-RPC message (or raw body) to an MCP endpoint. */
export async function postMcp(mcpUrl: string, body: unknown, init: { token?: string; authorization?: string; headers?: Record<string, string>; raw?: boolean } = {}): Promise<McpAnswer> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...init.headers,
  };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.authorization !== undefined) headers.authorization = init.authorization;
  const response = await fetch(mcpUrl, { method: 'POST', headers, body: init.raw ? (body as string) : JSON.stringify(body) });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // SSE-framed answers: take the data of the first event.
    const data = /^data: (.*)$/m.exec(text)?.[1];
    json = data ? JSON.parse(data) : undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export const toolsList = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };

export function toolCall(name: string, args: Record<string, unknown> = {}, id = 2) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

/** Parse `Bearer k="v", …` (quoted-string unescaping per RFC 9110 §5.6.4). */
export function bearerParams(header: string | null): Record<string, string> {
  assert.ok(header, 'no WWW-Authenticate header');
  assert.match(header, /^Bearer( |$)/);
  const params: Record<string, string> = {};
  for (const match of header.slice(6).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) params[match[1]!] = match[2]!.replace(/\\(.)/g, '$1');
  return params;
}
