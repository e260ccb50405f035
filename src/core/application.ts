/**
 * An application = one protected MCP server: where it is served, what it forwards to, its scopes
 * and which scope each tool needs. Definitions come from the config file (`applications`) and the
 * admin API, are validated by one strict schema, and are resolved against the public URL into
 * what the gateway and the authorization server use.
 */
import * as z from 'zod';
import { isCidr } from './addresses.ts';
import { isTimeZone, type TimeWindow } from './time-windows.ts';
import type { ResourceRole } from './roles.ts';

const SLUG = /^[a-z][a-z0-9-]{0,39}$/;
/**
 * Slugs that are console routes: `/server/applications/<slug>` would be shadowed by the page of
 * that name (`new` is the add form), so such an application could never be opened there.
 */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set(['new']);
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 §3.3 scope-token

/** Seconds, or a duration such as "5m", "1h". */
const seconds = z.union([z.int().positive(), z.string().regex(/^\d+[smhd]$/)]).transform((v) =>
  typeof v === 'number' ? v : Number(v.slice(0, -1)) * { s: 1, m: 60, h: 3600, d: 86400 }[v.slice(-1) as 's' | 'm' | 'h' | 'd'],
);

/**
 * IPv4/IPv6 CIDR ("10.0.0.0/8", "2001:db8::/32") or a single address. Checked with the policy's own
 * parser (policy/rules/ip-allow.ts): the former pattern let "dead" or "10.0.0.0/33" through, which
 * then failed every request with a 500.
 */
const cidr = z.string().refine(isCidr, 'expected an IP address or CIDR range');

const timeWindow = z.strictObject({
  /** Days of the week the window is open, 0 = Sunday. Default: every day. */
  days: z.array(z.int().min(0).max(6)).min(1).optional(),
  /** "09:00" — inclusive. */
  from: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
  /** "17:30" — exclusive; earlier than `from` means the window spans midnight. */
  to: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
  /** IANA time zone, default UTC (one the runtime does not know would close the window for good). */
  timeZone: z.string().refine(isTimeZone, 'expected an IANA time zone such as "Europe/Paris"').default('UTC'),
});

const conditions = {
  /** Callers must come from one of these addresses. */
  ipAllow: z.array(cidr).min(1).optional(),
  /** Calls are allowed only inside one of these windows. */
  timeWindows: z.array(timeWindow).min(1).optional(),
};

const toolRule = z.strictObject({
  /** The scope this tool needs (overrides the default derived from its annotations). */
  scope: z.string().regex(SCOPE).optional(),
  /**
   * The user must have signed in within `maxAge` to call this tool — with a second factor when
   * `mfa` is true (RFC 9470 `acr_values` urn:portcullis:acr:mfa; authz/step-up.ts).
   */
  stepUp: z.strictObject({ maxAge: seconds, mfa: z.boolean().optional() }).optional(),
  /**
   * Arguments that name a resource of the organization, e.g. `{ "projectId": "project" }`: a call on
   * a resource outside the caller's token or key is refused (policy rule resource-access,
   * docs/design/identity.md).
   */
  arguments: z.record(z.string().min(1).max(100), z.enum(['workspace', 'project', 'folder'])).optional(),
  ...conditions,
});

const httpUpstream = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** Extra headers sent upstream (never the client's token). */
  headers: z.record(z.string(), z.string()).optional(),
  /** How long to wait for response headers, in ms. */
  timeoutMs: z.int().min(100).max(600_000).default(30_000),
});

const stdioUpstream = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().optional(),
  /** One process per user (default), or one shared by everyone with JSON-RPC ids rewritten. */
  isolation: z.enum(['per-user', 'shared']).default('per-user'),
  /** Stop a process after this long without requests. */
  idleTimeout: seconds.default(600),
  /** At most this many processes for this application. */
  maxProcesses: z.int().min(1).max(1000).default(50),
  timeoutMs: z.int().min(100).max(600_000).default(30_000),
});

/** The in-process demo server (not for configuration files). */
const builtinUpstream = z.strictObject({ builtin: z.literal('demo') });

export const ApplicationDefinitionSchema = z.strictObject({
  slug: z
    .string()
    .regex(SLUG, 'lowercase letters, digits and dashes, starting with a letter (max 40)')
    .refine((slug) => !RESERVED_SLUGS.has(slug), 'this name is reserved by the console (/server/applications/new is the add form); choose another'),
  name: z.string().min(1).max(100),
  /** Public path; default /mcp/<slug>. */
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/, 'a path such as /mcp/notes')
    .refine((p) => !p.endsWith('/') && !p.includes('//') && !/\/\.\.?(\/|$)/.test(p), 'no trailing slash, empty or dot segments')
    .optional(),
  upstream: z.union([httpUpstream, stdioUpstream, builtinUpstream]),
  /** Scopes with plain-English descriptions; default `<slug>:read`, `<slug>:write`, `<slug>:delete`. */
  scopes: z
    .array(
      z.strictObject({
        name: z.string().regex(SCOPE),
        description: z.string().min(1).max(200),
        /** The least role that may hold this scope (default by suffix: :read viewer, :write editor, :delete manager). */
        minRole: z.enum(['viewer', 'editor', 'manager']).optional(),
      }),
    )
    .min(1)
    .optional(),
  /** Granted when a client asks for none; default the read and write scopes. */
  defaultScopes: z.array(z.string().regex(SCOPE)).optional(),
  /** Per-tool rules: scope, step-up, conditions. */
  tools: z.record(z.string().min(1), toolRule).default({}),
  /** Scopes for resources (URI or URI prefix ending in `*`) and prompts, when an admin assigns them. */
  resources: z.record(z.string().min(1), z.string().regex(SCOPE)).default({}),
  prompts: z.record(z.string().min(1), z.string().regex(SCOPE)).default({}),
  /** Conditions for every call to this application. */
  ...conditions,
  /** Development only: new or changed tools need no review. */
  autoApprove: z.boolean().default(false),
  /**
   * What the audit trail keeps of a tool call's arguments: nothing (the default), a keyed hash
   * (identical arguments match, none can be read back), or the arguments themselves with every
   * value under a key matching `redact` (or the server's `audit.redactKeys`) replaced.
   */
  audit: z
    .strictObject({
      arguments: z.enum(['none', 'hash', 'full']).default('none'),
      /** Case-insensitive regular expressions matched against argument keys, at any depth. */
      redact: z.array(z.string().min(1).max(200).refine(isRegExp, 'expected a regular expression')).default([]),
    })
    .prefault({}),
});

