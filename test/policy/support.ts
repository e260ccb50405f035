/** Applications and calls for the policy's unit tests: definitions go through the real schema. */
import type { ToolRecord } from '../../src/store/tools.ts';
import { ApplicationDefinitionSchema, resolveApplication, type Application, type ApplicationDefinition } from '../../src/core/application.ts';
import type { Caller, CallTarget, PolicyInput } from '../../src/policy/index.ts';

export function app(definition: Partial<ApplicationDefinition> = {}): Application {
  const parsed = ApplicationDefinitionSchema.parse({
    slug: 'vault',
    name: 'Vault',
    upstream: { url: 'http://127.0.0.1:1/mcp' },
    ...definition,
  });
  return resolveApplication(parsed, 'https://auth.example.com');
}

export function caller(overrides: Partial<Caller> = {}): Caller {
  return {
    subject: 'usr_1',
    clientId: 'client_1',
    scopes: new Set(['vault:read', 'vault:write']),
    authTime: undefined,
    ip: '192.0.2.10',
    ...overrides,
  };
}

export function call(name: string, args: Record<string, unknown> = {}): CallTarget {
  return { method: 'tools/call', name, arguments: args };
}

export function approvedTool(name: string, annotations: Record<string, unknown> | null = { readOnlyHint: true }): ToolRecord {
  return {
    appSlug: 'vault',
    name,
    title: null,
    description: null,
    annotations: annotations ? JSON.stringify(annotations) : null,
    inputSchema: null,
    outputSchema: null,
    fingerprint: 'f',
    status: 'approved',
    approvedFingerprint: 'f',
    approved: null,
    firstSeenAt: 0,
    lastSeenAt: 0,
    reviewedAt: 0,
    reviewedBy: null,
  };
}

/** Epoch ms of an ISO instant, e.g. at('2025-03-10T09:30:00Z'). */
export const at = (iso: string): number => Date.parse(iso);

export function input(application: Application, target: CallTarget, overrides: Partial<PolicyInput> = {}): PolicyInput {
  return { app: application, caller: caller(), target, now: at('2025-03-10T12:00:00Z'), ...overrides };
}
