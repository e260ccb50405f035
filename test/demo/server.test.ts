/**
 * The demo MCP server, driven in process by real MCP clients (no mocks, no sockets): the v1 SDK
 * client (2025-era `initialize`, served statelessly) and the v2 SDK client pinned to 2026-07-28.
 * Each client's `fetch` hands the request to the server with the AuthInfo the gateway would pass.
 */
import type { Store } from '../../src/store/store.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { createDemoMcp, seedDemoData, type DemoMcp } from '../../src/demo/server.ts';
import { openStore } from '../../src/store/open.ts';

const ENDPOINT = new URL('http://demo.test/mcp');

interface CallResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: any;
}

/** What these tests need from a client, so one story suite runs against both SDK generations. */
interface TestClient {
  toolNames(): Promise<string[]>;
  call(name: string, args: Record<string, unknown>): Promise<CallResult>;
}

function authInfo(scopes: string[]): AuthInfo {
  return { token: 'test-token', clientId: 'test-client', scopes, expiresAt: Math.floor(Date.now() / 1000) + 600 };
}

/** A migrated SQLite store in a fresh directory, seeded, with the demo server in front of it. */
async function demo(t: TestContext): Promise<{ store: Store; mcp: DemoMcp; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-demo-'));
  const store = await openStore({ dataDir });
  await store.migrate();
  await seedDemoData(store.demo);
  const mcp = createDemoMcp(store.demo);
  t.after(async () => {
    await mcp.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { store, mcp, dataDir };
}

const clients: Array<{ name: string; connect(t: TestContext, mcp: DemoMcp, scopes: string[]): Promise<TestClient> }> = [
  {
    name: 'v1 SDK client (2025-era, stateless)',
    async connect(t, mcp, scopes) {
      const client = new V1Client({ name: 'demo-test-v1', version: '1.0.0' });
      await client.connect(
        new V1Transport(ENDPOINT, { fetch: (url, init) => mcp.fetch(new Request(url, init), { authInfo: authInfo(scopes) }) }),
      );
      t.after(() => client.close());
      return {
        toolNames: async () => (await client.listTools()).tools.map((tool) => tool.name),
        call: async (name, args) => (await client.callTool({ name, arguments: args })) as CallResult,
      };
    },
  },
  {
    name: 'v2 SDK client (2026-07-28)',
    async connect(t, mcp, scopes) {
      // Pinned, so a fallback to the 2025 handshake would fail the test instead of hiding.
      const client = new V2Client({ name: 'demo-test-v2', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await client.connect(
        new V2Transport(ENDPOINT, { fetch: (url, init) => mcp.fetch(new Request(url, init), { authInfo: authInfo(scopes) }) }),
      );
      t.after(() => client.close());
      assert.equal(client.getProtocolEra(), 'modern');
      return {
        toolNames: async () => (await client.listTools()).tools.map((tool) => tool.name),
        call: async (name, args) => (await client.callTool({ name, arguments: args })) as CallResult,
      };
    },
  },
];

const text = (result: CallResult) => result.content.map((c) => c.text ?? '').join('\n');

for (const { name, connect } of clients) {
  describe(`demo MCP server through the ${name}`, () => {
    it('a read-only token sees only the read tools, and can list projects and read notes', async (t) => {
      const { mcp } = await demo(t);
      const client = await connect(t, mcp, ['demo:read']);
      assert.deepEqual(await client.toolNames(), ['list_projects', 'list_notes', 'read_note']);

      const projects = await client.call('list_projects', {});
      assert.equal(projects.isError, undefined);
      assert.deepEqual(projects.structuredContent.projects.map((p: { name: string }) => p.name), ['Welcome']);
      const projectId = projects.structuredContent.projects[0].id;

      const notes = await client.call('list_notes', { projectId });
      assert.equal(notes.structuredContent.notes.length, 1);
      const note = await client.call('read_note', { noteId: notes.structuredContent.notes[0].id });
      assert.equal(note.structuredContent.note.projectId, projectId);
      assert.match(text(note), /demo MCP server/);
    });

    it('a token without any demo scope sees no tools at all', async (t) => {
      const { mcp } = await demo(t);
      const client = await connect(t, mcp, ['openid']);
      assert.deepEqual(await client.toolNames(), []);
    });

    it('demo:write creates a project and a note, then updates the note, and the store keeps them', async (t) => {
      const { store, mcp } = await demo(t);
      const client = await connect(t, mcp, ['demo:read', 'demo:write']);
      assert.deepEqual(await client.toolNames(), ['list_projects', 'list_notes', 'read_note', 'create_project', 'write_note']);

      const project = (await client.call('create_project', { name: 'Roadmap' })).structuredContent.project;
      const created = await client.call('write_note', { projectId: project.id, title: 'Q3', body: 'Ship the gateway.' });
      assert.equal(created.structuredContent.created, true);
      const noteId = created.structuredContent.note.id;

      const updated = await client.call('write_note', { projectId: project.id, noteId, title: 'Q3 plan', body: 'Ship it all.' });
      assert.equal(updated.structuredContent.created, false);
      assert.equal(updated.structuredContent.note.id, noteId);

      // Straight from the store, not through the server: the writes really landed.
      assert.deepEqual((await store.demo.listProjects()).map((p) => p.name).sort(), ['Roadmap', 'Welcome']);
      const stored = await store.demo.getNote(noteId);
      assert.equal(stored?.title, 'Q3 plan');
      assert.equal(stored?.body, 'Ship it all.');
      assert.equal((await store.demo.listNotes(project.id)).length, 1);
    });

    it('deleting a note needs demo:delete', async (t) => {
      const { store, mcp } = await demo(t);
      const writer = await connect(t, mcp, ['demo:read', 'demo:write']);
      const noteId = (await writer.call('write_note', { projectId: 'prj_welcome', title: 'Scratch', body: '' })).structuredContent.note.id;

      // Not listed, and not callable: the tool does not exist for this token (-32602 "not found").
      assert.ok(!(await writer.toolNames()).includes('delete_note'));
      await assert.rejects(writer.call('delete_note', { noteId }), { code: -32602 });
      assert.ok(await store.demo.getNote(noteId));

      const deleter = await connect(t, mcp, ['demo:delete']);
      assert.deepEqual(await deleter.toolNames(), ['delete_note']);
      const deleted = await deleter.call('delete_note', { noteId });
      assert.deepEqual(deleted.structuredContent, { deleted: noteId });
      assert.equal(await store.demo.getNote(noteId), undefined);

      // Deleting again changes nothing and says so.
      assert.equal((await deleter.call('delete_note', { noteId })).isError, true);
    });

    it('an unknown id is a tool error that tells the model how to recover', async (t) => {
      const { mcp } = await demo(t);
      const client = await connect(t, mcp, ['demo:read', 'demo:write']);

      const missingNote = await client.call('read_note', { noteId: 'note_nope' });
      assert.equal(missingNote.isError, true);
      assert.match(text(missingNote), /list_notes/);

      const missingProject = await client.call('list_notes', { projectId: 'prj_nope' });
      assert.equal(missingProject.isError, true);
      assert.match(text(missingProject), /list_projects/);

      assert.equal((await client.call('write_note', { projectId: 'prj_nope', title: 't', body: 'b' })).isError, true);
      // Updating needs an existing note: a client cannot pick a new note's id.
      assert.equal((await client.call('write_note', { projectId: 'prj_welcome', noteId: 'note_nope', title: 't', body: 'b' })).isError, true);
    });

    it('a note cannot be moved to another project by updating it', async (t) => {
      const { store, mcp } = await demo(t);
      const client = await connect(t, mcp, ['demo:write']);
      const other = (await client.call('create_project', { name: 'Other' })).structuredContent.project;
      const moved = await client.call('write_note', { projectId: other.id, noteId: 'note_welcome', title: 'Hijacked', body: '' });
      assert.equal(moved.isError, true);
      assert.equal((await store.demo.getNote('note_welcome'))?.projectId, 'prj_welcome');
      assert.notEqual((await store.demo.getNote('note_welcome'))?.title, 'Hijacked');
    });

    it('bad input is a tool error, and the server keeps serving', async (t) => {
      const { mcp } = await demo(t);
      const client = await connect(t, mcp, ['demo:read', 'demo:write']);
      const bad: Array<[string, Record<string, unknown>]> = [
        ['read_note', { noteId: 42 }],
        ['read_note', {}],
        ['list_notes', { projectId: '' }],
        ['create_project', { name: '' }],
        ['write_note', { projectId: 'prj_welcome', body: 'no title' }],
        ['write_note', { projectId: 'prj_welcome', title: 'x'.repeat(201), body: '' }],
      ];
      for (const [tool, args] of bad) {
        const result = await client.call(tool, args);
        assert.equal(result.isError, true, `${tool} ${JSON.stringify(args)}`);
        assert.match(text(result), /Input validation error/);
      }
      assert.equal((await client.call('list_projects', {})).isError, undefined);
    });
  });
}

describe('demo MCP server over HTTP', () => {
  it('answers GET and DELETE with 405: it is stateless, with no sessions or standalone streams', async (t) => {
    const { mcp } = await demo(t);
    for (const method of ['GET', 'DELETE']) {
      const request = new Request(ENDPOINT, { method, headers: { accept: 'application/json, text/event-stream' } });
      const res = await mcp.fetch(request, { authInfo: authInfo(['demo:read']) });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'POST');
    }
  });

  it('answers a body that is not JSON with a JSON-RPC parse error, not a crash', async (t) => {
    const { mcp } = await demo(t);
    const request = new Request(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":',
    });
    const res = await mcp.fetch(request, { authInfo: authInfo(['demo:read']) });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, -32700);
  });
});

describe('demo data', () => {
  it('seeds the Welcome project once, and never when projects exist', async (t) => {
    const { store } = await demo(t); // already seeded once
    assert.equal(await seedDemoData(store.demo), false);
    assert.deepEqual((await store.demo.listProjects()).map((p) => p.name), ['Welcome']);
    assert.equal((await store.demo.listNotes('prj_welcome')).length, 1);

    const emptyDir = mkdtempSync(join(tmpdir(), 'portcullis-demo-'));
    const other = await openStore({ dataDir: emptyDir });
    t.after(async () => {
      await other.close();
      rmSync(emptyDir, { recursive: true, force: true });
    });
    await other.migrate();
    await other.demo.putProject({ id: 'prj_mine', name: 'Mine', createdAt: 1 });
    assert.equal(await seedDemoData(other.demo), false);
    assert.deepEqual((await other.demo.listProjects()).map((p) => p.name), ['Mine']);
  });

  it('leaves the data on disk: a reopened store still has what a client wrote', async (t) => {
    const { mcp, dataDir } = await demo(t);
    const client = await clients[1].connect(t, mcp, ['demo:write']);
    const noteId = (await client.call('write_note', { projectId: 'prj_welcome', title: 'Kept', body: 'on disk' })).structuredContent.note.id;

    const reopened = await openStore({ dataDir });
    t.after(() => reopened.close());
    assert.equal((await reopened.demo.getNote(noteId))?.body, 'on disk');
    assert.equal(await seedDemoData(reopened.demo), false);
  });
});
