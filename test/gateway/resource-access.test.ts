/**
 * Argument-level constraints at the gateway (docs/design/identity.md): an administrator maps a
 * tool's arguments to resources of the organization; a call naming a resource the caller's token
 * does not reach — by inheritance down workspaces → projects → folders, or because a lower
 * membership overrides it, or because it is of another kind or another organization — is refused
 * with `policy_denied`, rule `resource-access`, naming the resource, and never reaches the MCP
 * server. Real sign-ins give real org-bound tokens (`org_id`, `res`).
 */
import type { OrgResource } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { RpcError } from '../../src/gateway/jsonrpc.ts';
import { serverTargets } from '../helpers/authz.ts';
import type { TestServer } from '../helpers/server.ts';
import { postMcp, signIn, toolCall, toolsList } from '../guard/sign-in.ts';
import { startRecordingUpstream, type RecordingUpstream } from './conditions-fixture.ts';

const READ = { readOnlyHint: true };
const WRITE = { readOnlyHint: false, destructiveHint: false };
const DESTRUCTIVE = { readOnlyHint: false, destructiveHint: true };
const HEADERS = { 'mcp-protocol-version': '2025-06-18' };

interface World {
  server: TestServer;
  upstream: RecordingUpstream;
  url: string;
  bob: User;
  r: Record<'ws1' | 'prjA' | 'fldA' | 'prjB' | 'fldB' | 'ws2' | 'prjC' | 'otherPrj', OrgResource>;
  bobToken: string;
  adaToken: string;
}

