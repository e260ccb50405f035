/**
 * The built-in demo MCP server: projects and notes, kept in the Store's `DemoStore`.
 *
 * It is a real MCP server on the v2 SDK's `createMcpHandler`, which builds a fresh `McpServer`
 * per HTTP request and serves both protocol eras from it: 2026-07-28 clients (per-request
 * `_meta` envelope, `server/discover`) and 2025-era clients (`initialize`, served statelessly).
 * It verifies no token itself: whoever mounts it (the gateway) authenticates the request and
 * hands over the verified `AuthInfo`, whose scopes decide which tools this request's server has.
 */
import type { DemoNote, DemoProject, DemoStore } from '../store/demo.ts';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import type { AuthInfo, CallToolResult, RegisteredTool } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { randomBase62 } from '../core/crypto.ts';
import { DEMO_TOOLS, type DemoTool, type DemoToolName } from './tools.ts';
import pkg from '../../package.json' with { type: 'json' };

export const DEMO_SERVER_NAME = 'portcullis-demo';

export interface DemoMcp {
  /** Serve one MCP request over Streamable HTTP. `authInfo` must already be verified. */
  fetch(request: Request, options: { authInfo: AuthInfo }): Promise<Response>;
  /** Abort in-flight exchanges (for shutdown). */
  close(): Promise<void>;
}

export interface DemoMcpOptions {
  /** Out-of-band errors the SDK would otherwise swallow (reporting only). */
  onerror?: (error: Error) => void;
}

export function createDemoMcp(store: DemoStore, options: DemoMcpOptions = {}): DemoMcp {
  const handler = createMcpHandler(({ authInfo }) => createDemoServer(store, authInfo?.scopes ?? []), {
    onerror: options.onerror,
  });
  return {
    fetch: (request, { authInfo }) => handler.fetch(request, { authInfo }),
    close: () => handler.close(),
  };
}

/**
 * One server instance holding exactly the tools `scopes` allow, so `tools/list` shows a token
 * only what it may call, and a call to any other tool is "not found" (defence in depth: the
 * gateway already answers 403 insufficient_scope before a request gets here).
 */
export function createDemoServer(store: DemoStore, scopes: readonly string[]): McpServer {
  // listChanged: false because the list is fixed for a token; it changes only with a new token.
  const server = new McpServer(
    { name: DEMO_SERVER_NAME, version: pkg.version },
    { capabilities: { tools: { listChanged: false } } },
  );
  const registered = registerDemoTools(server, store);
  const held = new Set(scopes);
  // Removing (rather than never registering) keeps the tools capability and its handlers even
  // for a token that may call nothing, so its tools/list answers [] instead of "method not found".
  for (const tool of DEMO_TOOLS) if (!held.has(tool.scope)) registered[tool.name].remove();
  return server;
}

/**
 * Create the "Welcome" project and its note, only when there are no projects yet.
 * Fixed ids make two processes seeding at once write the same rows instead of two copies.
 * Returns whether it seeded.
 */
export async function seedDemoData(store: DemoStore): Promise<boolean> {
  if ((await store.listProjects()).length > 0) return false;
  const at = nowSeconds();
  await store.putProject({ id: 'prj_welcome', name: 'Welcome', createdAt: at });
  await store.putNote({
    id: 'note_welcome',
    projectId: 'prj_welcome',
    title: 'What is this?',
    body: [
      'This is the Portcullis demo MCP server: a small notebook of projects and notes that',
      'Portcullis protects out of the box, so you can try signing a client in end to end.',
      '',
      'Each tool needs a scope: demo:read lists projects and reads notes, demo:write creates',
      'projects and writes notes, demo:delete deletes notes. A token sees only the tools its',
      'scopes allow; ask for more scopes to unlock more tools.',
    ].join('\n'),
    updatedAt: at,
  });
  return true;
}

// ---- tools ----------------------------------------------------------------------------------

const idField = (what: string) => z.string().min(1).max(100).describe(`The ${what}'s id`);
const Project = z.object({ id: z.string(), name: z.string(), createdAt: z.number() });
const NoteSummary = z.object({ id: z.string(), title: z.string(), updatedAt: z.number() });
const Note = z.object({ id: z.string(), projectId: z.string(), title: z.string(), body: z.string(), updatedAt: z.number() });

type Register = (server: McpServer, store: DemoStore, tool: DemoTool) => RegisteredTool;

/** Title, description and annotations come from the catalogue, so the two cannot drift. */
function describeTool(tool: DemoTool) {
  return { title: tool.title, description: tool.description, annotations: tool.annotations };
}

const registerListProjects: Register = (server, store, tool) =>
  server.registerTool(
    tool.name,
    { ...describeTool(tool), inputSchema: z.object({}), outputSchema: z.object({ projects: z.array(Project) }) },
    async () => {
      const projects = await store.listProjects();
      const text = projects.length
        ? `${count(projects.length, 'project')}:\n${projects.map((p) => `- ${p.name} (id ${p.id})`).join('\n')}`
        : 'There are no projects yet. Create one with create_project.';
      return ok(text, { projects });
    },
  );

