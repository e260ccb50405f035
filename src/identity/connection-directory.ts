/**
 * Who goes where, kept current: the configured connections plus every organization's own
 * (identity/org-connections.ts), as one ConnectionRegistry the sign-in pages read synchronously.
 * The registry is rebuilt in the background — when the change feed says connections or domains
 * changed (any instance), after the feed reconnects, and by a poll as the safety net — so an
 * owner's change takes effect without a restart, on every instance.
 *
 * One directory per configuration object (server/app.ts attaches it); code that has only the
 * configuration (`ssoConnections(config)`) gets the directory's registry, or the configured
 * connections alone when no directory runs (the CLI, tests building deps by hand).
 */
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import type { SecretKey } from '../core/crypto.ts';
import { ConnectionRegistry, type SsoConnection } from '../core/identity-providers.ts';
import { loadOrgConnections } from './org-connections.ts';

export interface DirectoryDeps {
  config: { identityProviders: readonly SsoConnection[]; organizationConnections?: { allowPublicButtons: boolean } };
  store: Pick<Store, 'orgConnections'>;
  dataKey: SecretKey;
  log: Logger;
}

/** The safety-net poll: a lost change-feed message (or a change made by the CLI) waits at most this long. */
export const DIRECTORY_POLL_MS = 30_000;

export class ConnectionDirectory {
  readonly #deps: DirectoryDeps;
  #registry: ConnectionRegistry;
  #loading: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #onStop: (() => void)[] = [];

  constructor(deps: DirectoryDeps) {
    this.#deps = deps;
    this.#registry = new ConnectionRegistry(deps.config.identityProviders);
  }

  get registry(): ConnectionRegistry {
    return this.#registry;
  }

  /** Load now, then poll every `intervalMs`. */
  async start(intervalMs = DIRECTORY_POLL_MS): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
    this.#timer.unref();
  }

  /** Stop polling, and run what `onStop` was given (detaching it from its configuration). */
  stop(): void {
    clearInterval(this.#timer);
    for (const then of this.#onStop.splice(0)) then();
  }

  onStop(then: () => void): void {
    this.#onStop.push(then);
  }

  /** Read the store again; calls while a read runs coalesce into one more read after it. */
  refresh(): Promise<void> {
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      try {
        do {
          this.#again = false;
          await this.#load();
        } while (this.#again);
      } catch (err) {
        // Keep serving what was loaded last; the next message or poll tries again.
        this.#deps.log.warn({ err }, 'sso: could not read the organizations\' connections');
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  async #load(): Promise<void> {
    const configured = this.#deps.config.identityProviders;
    const own = await loadOrgConnections({ ...this.#deps, configured, allowPublicButtons: this.#deps.config.organizationConnections?.allowPublicButtons }, (id, err) => this.#deps.log.error({ err, connection: id }, 'sso: an organization\'s connection cannot be read; skipped'));
    this.#registry = new ConnectionRegistry([...configured, ...own]);
  }
}

const directories = new WeakMap<object, ConnectionDirectory>();
const fixed = new WeakMap<object, ConnectionRegistry>();

/** Serve `directory` to every caller holding `config`; returns the function that stops it. */
export function attachDirectory(config: object, directory: ConnectionDirectory): () => void {
  directories.set(config, directory);
  return () => {
    if (directories.get(config) === directory) directories.delete(config);
  };
}

/** The connections now: the running directory's, or the configured ones alone (built once per configuration). */
export function ssoConnections(config: { identityProviders: readonly SsoConnection[] }): ConnectionRegistry {
  const directory = directories.get(config);
  if (directory) return directory.registry;
  let registry = fixed.get(config);
  if (!registry) fixed.set(config, (registry = new ConnectionRegistry(config.identityProviders)));
  return registry;
}
