/**
 * The world the permission-matrix test (test/identity/permission-matrix.test.ts) runs in, and the
 * one call it makes over and over:
 * - one real server with an application `files` behind the gateway, whose MCP server records every
 *   call: a read tool (readOnlyHint), a write tool (not read-only, not destructive) and a delete tool
 *   (no hints: destructive by default), each mapping `workspaceId` / `projectId` / `folderId` to
 *   resources of that kind;
 * - the org's tree (W1 → P1 → F1, W2 → P2 → F2) and a second organization with its own tree;
 * - `callTool()`: one tools/call, classified as what the caller meets — allowed (the upstream ran
 *   it), refused by policy (naming the resource), or 403 insufficient_scope — with a marker in the
 *   arguments so that calls may run concurrently and still be told apart at the upstream;
 * - API keys issued through the identity service as the account and admin pages issue them, or,
 *   when the service refuses (the key would exceed its creator), written straight to the store as
 *   if issued before the creator lost the permission — the resolver must cap them at use.
 */
import type { ApiKeyPermissions } from '../../src/store/api-keys.ts';
import type { Org, OrgResource } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isRefusal } from '../../src/core/errors.ts';
import { createGrantRevoker } from '../../src/revocation/grant-revoker.ts';
import { randomToken, type SecretKey } from '../../src/core/crypto.ts';
import { loadRootSecret } from '../../src/core/secrets.ts';
import { RpcError } from '../../src/gateway/jsonrpc.ts';
import { RevocationList } from '../../src/revocation/revocation-list.ts';
import { issueApiKey, type ApiKeyInput } from '../../src/api-keys/service.ts';
import type { IdentityDeps } from '../../src/identity/context.ts';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from '../../src/api-keys/format.ts';
import { bearerParams, postMcp, toolCall, toolsList } from '../guard/sign-in.ts';
import { authorizationUrl, registerPublic } from './authz.ts';
import { appUrl, httpApp, READ, startFixtureMcp, startGateway, WRITE, type FixtureMcp } from './gateway.ts';
import { authorizeInBrowser } from './oauth-flow.ts';
import type { TestServer } from './server.ts';

export const APP = 'files';
export const ALL_SCOPES = 'files:read files:write files:delete';
export type Level = 'read' | 'write' | 'delete';
export const LEVELS: readonly Level[] = ['read', 'write', 'delete'];
/** The tool that needs each level (by its annotations: files:read, files:write, files:delete). */
export const TOOL: Record<Level, string> = { read: 'read_item', write: 'write_item', delete: 'delete_item' };

const MAPPED = { workspaceId: 'workspace', projectId: 'project', folderId: 'folder' } as const;
const HEADERS = { 'mcp-protocol-version': '2025-06-18' };

/** Resources by the names the matrix uses: W1 P1 F1 W2 P2 F2 in acme; GW GP GF in globex. */
export type ResourceName = 'W1' | 'P1' | 'F1' | 'W2' | 'P2' | 'F2' | 'GW' | 'GP' | 'GF';

export interface MatrixWorld {
  server: TestServer;
  upstream: FixtureMcp;
  url: string;
  globex: Org;
  resources: Record<ResourceName, OrgResource>;
  /** For issuing API keys through the service. */
  identity: IdentityDeps;
  pepper: SecretKey;
  stop(): Promise<void>;
}

export async function startMatrixWorld(): Promise<MatrixWorld> {
  const upstream = await startFixtureMcp({
    tools: [
      { name: TOOL.read, description: 'Read an item', annotations: READ },
      { name: TOOL.write, description: 'Write an item', annotations: WRITE },
      { name: TOOL.delete, description: 'Delete an item (says nothing about itself: destructive by default)' },
    ],
  });
  const tools = Object.fromEntries(Object.values(TOOL).map((name) => [name, { arguments: { ...MAPPED } }]));
  const server = await startGateway([httpApp(APP, upstream.url, { tools })]);
  const now = () => Math.floor(Date.now() / 1000);
  const orgs = server.store.orgs;
  const make = (orgId: string, kind: OrgResource['kind'], parent: OrgResource | null, name: string) =>
    orgs.createResource({ orgId, kind, parentId: parent?.id ?? null, name, at: now() });
  const acme = server.org.id;
  const W1 = await make(acme, 'workspace', null, 'W1');
  const P1 = await make(acme, 'project', W1, 'P1');
  const F1 = await make(acme, 'folder', P1, 'F1');
  const W2 = await make(acme, 'workspace', null, 'W2');
  const P2 = await make(acme, 'project', W2, 'P2');
  const F2 = await make(acme, 'folder', P2, 'F2');
  const globex = await orgs.create({ slug: 'globex', name: 'Globex' });
  const GW = await make(globex.id, 'workspace', null, 'Globex W');
  const GP = await make(globex.id, 'project', GW, 'Globex P');
  const GF = await make(globex.id, 'folder', GP, 'Globex F');

  const pepper = loadRootSecret({ secretKey: server.config.secretKey, dataDir: server.config.dataDir }).secrets.pepper;
  const retention = server.config.tokens.accessTokenTtl + 60;
  const revocations = new RevocationList(server.store.revocations, now);
  const identity: IdentityDeps = {
    store: server.store,
    pepper,
    now,
    retention,
    revocations,
    revokeGrant: createGrantRevoker({ store: server.store, now, retention }),
  };
  return {
    server,
    upstream,
    url: appUrl(server, APP),
    globex,
    resources: { W1, P1, F1, W2, P2, F2, GW, GP, GF },
    identity,
    pepper,
    async stop() {
      await server.stop();
      await upstream.stop();
    },
  };
}

