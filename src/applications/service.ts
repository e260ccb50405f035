/**
 * Managing applications on the store: the rules the admin API applies, free of HTTP. The store is
 * the truth every process shares; after a change this process is told at once (`changed`, the
 * registry reloads) and the others notice within about two seconds (the registry polls the store's
 * fingerprint), so nothing needs a restart anywhere.
 *
 * Applications from the configuration file and the built-in demo are read-only here: the file (or
 * the code) would put them back on the next start, so an edit through the API would silently
 * vanish.
 */
import { isInternalHost } from '../shared/net.ts';
import type { Store } from '../store/store.ts';
import type { ToolRecord, ToolStatus } from '../store/tools.ts';
import type { StoredApplication } from '../store/applications.ts';
import { fieldErrors } from '../core/input.ts';
import type { Application, ParsedDefinition } from '../core/application.ts';
import { parseDefinition } from './registry.ts';
import { ApplicationDefinitionSchema, resolveApplication } from '../core/application.ts';
import { statusOf, definitionHash, type StatusReport } from './status.ts';
import { PortcullisError } from '../core/errors.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { isReadOnly, resolveStored, restoreMasked } from './views.ts';

export interface ApplicationServiceDeps {
  store: Store;
  publicUrl: string;
  /** Epoch seconds. */
  now: () => number;
  /** Called after every change, so this process applies it without waiting for its next poll. */
  changed?: () => Promise<void>;
  /** Application and tool-review changes are on the record, written before the change is answered. */
  audit?: AuditLog;
  /**
   * Set for an organization's owners and admins (/orgs/:org/applications, the org console): only
   * that organization's applications exist for them — any other is "not found", never "forbidden",
   * so an org admin learns nothing of another team's servers — and what they create is the org's.
   */
  orgId?: string;
  /**
   * An organization's MCP server may be at a loopback or private address (config
   * `organizationApplications.allowPrivateUpstreams`; development). Otherwise refused: the gateway
   * would call, for a team's admin, whatever internal service they name (SSRF).
   */
  allowPrivateUpstreams?: boolean;
}

/** Record a change made to an application (on its organization's trail too when it has one). */
async function recordChange(deps: ApplicationServiceDeps, kind: string, app: string, by: string | undefined, extra: { tool?: string; reason?: string; details?: Record<string, unknown>; orgId?: string | null } = {}): Promise<void> {
  await deps.audit?.write({ kind, app, orgId: extra.orgId ?? null, actor: by ?? 'system', tool: extra.tool ?? null, reason: extra.reason ?? null, details: extra.details ?? null });
}

/** Does this caller see this application at all? (Server-wide callers see every one.) */
const visible = (deps: ApplicationServiceDeps, stored: StoredApplication | undefined): stored is StoredApplication =>
  stored !== undefined && (deps.orgId === undefined || stored.orgId === deps.orgId);

