/**
 * What the SCIM tests share: a real test server whose organization (`acme`) has a SCIM token
 * issued through the admin API as its owner would, a SCIM client that sends what an IdP sends
 * (`application/scim+json`, the bearer token), and the credentials a provisioned person holds at
 * the gateway (an access token from the real sign-in flow, an API key written as the issuance
 * service writes one) to check they stop working.
 */
import assert from 'node:assert/strict';
import type { AuditEvent } from '../../src/store/audit.ts';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from '../../src/api-keys/format.ts';
import { hashPassword, randomToken } from '../../src/core/crypto.ts';
import { loadRootSecret } from '../../src/core/secrets.ts';
import { signIn } from '../guard/sign-in.ts';
import { adminClient, mcpCall } from '../admin/support.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';

export const URN = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
};

export interface ScimAnswer {
  status: number;
  headers: Headers;
  // The tests read whatever the provider answered.
  body: any;
}

export interface ScimWorld {
  server: TestServer;
  token: string;
  /** A request to `<base>/scim/v2<path>` with the org's token (or `token`, or none when null). */
  scim(method: string, path: string, body?: unknown, token?: string | null): Promise<ScimAnswer>;
}

export async function scimRequest(server: TestServer, token: string | null, method: string, path: string, body?: unknown): Promise<ScimAnswer> {
  const headers: Record<string, string> = { accept: 'application/scim+json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/scim+json; charset=utf-8';
  const response = await fetch(`${server.url}/scim/v2${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Issue the SCIM token of `orgSlug` through the admin API, signed in as `email` (an owner or admin). */
export async function issueToken(server: TestServer, orgSlug = 'acme', email = server.user.email): Promise<string> {
  const admin = await adminClient(server, email, false);
  const issued = await admin.call('POST', `/orgs/${orgSlug}/scim-token`);
  assert.equal(issued.status, 201, JSON.stringify(issued.body));
  assert.equal(issued.body.baseUrl, `${server.url}/scim/v2`);
  return String(issued.body.token);
}

export async function startScimWorld(): Promise<ScimWorld> {
  const server = await startTestServer();
  const token = await issueToken(server);
  return { server, token, scim: (method, path, body, use) => scimRequest(server, use === undefined ? token : use, method, path, body) };
}

/** RFC 7644 §3.12: the error schema, `status` a string, the scimType when given. */
export function assertScimError(answer: ScimAnswer, status: number, scimType?: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.match(answer.headers.get('content-type') ?? '', /^application\/scim\+json/);
  assert.deepEqual(answer.body.schemas, [URN.error]);
  assert.equal(answer.body.status, String(status));
  if (scimType !== undefined) assert.equal(answer.body.scimType, scimType);
}

/** A provisioned person signs in (a password set for the test: SCIM accounts have none) and gets a token for the demo at /mcp. */
export async function accessTokenFor(server: TestServer, email: string): Promise<string> {
  const user = await server.store.users.findByEmail(email);
  assert.ok(user, `no account for ${email}`);
  await server.store.users.setPassword(user.id, await hashPassword(TEST_PASSWORD));
  return (await signIn({ url: server.url, mcpUrl: server.mcpUrl, email, password: TEST_PASSWORD })).access_token;
}

/** An API key of `userId` in the server's organization, written as the issuance service writes one. */
export async function apiKeyFor(server: TestServer, userId: string): Promise<string> {
  const { pepper } = loadRootSecret({ secretKey: server.config.secretKey, dataDir: server.config.dataDir }).secrets;
  const secret = generateApiKey();
  await server.store.apiKeys.create({
    id: `key_${randomToken(12)}`, orgId: server.org.id, userId, name: 'laptop', prefix: apiKeyDisplayPrefix(secret), hash: hashApiKey(pepper, secret),
    applications: null, resources: null, permissions: { mode: 'simple', level: 'read' }, createdAt: Math.floor(Date.now() / 1000) - 1, expiresAt: null,
  });
  return secret;
}

/** Status of a tools/list at the demo MCP server with this credential. */
export async function gatewayStatus(server: TestServer, credential: string): Promise<number> {
  return (await mcpCall(server.mcpUrl, credential, 'tools/list')).status;
}

/** Milliseconds until the gateway answers 401 to `credential` (fails after 1.5 s). */
export async function refusedAfter(server: TestServer, credential: string, since: number): Promise<number> {
  for (;;) {
    const status = await gatewayStatus(server, credential);
    if (status === 401) return Date.now() - since;
    assert.equal(status, 200);
    assert.ok(Date.now() - since < 1500, 'still accepted 1.5 s after the deactivation');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Audit records of a kind in the org, oldest first. */
export async function auditOf(server: TestServer, kind: string): Promise<AuditEvent[]> {
  await server.audit.flush();
  return server.store.audit.list({ orgId: server.org.id, kind, order: 'asc', limit: 1000 });
}