async function startWorld(start: (overrides: object) => Promise<TestServer>): Promise<World> {
  const upstream = await startRecordingUpstream([
    { name: 'read_notes', annotations: READ },
    { name: 'write_note', annotations: WRITE },
    { name: 'purge_workspace', annotations: DESTRUCTIVE },
  ]);
  const server = await start({
    applications: [
      {
        slug: 'files',
        name: 'Files',
        upstream: { url: upstream.url },
        autoApprove: true,
        tools: {
          read_notes: { arguments: { projectId: 'project' } },
          write_note: { arguments: { projectId: 'project', folderId: 'folder' } },
          purge_workspace: { arguments: { workspaceId: 'workspace' } },
        },
      },
    ],
  });
  const orgs = server.store.orgs;
  const at = Math.floor(Date.now() / 1000);
  const make = (kind: OrgResource['kind'], parentId: string | null, name: string, orgId = server.org.id) => orgs.createResource({ orgId, kind, parentId, name, at });
  const ws1 = await make('workspace', null, 'Engineering');
  const prjA = await make('project', ws1.id, 'Alpha');
  const fldA = await make('folder', prjA.id, 'Alpha docs');
  const prjB = await make('project', ws1.id, 'Beta');
  const fldB = await make('folder', prjB.id, 'Beta docs');
  const ws2 = await make('workspace', null, 'Finance');
  const prjC = await make('project', ws2.id, 'Budget');
  const globex = await orgs.create({ slug: 'globex', name: 'Globex' });
  const otherWs = await make('workspace', null, 'Globex workspace', globex.id);
  const otherPrj = await make('project', otherWs.id, 'Globex project', globex.id);

  // Bob: editor of Engineering, but only a viewer of its Beta project (a lower membership overrides).
  const bob = await server.addUser('bob@example.com', undefined, { role: 'member' });
  await orgs.setResourceMember(ws1.id, bob.id, 'editor', at);
  await orgs.setResourceMember(prjB.id, bob.id, 'viewer', at);

  const url = `${server.url}/mcp/files`;
  const token = async (email: string) =>
    (await signIn({ url: server.url, mcpUrl: url, email, password: server.password }, { scope: 'files:read files:write files:delete' })).access_token;
  const world: World = {
    server,
    upstream,
    url,
    bob,
    r: { ws1, prjA, fldA, prjB, fldB, ws2, prjC, otherPrj },
    bobToken: await token('bob@example.com'),
    adaToken: await token(server.user.email),
  };
  // The gateway learns the upstream's tools in the background at start.
  for (let i = 0; i < 200; i++) {
    const answer = await postMcp(url, toolsList, { token: world.adaToken, headers: HEADERS });
    if (((answer.json as { result?: { tools?: unknown[] } })?.result?.tools?.length ?? 0) === 3) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return world;
}

async function call(w: World, token: string, tool: string, args: Record<string, unknown>) {
  const before = w.upstream.toolCalls().length;
  const answer = await postMcp(w.url, toolCall(tool, args), { token, headers: HEADERS });
  assert.equal(answer.status, 200, answer.text);
  const body = answer.json as { result?: { content?: { text?: string }[] }; error?: { code: number; data?: Record<string, string> } };
  return { body, reached: w.upstream.toolCalls().length > before };
}

async function assertAllowed(w: World, token: string, tool: string, args: Record<string, unknown>) {
  const { body, reached } = await call(w, token, tool, args);
  assert.equal(body.error, undefined, JSON.stringify(body));
  assert.equal(body.result?.content?.[0]?.text, `${tool} done`);
  assert.ok(reached, 'the upstream ran it');
}

async function assertRefused(w: World, token: string, tool: string, args: Record<string, unknown>, resource: string) {
  const { body, reached } = await call(w, token, tool, args);
  assert.equal(body.error?.code, RpcError.POLICY, JSON.stringify(body));
  assert.deepEqual(body.error?.data, { code: 'policy_denied', rule: 'resource-access', resource, help: `${new URL(w.url).origin}/docs/denials#policy_denied` });
  assert.ok(!reached, 'the upstream never saw the call');
}

for (const target of serverTargets()) {
  describe(`gateway: argument-level resource access (${target.dialect})`, { concurrency: 1, skip: target.skip }, () => {
    let w: World;
    before(async () => {
      w = await startWorld((overrides) => target.start(overrides));
    });
    after(async () => {
      await w?.server.stop();
      await w?.upstream.stop();
    });

    it('a project inherits the workspace role: bob reads and writes in Alpha', async () => {
      await assertAllowed(w, w.bobToken, 'read_notes', { projectId: w.r.prjA.id });
      await assertAllowed(w, w.bobToken, 'write_note', { projectId: w.r.prjA.id, folderId: w.r.fldA.id });
    });

    it('the upstream gets the gateway\'s own token carrying the caller\'s organization and resource levels, never the client\'s token', async () => {
      const calls = w.upstream.requests.length;
      await assertAllowed(w, w.bobToken, 'read_notes', { projectId: w.r.prjA.id });
      const forwarded = w.upstream.requests.slice(calls).find((r) => r.messages.some((m) => m.method === 'tools/call'))!;
      const minted = String(forwarded.headers.authorization).replace(/^Bearer /, '');
      assert.notEqual(minted, w.bobToken);
      const claims = decodeJwt(minted);
      assert.equal(claims.sub, w.bob.id);
      assert.equal(claims.org_id, w.server.org.id);
      assert.deepEqual(claims.res, decodeJwt(w.bobToken).res);
      assert.deepEqual(claims.res, { [w.r.ws1.id]: 'write', [w.r.prjB.id]: 'read' });
    });

    it('a lower membership overrides what it inherits: bob reads Beta but may not write there, nor in its folders', async () => {
      await assertAllowed(w, w.bobToken, 'read_notes', { projectId: w.r.prjB.id });
      await assertRefused(w, w.bobToken, 'write_note', { projectId: w.r.prjB.id }, `project:${w.r.prjB.id}`);
      // Alpha is fine, but the folder named beside it belongs to Beta: refused, naming the folder.
      await assertRefused(w, w.bobToken, 'write_note', { projectId: w.r.prjA.id, folderId: w.r.fldB.id }, `folder:${w.r.fldB.id}`);
    });

    it('a workspace bob is not a member of is refused, while the owner reaches everything in the organization', async () => {
      await assertRefused(w, w.bobToken, 'read_notes', { projectId: w.r.prjC.id }, `project:${w.r.prjC.id}`);
      await assertAllowed(w, w.adaToken, 'read_notes', { projectId: w.r.prjC.id });
      await assertAllowed(w, w.adaToken, 'purge_workspace', { workspaceId: w.r.ws2.id });
    });

    it('an id of the wrong kind, of another organization, or of nothing at all is refused — even for the owner', async () => {
      await assertRefused(w, w.adaToken, 'read_notes', { projectId: w.r.ws1.id }, `project:${w.r.ws1.id}`);
      await assertRefused(w, w.adaToken, 'read_notes', { projectId: w.r.otherPrj.id }, `project:${w.r.otherPrj.id}`);
      await assertRefused(w, w.adaToken, 'read_notes', { projectId: 'prj_doesnotexist' }, 'project:prj_doesnotexist');
      await assertRefused(w, w.adaToken, 'purge_workspace', { workspaceId: w.r.prjA.id }, `workspace:${w.r.prjA.id}`);
    });

    it('a mapped argument that is not a string is refused; one left out passes to the server, which decides', async () => {
      await assertRefused(w, w.adaToken, 'read_notes', { projectId: 42 }, 'project:');
      await assertRefused(w, w.adaToken, 'read_notes', { projectId: null }, 'project:');
      await assertRefused(w, w.adaToken, 'read_notes', { projectId: [w.r.prjA.id] }, 'project:');
      await assertAllowed(w, w.bobToken, 'read_notes', {});
    });

    it('in a batch, one call on a resource out of reach keeps every call from the server', async () => {
      const before = w.upstream.toolCalls().length;
      const answer = await postMcp(
        w.url,
        [toolCall('read_notes', { projectId: w.r.prjA.id }, 1), toolCall('read_notes', { projectId: w.r.prjC.id }, 2)],
        { token: w.bobToken, headers: HEADERS },
      );
      const [first, second] = answer.json as { error?: { data?: Record<string, string> } }[];
      assert.equal(first!.error?.data?.code, 'batch_refused');
      assert.equal(second!.error?.data?.rule, 'resource-access');
      assert.equal(w.upstream.toolCalls().length, before);
    });

    it('a resource created after the token was issued is reached through its parent (the tree is re-read within seconds)', async () => {
      const at = Math.floor(Date.now() / 1000);
      const prjD = await w.server.store.orgs.createResource({ orgId: w.server.org.id, kind: 'project', parentId: w.r.ws1.id, name: 'Delta', at });
      const deadline = Date.now() + 8000;
      for (;;) {
        const { body, reached } = await call(w, w.bobToken, 'write_note', { projectId: prjD.id });
        if (reached && body.error === undefined) break;
        assert.equal(body.error?.data?.resource, `project:${prjD.id}`, 'refused (not yet known), never let through blindly');
        assert.ok(Date.now() < deadline, 'the new project never became reachable');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    });
  });
}