const registerListNotes: Register = (server, store, tool) =>
  server.registerTool(
    tool.name,
    {
      ...describeTool(tool),
      inputSchema: z.object({ projectId: idField('project') }),
      outputSchema: z.object({ projectId: z.string(), notes: z.array(NoteSummary) }),
    },
    async ({ projectId }) => {
      const project = await findProject(store, projectId);
      if (!project) return projectNotFound(projectId);
      const notes = (await store.listNotes(projectId)).map(({ id, title, updatedAt }) => ({ id, title, updatedAt }));
      const text = notes.length
        ? `${count(notes.length, 'note')} in ${project.name}:\n${notes.map((n) => `- ${n.title} (id ${n.id})`).join('\n')}`
        : `${project.name} has no notes yet.`;
      return ok(text, { projectId, notes });
    },
  );

const registerReadNote: Register = (server, store, tool) =>
  server.registerTool(
    tool.name,
    { ...describeTool(tool), inputSchema: z.object({ noteId: idField('note') }), outputSchema: z.object({ note: Note }) },
    async ({ noteId }) => {
      const note = await store.getNote(noteId);
      if (!note) return noteNotFound(noteId);
      return ok(`# ${note.title}\n\n${note.body}`, { note });
    },
  );

const registerCreateProject: Register = (server, store, tool) =>
  server.registerTool(
    tool.name,
    {
      ...describeTool(tool),
      inputSchema: z.object({ name: z.string().min(1).max(200).describe('A short name for the project') }),
      outputSchema: z.object({ project: Project }),
    },
    async ({ name }) => {
      const project: DemoProject = { id: `prj_${randomBase62(16)}`, name, createdAt: nowSeconds() };
      await store.putProject(project);
      return ok(`Created project ${name} (id ${project.id}).`, { project });
    },
  );

const WriteNoteInput = z.object({
  projectId: idField('project'),
  title: z.string().min(1).max(200).describe('The note title'),
  body: z.string().max(100_000).describe('The note text (plain text or Markdown)'),
  noteId: idField('note').optional().describe('Give the id of an existing note to update it; omit it to create a new note'),
});

async function writeNote(store: DemoStore, { projectId, title, body, noteId }: z.infer<typeof WriteNoteInput>): Promise<CallToolResult> {
  const project = await findProject(store, projectId);
  if (!project) return projectNotFound(projectId);
  if (noteId !== undefined) {
    // Updating needs an existing note: clients do not get to choose ids, and the store
    // keeps a note in its project, so a mismatched projectId is reported, not ignored.
    const existing = await store.getNote(noteId);
    if (!existing) return noteNotFound(noteId);
    if (existing.projectId !== projectId) {
      return fail(`Note ${noteId} belongs to project ${existing.projectId}, not ${projectId}. Notes cannot move between projects.`);
    }
  }
  const note: DemoNote = { id: noteId ?? `note_${randomBase62(16)}`, projectId, title, body, updatedAt: nowSeconds() };
  await store.putNote(note);
  const created = noteId === undefined;
  return ok(`${created ? 'Created' : 'Updated'} note ${title} (id ${note.id}) in ${project.name}.`, { note, created });
}

const registerWriteNote: Register = (server, store, tool) =>
  server.registerTool(
    tool.name,
    { ...describeTool(tool), inputSchema: WriteNoteInput, outputSchema: z.object({ note: Note, created: z.boolean() }) },
    (input) => writeNote(store, input),
  );

const registerDeleteNote: Register = (server, store, tool) =>
  server.registerTool(
    tool.name,
    { ...describeTool(tool), inputSchema: z.object({ noteId: idField('note') }), outputSchema: z.object({ deleted: z.string() }) },
    async ({ noteId }) => {
      if (!(await store.deleteNote(noteId))) return noteNotFound(noteId);
      return ok(`Deleted note ${noteId}.`, { deleted: noteId });
    },
  );

/** How each tool of the catalogue is served; a tool added there without one here does not compile. */
const REGISTER: Readonly<Record<DemoToolName, Register>> = {
  list_projects: registerListProjects,
  list_notes: registerListNotes,
  read_note: registerReadNote,
  create_project: registerCreateProject,
  write_note: registerWriteNote,
  delete_note: registerDeleteNote,
};

/** Every tool of the catalogue, registered in catalogue order (the order tools/list shows). */
function registerDemoTools(server: McpServer, store: DemoStore): Record<DemoToolName, RegisteredTool> {
  return Object.fromEntries(DEMO_TOOLS.map((tool) => [tool.name, REGISTER[tool.name](server, store, tool)])) as Record<DemoToolName, RegisteredTool>;
}

// ---- helpers --------------------------------------------------------------------------------

// The store has no getProject; demo data is small enough to scan.
async function findProject(store: DemoStore, projectId: string): Promise<DemoProject | undefined> {
  return (await store.listProjects()).find((p) => p.id === projectId);
}

// Not-found is a tool error (isError), not a protocol error: the model reads the hint and recovers.
function projectNotFound(projectId: string): CallToolResult {
  return fail(`No project with id ${projectId}. Call list_projects to see the project ids.`);
}

function noteNotFound(noteId: string): CallToolResult {
  return fail(`No note with id ${noteId}. Call list_notes with a projectId to see the note ids.`);
}

function ok(text: string, structuredContent: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent };
}

function fail(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