export interface LoadedApplication {
  stored: StoredApplication;
  app: Application;
  status: StatusReport;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function invalid(errors: { path: string; message: string }[]): PortcullisError {
  return new PortcullisError('invalid_request', 'invalid application definition', { detail: { errors } });
}

/**
 * zod reports unknown keys once, at the object that holds them; an API caller wants the path of
 * each offending field (`upstream.comand`, not `upstream`).
 */
function schemaErrors(input: unknown): { path: string; message: string }[] {
  const result = ApplicationDefinitionSchema.safeParse(input);
  if (result.success) return [];
  return fieldErrors(result.error);
}

/**
 * Strict schema and cross-field rules (apps/registry.ts), plus what only the API forbids. An
 * organization's admins may not run a command: a stdio upstream runs as the server's own process,
 * with its files and environment, which is the server administrators' to give, not a team's.
 */
function validate(input: unknown, forOrg = false, allowPrivate = false): ParsedDefinition {
  if (!isObject(input)) throw invalid([{ path: '(root)', message: 'expected a JSON object' }]);
  const errors = schemaErrors(input);
  if (errors.length) throw invalid(errors);
  const parsed = parseDefinition(input);
  if ('builtin' in parsed.upstream) throw invalid([{ path: 'upstream', message: 'expected a url or a command (built-in servers are not configurable)' }]);
  if (forOrg && 'command' in parsed.upstream) throw invalid([{ path: 'upstream.command', message: 'only server administrators may run a command on the server; give the MCP server a url' }]);
  if (forOrg && !allowPrivate && 'url' in parsed.upstream && isInternalHost(new URL(parsed.upstream.url).hostname)) {
    throw invalid([{ path: 'upstream.url', message: 'an organization’s MCP server must be at a public address; a server administrator adds internal ones' }]);
  }
  return parsed;
}

const noApplication = (slug: string) => new PortcullisError('not_found', `no application ${slug}`);
const noTool = (slug: string, name: string) => new PortcullisError('not_found', `${slug} has no tool ${name}`);
const slugTaken = (slug: string) =>
  new PortcullisError('already_exists', `an application ${slug} exists already`, { detail: { errors: [{ path: 'slug', message: 'already taken' }] } });

async function load(deps: ApplicationServiceDeps, stored: StoredApplication): Promise<LoadedApplication | undefined> {
  const app = resolveStored(stored, deps.publicUrl);
  if (!app) return undefined;
  const [tools, selfTest] = await Promise.all([deps.store.tools.list(stored.slug), deps.store.selfTests.get(stored.slug)]);
  return { stored, app, status: statusOf(stored.slug, definitionHash(stored.definition), tools, selfTest) };
}

async function getApplication(deps: ApplicationServiceDeps, slug: string): Promise<LoadedApplication> {
  const stored = await deps.store.applications.get(slug);
  const loaded = visible(deps, stored) && (await load(deps, stored));
  if (!loaded) throw noApplication(slug);
  return loaded;
}

async function listApplications(deps: ApplicationServiceDeps): Promise<LoadedApplication[]> {
  const filter = deps.orgId === undefined ? undefined : { orgId: deps.orgId };
  const loaded = await Promise.all((await deps.store.applications.list(filter)).map((stored) => load(deps, stored)));
  return loaded.filter((a): a is LoadedApplication => a !== undefined);
}

/** The stored application, if the API may change it (not one from the configuration file, not built in). */
async function writable(deps: ApplicationServiceDeps, slug: string): Promise<StoredApplication> {
  const stored = await deps.store.applications.get(slug);
  if (!visible(deps, stored)) throw noApplication(slug);
  if (isReadOnly(stored.source)) {
    throw new PortcullisError('read_only', `${slug} is ${stored.source === 'config' ? 'defined in the configuration file' : 'built in'}; change it there`, { detail: { source: stored.source } });
  }
  return stored;
}

/**
 * Another application already answers at this definition's path? Paths are one namespace for the
 * whole server; an organization's admin is told the path is taken, not by which (maybe another
 * team's) application.
 */
async function checkPath(deps: ApplicationServiceDeps, parsed: ParsedDefinition): Promise<void> {
  const path = resolveApplication(parsed, '').path;
  for (const other of await deps.store.applications.list()) {
    if (other.slug === parsed.slug) continue;
    const app = resolveStored(other, '');
    const by = visible(deps, other) ? other.slug : 'another application';
    if (app?.path === path) throw new PortcullisError('path_in_use', `${path} is already used by ${by}`, { detail: { errors: [{ path: 'path', message: `already used by ${by}` }] } });
  }
}

/** `orgId` (server administrators): create it for that organization; an org-scoped service always creates its own. */
async function createApplication(deps: ApplicationServiceDeps, input: unknown, by?: string, owner: string | null = null): Promise<LoadedApplication> {
  const { store } = deps;
  const orgId = deps.orgId ?? owner;
  const parsed = validate(input, deps.orgId !== undefined, deps.allowPrivateUpstreams);
  if (await store.applications.get(parsed.slug)) throw slugTaken(parsed.slug);
  await checkPath(deps, parsed);
  // Tools and a self-test left behind by an earlier application of the same name are not this one's.
  await store.tools.deleteApp(parsed.slug);
  await store.selfTests.delete(parsed.slug);
  const created = await store.applications.create({ slug: parsed.slug, definition: JSON.stringify(input), source: 'api', at: deps.now(), orgId });
  if (!created) throw slugTaken(parsed.slug);
  await recordChange(deps, 'application.created', parsed.slug, by, { orgId });
  await deps.changed?.();
  return getApplication(deps, parsed.slug);
}

async function updateApplication(deps: ApplicationServiceDeps, slug: string, input: unknown, by?: string): Promise<LoadedApplication> {
  const stored = await writable(deps, slug);
  if (isObject(input) && input.slug === undefined) input = { ...input, slug };
  if (isObject(input) && input.slug !== slug) throw invalid([{ path: 'slug', message: `must be ${slug} (an application's slug does not change)` }]);
  const edited = restoreMasked(input, JSON.parse(stored.definition));
  const parsed = validate(edited, deps.orgId !== undefined, deps.allowPrivateUpstreams);
  await checkPath(deps, parsed);
  await deps.store.applications.upsert({ slug, definition: JSON.stringify(edited), source: 'api', at: deps.now() });
  await recordChange(deps, 'application.updated', slug, by, { orgId: stored.orgId });
  await deps.changed?.();
  return getApplication(deps, slug);
}

async function removeApplication(deps: ApplicationServiceDeps, slug: string, by?: string): Promise<void> {
  const { store } = deps;
  const stored = await writable(deps, slug);
  await store.applications.delete(slug);
  await store.tools.deleteApp(slug);
  await store.selfTests.delete(slug);
  await recordChange(deps, 'application.deleted', slug, by, { orgId: stored.orgId });
  await deps.changed?.();
}

async function applicationTools(deps: ApplicationServiceDeps, slug: string): Promise<{ loaded: LoadedApplication; tools: ToolRecord[] }> {
  const loaded = await getApplication(deps, slug);
  return { loaded, tools: await deps.store.tools.list(slug) };
}

/**
 * Approve a tool as it is now listed (or exactly the version `fingerprint` names), or send it
 * back to review. Built-in and config applications too: reviewing tools is not editing the definition.
 */
async function reviewTool(deps: ApplicationServiceDeps, slug: string, name: string, status: ToolStatus, by: string, fingerprint?: string, actor = by): Promise<ToolRecord> {
  const { store } = deps;
  const current = async () => (await store.tools.list(slug)).find((t) => t.name === name);
  // The store reads '' as "no version named" (approve whatever is listed now); a caller that sends a
  // fingerprint means one version, so an empty one is a mistake, not a wildcard.
  if (fingerprint === '') throw new PortcullisError('invalid_request', 'fingerprint must name the version reviewed', { detail: { errors: [{ path: 'fingerprint', message: 'must not be empty' }] } });
  const { stored } = await getApplication(deps, slug);
  if (!(await current())) throw noTool(slug, name);
  const done = await store.tools.review(slug, name, status, by, deps.now(), fingerprint);
  if (!done) {
    const now = await current();
    if (!now) throw noTool(slug, name);
    throw new PortcullisError('tool_changed', `${name} changed since it was looked at; review it again`, { detail: { fingerprint: now.fingerprint } });
  }
  const reviewed = (await current())!;
  await recordChange(deps, 'tool.reviewed', slug, actor, { tool: name, reason: status, details: { fingerprint: reviewed.fingerprint }, orgId: stored.orgId });
  await deps.changed?.();
  return reviewed;
}

/**
 * Give an application to an organization, or back to the server (null). Server administrators
 * only: an org-scoped service refuses. A command-run (stdio) application stays server-wide — its
 * owners could not edit it (validate) and it runs as the server itself.
 */
async function moveApplication(deps: ApplicationServiceDeps, slug: string, orgId: string | null, by?: string): Promise<LoadedApplication> {
  if (deps.orgId !== undefined) throw new PortcullisError('forbidden', 'only server administrators move applications between organizations');
  const { stored, app } = await getApplication(deps, slug);
  if (orgId !== null && 'command' in app.upstream) throw invalid([{ path: 'org', message: 'an application that runs a command stays server-wide' }]);
  await deps.store.applications.setOrg(slug, orgId, deps.now());
  await recordChange(deps, 'application.moved', slug, by, { orgId: orgId ?? stored.orgId, details: { from: stored.orgId, to: orgId } });
  await deps.changed?.();
  return getApplication(deps, slug);
}

/** The operations above, bound to one store and server (the admin API and `portcullis apps` use them). */
export function applicationService(deps: ApplicationServiceDeps) {
  return {
    get: (slug: string) => getApplication(deps, slug),
    list: () => listApplications(deps),
    create: (input: unknown, by?: string, orgId?: string | null) => createApplication(deps, input, by, orgId ?? null),
    update: (slug: string, input: unknown, by?: string) => updateApplication(deps, slug, input, by),
    remove: (slug: string, by?: string) => removeApplication(deps, slug, by),
    move: (slug: string, orgId: string | null, by?: string) => moveApplication(deps, slug, orgId, by),
    tools: (slug: string) => applicationTools(deps, slug),
    /** `by` is shown with the tool (a person's e-mail); `actor` goes on the record (an id; default `by`). */
    review: (slug: string, name: string, status: ToolStatus, by: string, fingerprint?: string, actor?: string) => reviewTool(deps, slug, name, status, by, fingerprint, actor),
  };
}

export type ApplicationService = ReturnType<typeof applicationService>;