/** The gateway learns the upstream's tools in the background at start: wait until it lists all three. */
export async function waitForTools(world: MatrixWorld, token: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await listTools(world, token)).length === 3) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail('the gateway never listed the three tools');
}

/** tools/list as the credential sees it: names, sorted. */
export async function listTools(world: MatrixWorld, credential: string): Promise<string[]> {
  const answer = await postMcp(world.url, toolsList, { token: credential, headers: HEADERS });
  assert.equal(answer.status, 200, answer.text);
  return ((answer.json as { result?: { tools?: { name: string }[] } }).result?.tools ?? []).map((t) => t.name).sort();
}

/**
 * Call the tool needing `level` on `resource` (passed as the argument of its kind, or of `asKind`
 * to name it as something it is not). The answer, in the matrix's words:
 *   `allowed`                                  the upstream ran it
 *   `403 insufficient_scope`                   the credential cannot hold the tool's scope
 *   `policy_denied resource-access <kind>:<name>`  refused, naming the resource
 * and anything else verbatim (so a surprise shows in the test's diff). A refusal that reached the
 * upstream anyway is reported as such.
 */
export async function callTool(
  world: MatrixWorld,
  credential: string,
  level: Level,
  resource: ResourceName,
  asKind: OrgResource['kind'] = world.resources[resource].kind,
): Promise<string> {
  const marker = randomUUID();
  const id = world.resources[resource].id;
  const answer = await postMcp(world.url, toolCall(TOOL[level], { [`${asKind}Id`]: id, marker }), { token: credential, headers: HEADERS });
  const reached = world.upstream
    .received('tools/call')
    .some((r) => (r.json as { params?: { arguments?: { marker?: string } } }).params?.arguments?.marker === marker);
  const outcome = classify(answer, TOOL[level], id, resource);
  if (outcome === 'allowed') return reached ? outcome : 'allowed, but the upstream never saw the call';
  return reached ? `${outcome}, but the upstream ran it` : outcome;
}

function classify(answer: Awaited<ReturnType<typeof postMcp>>, tool: string, id: string, name: string): string {
  if (answer.status === 403) return `403 ${bearerParams(answer.headers.get('www-authenticate')).error}`;
  if (answer.status !== 200) return `HTTP ${answer.status} ${answer.text.slice(0, 200)}`;
  const body = answer.json as { result?: { content?: { text?: string }[] }; error?: { code: number; data?: Record<string, string> } };
  if (body.error) {
    const data = body.error.data ?? {};
    if (body.error.code !== RpcError.POLICY) return `error ${body.error.code} ${JSON.stringify(data)}`;
    return `${data.code} ${data.rule} ${String(data.resource).replace(id, name)}`;
  }
  const text = body.result?.content?.[0]?.text;
  return text === `${tool} done` ? 'allowed' : `result ${JSON.stringify(body.result)}`;
}

/**
 * Sign `email` in and approve whatever the consent page offers, for a client that asks for every
 * scope of the application; where the server sent the browser back: `code` or its `error`.
 */
export async function authorizationEnd(world: MatrixWorld, email: string): Promise<string> {
  const client = await registerPublic(world.server);
  const { url, redirectUri } = authorizationUrl(world.server, client, { scope: ALL_SCOPES, resource: world.url });
  const { callback } = await authorizeInBrowser(url, { email, password: world.server.password, redirectUri });
  return callback.searchParams.get('error') ?? (callback.searchParams.has('code') ? 'code' : callback.href);
}

/** Run `tasks` with at most `limit` at a time, answers in order. */
export async function inParallel<T>(tasks: (() => Promise<T>)[], limit = 16): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

export type KeyIssue = { issued: true; secret: string; id: string } | { issued: false; secret: string; id: string; errors: string[] };

/**
 * Ask the identity service for a key as `user`. When it refuses, say which fields it named, and
 * write the same key to the store as if it had been issued while the creator still held more
 * (so the gateway's cap at use can be tested on it).
 */
export async function issueOrPlantKey(world: MatrixWorld, user: User, input: ApiKeyInput, orgId = world.server.org.id): Promise<KeyIssue> {
  try {
    const { key, secret } = await issueApiKey(world.identity, { orgId, userId: user.id }, input);
    return { issued: true, secret, id: key.id };
  } catch (err) {
    assert.ok(isRefusal(err) && err.code === 'invalid_request', String(err));
    const problems = (err.detail.errors ?? []) as { path: string }[];
    const secret = generateApiKey();
    const id = `key_${randomToken(12)}`;
    const p = input.permissions;
    const permissions: ApiKeyPermissions = p.mode === 'simple' ? { mode: 'simple', level: p.level === 'read-write' ? 'write' : 'read' } : { mode: 'granular', levels: p.levels };
    const now = Math.floor(Date.now() / 1000);
    await world.server.store.apiKeys.create({
      id,
      orgId,
      userId: user.id,
      name: input.name,
      prefix: apiKeyDisplayPrefix(secret),
      hash: hashApiKey(world.pepper, secret),
      applications: input.applications ?? null,
      resources: input.resources ?? null,
      permissions,
      createdAt: now - 1,
      expiresAt: null,
    });
    return { issued: false, secret, id, errors: problems.map((x) => x.path).sort() };
  }
}
