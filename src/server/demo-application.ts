/** The built-in demo MCP server (demo/), protected like any other application; its tools are pre-approved. */
import type { ApplicationDefinition } from '../core/application.ts';
import { DEMO_SCOPES } from '../demo/tools.ts';

export const DEMO_APPLICATION: ApplicationDefinition = {
  slug: 'demo',
  name: 'Demo notes',
  path: '/mcp',
  upstream: { builtin: 'demo' },
  scopes: Object.entries(DEMO_SCOPES).map(([name, description]) => ({ name, description })),
  // Least privilege by default: deleting is asked for separately, when a delete is attempted.
  defaultScopes: ['demo:read', 'demo:write'],
  autoApprove: true,
};
