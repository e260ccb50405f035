/**
 * An organization's own limits (`settings.limits`): what may be set, and reading them per call.
 *
 * What may be set (checked when an owner or admin saves them, identity/org-settings.ts): an
 * organization narrows the server's limits, never widens them — each rate at most the server's
 * of the same scope, each quota at most the server's — and an API key's or a client's rate
 * (the general one, or one key's or client's own) is at most the organization's own rate.
 * A looser one is refused (`limit_too_loose`), not clamped: a saved setting that would silently
 * mean something else is worse than an error naming the field.
 *
 * Reading: from memory, re-read after `ttlMs` (5 s) in the background, like the org trees, and
 * forgotten at once when the change feed says the organization changed (server/app.ts).
 */
import { describeRate, withinRate, type LimitSettings, type Rate } from '../core/limit-settings.ts';
import type { FieldError } from '../core/errors.ts';
import type { OrgStore } from '../store/orgs.ts';

const RATE_SCOPES = ['org', 'user', 'client', 'apiKey', 'application', 'tool'] as const;

function rateProblem(path: string, rate: Rate | undefined, bound: Rate | undefined, what: string): FieldError[] {
  if (!rate || !bound || withinRate(rate, bound)) return [];
  return [{ path, message: `must be at most ${what} (${describeRate(bound)})` }];
}

/** Field errors for organization limits looser than the server's, or key and client rates looser than the organization's. */
export function limitProblems(server: LimitSettings, org: LimitSettings, at = 'settings.limits'): FieldError[] {
  const errors: FieldError[] = [];
  for (const scope of RATE_SCOPES) errors.push(...rateProblem(`${at}.${scope}`, org[scope], server[scope], `the server's limits.${scope}`));
  for (const [name, rate] of Object.entries(org.tools ?? {})) errors.push(...rateProblem(`${at}.tools.${name}`, rate, server.tools?.[name] ?? server.tool, `the server's rate for this tool`));
  const orgRate = org.org ?? server.org;
  for (const scope of ['client', 'apiKey'] as const) errors.push(...rateProblem(`${at}.${scope}`, org[scope], orgRate, "the organization's rate"));
  for (const [map, what] of [['clients', 'client'], ['apiKeys', 'API key']] as const) {
    for (const [id, rate] of Object.entries(org[map] ?? {})) errors.push(...rateProblem(`${at}.${map}.${id}`, rate, orgRate, `the organization's rate (an ${what} can only be tighter)`));
  }
  for (const who of ['org', 'user'] as const) {
    for (const kind of ['day', 'month'] as const) {
      const quota = org.quotas?.[who]?.[kind];
      const bound = server.quotas?.[who]?.[kind];
      if (quota !== undefined && bound !== undefined && quota > bound) errors.push({ path: `${at}.quotas.${who}.${kind}`, message: `must be at most ${bound} (the server's quota)` });
    }
  }
  return errors;
}

export const ORG_LIMITS_TTL_MS = 5000;
const MAX_ORGS = 10_000;

/** Organizations' limits from memory, re-read after `ttlMs`. */
export class OrgLimits {
  readonly #store: Pick<OrgStore, 'get'>;
  readonly #nowMs: () => number;
  readonly #ttlMs: number;
  readonly #known = new Map<string, { limits: LimitSettings | undefined; loadedAt: number }>();

  constructor(store: Pick<OrgStore, 'get'>, options: { nowMs?: () => number; ttlMs?: number } = {}) {
    this.#store = store;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#ttlMs = options.ttlMs ?? ORG_LIMITS_TTL_MS;
  }

  async get(orgId: string): Promise<LimitSettings | undefined> {
    const known = this.#known.get(orgId);
    if (known) {
      if (this.#nowMs() - known.loadedAt >= this.#ttlMs) void this.#load(orgId).catch(() => {});
      return known.limits;
    }
    return this.#load(orgId);
  }

  /** Drop what is known of an organization (its settings changed in this process). */
  forget(orgId: string): void {
    this.#known.delete(orgId);
  }

  forgetAll(): void {
    this.#known.clear();
  }

  async #load(orgId: string): Promise<LimitSettings | undefined> {
    const limits = (await this.#store.get(orgId))?.settings.limits;
    if (this.#known.size >= MAX_ORGS) this.#known.clear();
    this.#known.set(orgId, { limits, loadedAt: this.#nowMs() });
    return limits;
  }
}
