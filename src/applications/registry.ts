/**
 * The applications this server protects, as every process sees them: definitions from the store
 * (where the config file and the admin API put them), resolved against the public URL, with each
 * application's tool manifest. Changes apply without a restart: the registry polls the store's
 * fingerprint and reloads, and the authorization server's resource list follows.
 */
import type { Store } from '../store/store.ts';
import type { ToolRecord } from '../store/tools.ts';
import type { ApplicationSource } from '../store/applications.ts';
import type { ProtectedResource } from '../core/protected-resource.ts';
import type { Logger } from 'pino';
import type { ResourceRegistry } from './protected-resources.ts';
import { PortcullisError } from '../core/errors.ts';
import { parseAnnotations, toolScope } from '../policy/scopes.ts';
import { ApplicationDefinitionSchema, definitionProblems, resolveApplication, type Application, type ApplicationDefinition } from '../core/application.ts';
import { seenTool, toolFingerprint, type ListedTool } from './manifest.ts';

export interface RegistryOptions {
  store: Store;
  publicUrl: string;
  /** The authorization server's view, kept in step with the applications. */
  resources: ResourceRegistry;
  log: Logger;
  now: () => number;
}

/** Validate a definition: strict schema, then cross-field rules. Throws config_invalid with field paths. */
export function parseDefinition(input: unknown, prefix = ''): ReturnType<typeof ApplicationDefinitionSchema.parse> {
  const parsed = ApplicationDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ path: [prefix, ...i.path].filter((p) => p !== '').join('.') || '(root)', message: i.message }));
    throw new PortcullisError('invalid_request', 'invalid application definition', { detail: { errors } });
  }
  const problems = definitionProblems(parsed.data);
  if (problems.length) {
    throw new PortcullisError('invalid_request', 'invalid application definition', {
      detail: { errors: problems.map((p) => ({ ...p, path: [prefix, p.path].filter(Boolean).join('.') })) },
    });
  }
  return parsed.data;
}

export class ApplicationRegistry {
  readonly #options: RegistryOptions;
  #bySlug = new Map<string, Application>();
  #byPath = new Map<string, Application>();
  #sources = new Map<string, ApplicationSource>();
  #tools = new Map<string, Map<string, ToolRecord>>();
  /** Per application: approved tool → the scope it needs (what tools/list filtering consults). */
  #approved = new Map<string, Map<string, string>>();
  /** Per application and tool: the JSON last listed and its fingerprint (hashing is the costly part). */
  #listed = new Map<string, Map<string, { json: string; fingerprint: string }>>();
  #fingerprint = '';
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;
  #checkAgain = false;

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  /**
   * Make the store's config-sourced applications match the config file (and the built-in demo):
   * add and update those listed, remove config-sourced ones no longer listed. Applications created
   * through the admin API are left alone; a config entry with the same slug takes precedence.
   */
  async syncFromConfig(definitions: ApplicationDefinition[], builtin: ApplicationDefinition[] = []): Promise<void> {
    const { store, now } = this.#options;
    const wanted = new Map<string, { definition: string; source: ApplicationSource }>();
    definitions.forEach((d, i) => {
      const parsed = parseDefinition(d, `applications.${i}`);
      wanted.set(parsed.slug, { definition: JSON.stringify(d), source: 'config' });
    });
    for (const d of builtin) {
      const parsed = parseDefinition(d);
      if (!wanted.has(parsed.slug)) wanted.set(parsed.slug, { definition: JSON.stringify(d), source: 'builtin' });
    }
    const paths = new Map<string, string>();
    for (const [slug, { definition }] of wanted) {
      const path = resolveApplication(parseDefinition(JSON.parse(definition)), '').path;
      const other = paths.get(path);
      if (other) throw new PortcullisError('config_invalid', `applications ${other} and ${slug} share the path ${path}`);
      paths.set(path, slug);
    }
    const existing = await store.applications.list();
    for (const app of existing) {
      if ((app.source === 'config' || app.source === 'builtin') && !wanted.has(app.slug)) await store.applications.delete(app.slug);
    }
    for (const [slug, { definition, source }] of wanted) {
      const current = existing.find((a) => a.slug === slug);
      if (current?.definition !== definition || current.source !== source) await store.applications.upsert({ slug, definition, source, at: now() });
    }
  }

  async reload(): Promise<void> {
    const { store, publicUrl, log } = this.#options;
    const stored = await store.applications.list();
    const bySlug = new Map<string, Application>();
    const byPath = new Map<string, Application>();
    const sources = new Map<string, ApplicationSource>();
    for (const row of stored) {
      try {
        const app = resolveApplication(parseDefinition(JSON.parse(row.definition)), publicUrl);
        if (byPath.has(app.path)) {
          log.warn({ app: app.slug, path: app.path }, 'two applications share a path; the second is ignored');
          continue;
        }
        bySlug.set(app.slug, app);
        byPath.set(app.path, app);
        sources.set(app.slug, row.source);
      } catch (err) {
        log.error({ err, app: row.slug }, 'stored application definition is invalid; it is not served');
      }
    }
    const tools = new Map<string, Map<string, ToolRecord>>();
    for (const slug of bySlug.keys()) tools.set(slug, new Map((await store.tools.list(slug)).map((t) => [t.name, t])));
    this.#bySlug = bySlug;
    this.#byPath = byPath;
    this.#sources = sources;
    this.#tools = new Map();
    this.#approved = new Map();
    for (const [slug, records] of tools) this.#setTools(slug, [...records.values()]);
    this.#fingerprint = await store.applications.fingerprint();
    this.#publish();
  }