/** Whether `source` compiles as a case-insensitive regular expression. */
export function isRegExp(source: string): boolean {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}

export type ApplicationDefinition = z.input<typeof ApplicationDefinitionSchema>;
export type ParsedDefinition = z.output<typeof ApplicationDefinitionSchema>;
export type ToolRule = z.output<typeof toolRule>;
export type HttpUpstream = z.output<typeof httpUpstream>;
export type StdioUpstream = z.output<typeof stdioUpstream>;
export type Upstream = ParsedDefinition['upstream'];

export interface Conditions {
  ipAllow?: string[];
  timeWindows?: TimeWindow[];
}

/** A definition resolved against the server's public URL. */
export interface Application {
  slug: string;
  name: string;
  /** Path on this server, e.g. /mcp/notes. */
  path: string;
  /** Canonical resource URL = token audience. */
  resource: string;
  upstream: Upstream;
  scopes: { name: string; description: string; minRole?: ResourceRole }[];
  defaultScopes: string[];
  /** The scope a step-up (recent sign-in) is granted under, when any tool asks for one. */
  stepUpScope: string | undefined;
  /** Shortest step-up max age of any tool (tokens carrying the step-up scope live no longer). */
  stepUpMaxAge: number | undefined;
  /** Some tool's step-up asks for a second factor: the step-up scope then costs one (strictest wins, like the max age). */
  stepUpMfa: boolean;
  tools: Record<string, ToolRule>;
  resources: Record<string, string>;
  prompts: Record<string, string>;
  conditions: Conditions;
  autoApprove: boolean;
  definition: ParsedDefinition;
}

export function defaultScopesFor(slug: string, name: string): { name: string; description: string }[] {
  return [
    { name: `${slug}:read`, description: `Read data through ${name}` },
    { name: `${slug}:write`, description: `Create and change data through ${name}` },
    { name: `${slug}:delete`, description: `Delete data through ${name}` },
  ];
}

export function resolveApplication(definition: ParsedDefinition, publicUrl: string): Application {
  const path = definition.path ?? `/mcp/${definition.slug}`;
  const scopes = [...(definition.scopes ?? defaultScopesFor(definition.slug, definition.name))];
  const maxAges = Object.values(definition.tools).flatMap((rule) => (rule.stepUp ? [rule.stepUp.maxAge] : []));
  const stepUpScope = maxAges.length ? `${definition.slug}:step-up` : undefined;
  if (stepUpScope && !scopes.some((s) => s.name === stepUpScope)) {
    scopes.push({ name: stepUpScope, description: `Confirm it is you before sensitive actions in ${definition.name}` });
  }
  const names = new Set(scopes.map((s) => s.name));
  const defaultScopes =
    definition.defaultScopes ?? [`${definition.slug}:read`, `${definition.slug}:write`].filter((s) => names.has(s));
  return {
    slug: definition.slug,
    name: definition.name,
    path,
    resource: `${publicUrl}${path}`,
    upstream: definition.upstream,
    scopes,
    defaultScopes,
    stepUpScope,
    stepUpMaxAge: maxAges.length ? Math.min(...maxAges) : undefined,
    stepUpMfa: Object.values(definition.tools).some((rule) => rule.stepUp?.mfa === true),
    tools: definition.tools,
    resources: definition.resources,
    prompts: definition.prompts,
    conditions: { ipAllow: definition.ipAllow, timeWindows: definition.timeWindows },
    autoApprove: definition.autoApprove,
    definition,
  };
}

/** Problems zod cannot see: scopes that are used but not declared, paths reserved by the server. */
export function definitionProblems(definition: ParsedDefinition): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const resolved = resolveApplication(definition, 'http://localhost');
  const declared = new Set(resolved.scopes.map((s) => s.name));
  for (const scope of resolved.defaultScopes) {
    if (!declared.has(scope)) problems.push({ path: 'defaultScopes', message: `${scope} is not one of the application's scopes` });
  }
  for (const [tool, rule] of Object.entries(definition.tools)) {
    if (rule.scope && !declared.has(rule.scope)) problems.push({ path: `tools.${tool}.scope`, message: `${rule.scope} is not one of the application's scopes` });
  }
  for (const [key, scope] of [...Object.entries(definition.resources), ...Object.entries(definition.prompts)]) {
    if (!declared.has(scope)) problems.push({ path: key, message: `${scope} is not one of the application's scopes` });
  }
  if (/^\/(oauth|interaction|setup|login|logout|assets|healthz|readyz|metrics|device|admin|\.well-known)(\/|$)/.test(resolved.path)) {
    problems.push({ path: 'path', message: `${resolved.path} is reserved by the server` });
  }
  return problems;
}
