/**
 * The demo MCP server's tool catalogue, as plain data. The server registers from it, and the
 * guard, the gateway and the consent screen read it to answer "which scope does this tool need?"
 * and "which tools does this scope enable?" without loading the MCP SDK.
 *
 * Annotations are hints for clients deciding what to auto-approve (MCP spec, "Tool annotations").
 * Unset hints take the spec's pessimistic defaults (readOnlyHint false, destructiveHint true,
 * idempotentHint false, openWorldHint true), so every tool states each hint that applies to it.
 */

export type DemoScope = 'demo:read' | 'demo:write' | 'demo:delete';

/** Plain-English meaning of each scope, worded for the consent screen ("<client> wants to …"). */
export const DEMO_SCOPES: Readonly<Record<DemoScope, string>> = {
  'demo:read': 'See your demo projects and read their notes',
  'demo:write': 'Create demo projects, and write or edit notes',
  'demo:delete': 'Delete demo notes',
};

export type DemoToolName =
  | 'list_projects'
  | 'list_notes'
  | 'read_note'
  | 'create_project'
  | 'write_note'
  | 'delete_note';

/** The MCP `ToolAnnotations` this catalogue uses (kept local so this file has no SDK import). */
export interface DemoToolAnnotations {
  readOnlyHint: boolean;
  /** Meaningful only when readOnlyHint is false. */
  destructiveHint?: boolean;
  /** Meaningful only when readOnlyHint is false. */
  idempotentHint?: boolean;
  openWorldHint: boolean;
}

export interface DemoTool {
  name: DemoToolName;
  title: string;
  description: string;
  /** The one scope a token needs to see and call this tool. */
  scope: DemoScope;
  annotations: DemoToolAnnotations;
}

// Every tool touches only the demo's own store, never the outside world: openWorldHint is false.
export const DEMO_TOOLS: readonly DemoTool[] = [
  {
    name: 'list_projects',
    title: 'List projects',
    description: 'List every demo project with its id. Start here: other tools take a projectId.',
    scope: 'demo:read',
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'list_notes',
    title: 'List notes',
    description: "List the notes of one project (ids and titles, newest first). Use read_note for a note's body.",
    scope: 'demo:read',
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'read_note',
    title: 'Read a note',
    description: 'Read one note: its title, body and project.',
    scope: 'demo:read',
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'create_project',
    title: 'Create a project',
    description: 'Create a new, empty project and return its id.',
    scope: 'demo:write',
    // Each call creates another project, so repeating it is not harmless.
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  },
  {
    name: 'write_note',
    title: 'Write a note',
    description:
      'Create a note in a project, or update an existing one by passing its noteId (title and body are replaced).',
    scope: 'demo:write',
    // Without a noteId every call creates another note, so it is not idempotent.
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  },
  {
    name: 'delete_note',
    title: 'Delete a note',
    description: 'Delete one note permanently.',
    scope: 'demo:delete',
    // Deleting the same note again changes nothing more (it reports the note as not found).
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  },
];

const SCOPE_BY_TOOL: ReadonlyMap<string, DemoScope> = new Map(DEMO_TOOLS.map((t) => [t.name, t.scope]));

/** The scope a tool needs, or undefined for a name that is not a demo tool. */
export function scopeForTool(name: string): DemoScope | undefined {
  return SCOPE_BY_TOOL.get(name);
}

/** The tools a token holding `scopes` may see and call, in catalogue order. */
export function toolsForScopes(scopes: Iterable<string>): DemoTool[] {
  const held = new Set(scopes);
  return DEMO_TOOLS.filter((t) => held.has(t.scope));
}