  /**
   * Poll for changes made by other processes (admin API elsewhere, tool approvals). With a change
   * feed the server also calls `check()` as soon as any process changes an application or a tool,
   * so the poll is the safety net for a lost message (and for the CLI, which publishes nothing).
   */
  watch(intervalMs = 2000): void {
    this.#timer = setInterval(() => void this.check(), intervalMs);
    this.#timer.unref();
  }

  /** Read the store's applications (when their fingerprint moved) or tools again; never throws. Checks asked for during one run one more after it. */
  check(): Promise<void> {
    if (this.#checking) {
      this.#checkAgain = true;
      return this.#checking;
    }
    this.#checking = (async () => {
      try {
        do {
          this.#checkAgain = false;
          const fingerprint = await this.#options.store.applications.fingerprint();
          await (fingerprint !== this.#fingerprint ? this.reload() : this.#reloadTools());
        } while (this.#checkAgain);
      } catch (err) {
        this.#options.log.warn({ err }, 'could not check applications');
      } finally {
        this.#checking = undefined;
      }
    })();
    return this.#checking;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  list(): Application[] {
    return [...this.#bySlug.values()];
  }

  get(slug: string): Application | undefined {
    return this.#bySlug.get(slug);
  }

  source(slug: string): ApplicationSource | undefined {
    return this.#sources.get(slug);
  }

  byPath(path: string): Application | undefined {
    return this.#byPath.get(path);
  }

  #setTools(slug: string, records: ToolRecord[]): void {
    this.#tools.set(slug, new Map(records.map((t) => [t.name, t])));
    const app = this.#bySlug.get(slug);
    this.#approved.set(
      slug,
      new Map(app ? records.filter((t) => t.status === 'approved').map((t) => [t.name, toolScope(app, t.name, parseAnnotations(t.annotations))]) : []),
    );
  }

  /** The scope an approved tool needs; undefined when the tool is unknown or waiting for review. */
  approvedToolScope(slug: string, name: string): string | undefined {
    return this.#approved.get(slug)?.get(name);
  }

  tool(slug: string, name: string): ToolRecord | undefined {
    return this.#tools.get(slug)?.get(name);
  }

  tools(slug: string): ToolRecord[] {
    return [...(this.#tools.get(slug)?.values() ?? [])];
  }

  /**
   * Record what an upstream listed: new tools, and tools whose fingerprint differs from what was
   * approved, go to review — synchronously, before the listing is filtered, so a changed tool is
   * never shown even once. Unchanged listings (the common case) cost one JSON comparison per tool.
   */
  async observeTools(app: Application, listed: ListedTool[]): Promise<void> {
    let cache = this.#listed.get(app.slug);
    if (!cache) this.#listed.set(app.slug, (cache = new Map()));
    const current = this.#tools.get(app.slug);
    let changed = false;
    for (const tool of listed) {
      const json = JSON.stringify(tool);
      let entry = cache.get(tool.name);
      if (entry?.json !== json) {
        entry = { json, fingerprint: toolFingerprint(tool) };
        cache.set(tool.name, entry);
      }
      if (current?.get(tool.name)?.fingerprint !== entry.fingerprint) changed = true;
    }
    if (!changed) return;
    const records = await this.#options.store.tools.record(app.slug, listed.map(seenTool), this.#options.now(), app.autoApprove);
    this.#setTools(app.slug, records);
    const fresh = records.filter((r) => r.status === 'needs_review' && listed.some((s) => s.name === r.name));
    if (fresh.length) this.#options.log.warn({ app: app.slug, tools: fresh.map((t) => t.name) }, 'tools waiting for review');
    this.#publish();
  }

  async #reloadTools(): Promise<void> {
    let changed = false;
    for (const slug of this.#bySlug.keys()) {
      const records = await this.#options.store.tools.list(slug);
      const current = this.#tools.get(slug);
      if (records.length !== current?.size || records.some((r) => { const c = current.get(r.name); return !c || c.status !== r.status || c.fingerprint !== r.fingerprint; })) {
        this.#setTools(slug, records);
        changed = true;
      }
    }
    if (changed) this.#publish();
  }

  /** The authorization server's resources: one per application, with the tools each scope enables. */
  #publish(): void {
    const resources: ProtectedResource[] = this.list().map((app) => ({
      url: app.resource,
      name: app.name,
      path: app.path,
      scopes: app.scopes,
      defaultScopes: app.defaultScopes,
      stepUpScope: app.stepUpScope,
      stepUpMaxAge: app.stepUpMaxAge,
      stepUpMfa: app.stepUpMfa,
      toolScopes: Object.fromEntries(this.#approved.get(app.slug) ?? []),
    }));
    this.#options.resources.replaceAll(resources);
  }
}
