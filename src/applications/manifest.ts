/**
 * The tool manifest: what an administrator reviews. A tool's fingerprint covers everything that
 * changes what a model is told or sends — title, description, input and output schema,
 * annotations — so any silent change to a tool sends it back to review.
 */
import type { SeenTool } from '../store/tools.ts';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';


export interface ListedTool {
  name: string;
  title?: unknown;
  description?: unknown;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
}

export function toolFingerprint(tool: ListedTool): string {
  const reviewed = {
    title: tool.title,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
    annotations: tool.annotations,
  };
  return createHash('sha256').update(canonicalJson(reviewed)).digest('base64url');
}

const jsonObject = (value: unknown): string | null => (value && typeof value === 'object' ? JSON.stringify(value) : null);

/** What is kept of a listed tool: everything the fingerprint covers, so a reviewer can see it. */
export function seenTool(tool: ListedTool): SeenTool {
  return {
    name: tool.name,
    title: typeof tool.title === 'string' ? tool.title : null,
    description: typeof tool.description === 'string' ? tool.description : null,
    annotations: jsonObject(tool.annotations),
    inputSchema: jsonObject(tool.inputSchema),
    outputSchema: jsonObject(tool.outputSchema),
    fingerprint: toolFingerprint(tool),
  };
}

export function isListedTool(value: unknown): value is ListedTool {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string';
}
