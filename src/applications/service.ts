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
import type { Store } from '../store/store.ts';
import type { ToolRecord, ToolStatus } from '../store/tools.ts';
import type { StoredApplication } from '../store/applications.ts';
import { fieldErrors } from '../core/input.ts';
import type { Application, ParsedDefinition } from '../core/application.ts';
import { parseDefinition } from './registry.ts';
import { ApplicationDefinitionSchema, resolveApplication } from '../core/application.ts';
import { statusOf, definitionHash, type StatusReport } from './status.ts';
import { PortcullisError } from '../core/errors.ts';
import { isReadOnly, resolveStored, restoreMasked } from './views.ts';

export interface ApplicationServiceDeps {
  store: Store;
  publicUrl: string;
  /** Epoch seconds. */
  now: () => number;
  /** Called after every change, so this process applies it without waiting for its next poll. */
  changed?: () => Promise<void>;
}

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

/** Strict schema and cross-field rules (apps/registry.ts), plus what only the API forbids. */
function validate(input: unknown): ParsedDefinition {
  if (!isObject(input)) throw invalid([{ path: '(root)', message: 'expected a JSON object' }]);
  const errors = schemaErrors(input);
  if (errors.length) throw invalid(errors);
  const parsed = parseDefinition(input);
  if ('builtin' in parsed.upstream) throw invalid([{ path: 'upstream', message: 'expected a url or a command (built-in servers are not configurable)' }]);
  return parsed;
}

export function applicationService(deps: ApplicationServiceDeps) {
  const { store } = deps;

  async function load(stored: StoredApplication): Promise<LoadedApplication | undefined> {
    const app = resolveStored(stored, deps.publicUrl);
    if (!app) return undefined;
    const [tools, selfTest] = await Promise.all([store.tools.list(stored.slug), store.selfTests.get(stored.slug)]);
    return { stored, app, status: statusOf(stored.slug, definitionHash(stored.definition), tools, selfTest) };
  }

  async function get(slug: string): Promise<LoadedApplication> {
    const stored = await store.applications.get(slug);
    const loaded = stored && (await load(stored));
    if (!loaded) throw new PortcullisError('not_found', `no application ${slug}`);
    return loaded;
  }

  async function writable(slug: string): Promise<StoredApplication> {
    const stored = await store.applications.get(slug);
    if (!stored) throw new PortcullisError('not_found', `no application ${slug}`);
    if (isReadOnly(stored.source)) {
      throw new PortcullisError('read_only', `${slug} is ${stored.source === 'config' ? 'defined in the configuration file' : 'built in'}; change it there`, { detail: { source: stored.source } });
    }
    return stored;
  }

  /** Another application already answers at this definition's path? */
  async function checkPath(parsed: ParsedDefinition): Promise<void> {
    const path = resolveApplication(parsed, '').path;
    for (const other of await store.applications.list()) {
      if (other.slug === parsed.slug) continue;
      const app = resolveStored(other, '');
      if (app?.path === path) throw new PortcullisError('path_in_use', `${path} is already used by ${other.slug}`, { detail: { errors: [{ path: 'path', message: `already used by ${other.slug}` }] } });
    }
  }

  async function changed(): Promise<void> {
    await deps.changed?.();
  }

  return {
    get,

    async list(): Promise<LoadedApplication[]> {
      const loaded = await Promise.all((await store.applications.list()).map(load));
      return loaded.filter((a): a is LoadedApplication => a !== undefined);
    },

    async create(input: unknown): Promise<LoadedApplication> {
      const parsed = validate(input);
      if (await store.applications.get(parsed.slug)) throw new PortcullisError('already_exists', `an application ${parsed.slug} exists already`, { detail: { errors: [{ path: 'slug', message: 'already taken' }] } });
      await checkPath(parsed);
      // Tools and a self-test left behind by an earlier application of the same name are not this one's.
      await store.tools.deleteApp(parsed.slug);
      await store.selfTests.delete(parsed.slug);
      const created = await store.applications.create({ slug: parsed.slug, definition: JSON.stringify(input), source: 'api', at: deps.now() });
      if (!created) throw new PortcullisError('already_exists', `an application ${parsed.slug} exists already`, { detail: { errors: [{ path: 'slug', message: 'already taken' }] } });
      await changed();
      return get(parsed.slug);
    },

    async update(slug: string, input: unknown): Promise<LoadedApplication> {
      const stored = await writable(slug);
      if (isObject(input) && input.slug === undefined) input = { ...input, slug };
      if (isObject(input) && input.slug !== slug) throw invalid([{ path: 'slug', message: `must be ${slug} (an application's slug does not change)` }]);
      const edited = restoreMasked(input, JSON.parse(stored.definition));
      const parsed = validate(edited);
      await checkPath(parsed);
      await store.applications.upsert({ slug, definition: JSON.stringify(edited), source: 'api', at: deps.now() });
      await changed();
      return get(slug);
    },

    async remove(slug: string): Promise<void> {
      await writable(slug);
      await store.applications.delete(slug);
      await store.tools.deleteApp(slug);
      await store.selfTests.delete(slug);
      await changed();
    },

    async tools(slug: string): Promise<{ loaded: LoadedApplication; tools: ToolRecord[] }> {
      const loaded = await get(slug);
      return { loaded, tools: await store.tools.list(slug) };
    },

    /**
     * Approve a tool as it is now listed (or exactly the version `fingerprint` names), or send it
     * back to review. Built-in and config applications too: reviewing tools is not editing the definition.
     */
    async review(slug: string, name: string, status: ToolStatus, by: string, fingerprint?: string): Promise<ToolRecord> {
      await get(slug);
      const tool = (await store.tools.list(slug)).find((t) => t.name === name);
      if (!tool) throw new PortcullisError('not_found', `${slug} has no tool ${name}`);
      const done = await store.tools.review(slug, name, status, by, deps.now(), fingerprint);
      if (!done) {
        const now = (await store.tools.list(slug)).find((t) => t.name === name);
        if (!now) throw new PortcullisError('not_found', `${slug} has no tool ${name}`);
        throw new PortcullisError('tool_changed', `${name} changed since it was looked at; review it again`, { detail: { fingerprint: now.fingerprint } });
      }
      await changed();
      return (await store.tools.list(slug)).find((t) => t.name === name)!;
    },
  };
}

export type ApplicationService = ReturnType<typeof applicationService>;
