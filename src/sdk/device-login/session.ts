/**
 * One server's sign-in state: the device flow in progress, the accounts signed in (in the token
 * file), which one is current, and a fresh access token on demand. The bridge, the CLI and
 * `addDeviceLogin` all drive this one class.
 *
 * Tokens are read from the file on every use, so several processes (two bridges, a bridge and
 * `portcullis login`) see each other's sign-ins, switches and refreshes.
 */
import { CLI_CLIENT_ID } from '../../shared/cli-client.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGuardFetch, type GuardFetch } from '../../shared/outbound.ts';
import { AuthFile, type StoredAccount } from './auth-file.ts';
import { openBrowser } from './browser.ts';
import { discoverFromIssuer, discoverFromMcpUrl, type LoginTarget } from './discovery.ts';
import { DeviceLoginError } from './errors.ts';
import {
  identityFrom,
  pollDeviceToken,
  refreshTokens,
  requestDeviceAuthorization,
  revokeToken,
  SLOW_DOWN_STEP,
  subjectOfAccessToken,
  type DeviceAuthorization,
  type TokenSet,
} from './oauth.ts';

/** The client id of the Portcullis CLI, pre-registered on every Portcullis server. */
/** The client id every Portcullis server pre-registers for its CLI and this kit. */
export const PORTCULLIS_CLI_CLIENT_ID = CLI_CLIENT_ID;

export interface DeviceLoginOptions {
  /** The MCP server to sign in to: everything else is discovered from it. */
  mcpUrl?: string;
  /** Or the authorization server, for a server author whose backend is not an MCP server. */
  issuer?: string;
  /** The resource (token audience) to ask for; with `mcpUrl` it is the MCP URL. */
  resource?: string;
  /** Default: `portcullis-cli`, pre-registered on every Portcullis server. */
  clientId?: string;
  /** Scopes to ask for besides `openid` (space-separated). Default: the server's defaults. */
  scope?: string;
  /** Path of the token file, or the file itself. Default: `PORTCULLIS_AUTH_FILE`, else `~/.portcullis/auth.json`. */
  authFile?: string | AuthFile;
  /** A token to use instead of the file (`PORTCULLIS_TOKEN` in CI): an access token or an API key. */
  token?: string;
  /** Open the verification page in a browser (default: yes unless `PORTCULLIS_NO_BROWSER` is set). */
  openBrowser?: boolean | ((url: string) => Promise<boolean> | boolean);
  /** Refresh this many seconds before the access token expires (default 60, at most half its lifetime). */
  refreshMarginSeconds?: number;
  /** Plain http to loopback hosts (default: outside production, like the guard SDK). */
  allowHttpLoopback?: boolean;
  fetch?: GuardFetch;
  now?: () => number;
}

export interface PendingLogin {
  verificationUri: string;
  verificationUriComplete?: string;
  userCode: string;
  /** Seconds left. */
  expiresIn: number;
  browserOpened: boolean;
}

/** What a tool or a command shows about an account (never a token). */
export interface AccountView {
  account: string;
  server: string;
  user: StoredAccount['user'];
  org?: StoredAccount['org'];
  workspaces?: StoredAccount['workspaces'];
  /** Epoch seconds. */
  expiresAt: number;
  current: boolean;
}

export interface LoginStatus {
  server: string;
  signedIn: boolean;
  /** Where the token comes from. */
  source: 'file' | 'environment' | 'none';
  current?: AccountView;
  accounts: AccountView[];
  pending?: PendingLogin;
}

export type ChangeReason = 'signed_in' | 'switched' | 'signed_out' | 'logged_out';

export function describeAccount(view: Pick<AccountView, 'user' | 'org'>): string {
  const who = view.user.email ?? view.user.name ?? view.user.sub;
  if (!view.org) return who;
  const org = view.org.name ?? view.org.slug ?? view.org.id;
  return view.org.role ? `${who} (${org}, ${view.org.role})` : `${who} (${org})`;
}

export class DeviceLogin {
  readonly file: AuthFile;
  readonly clientId: string;
  readonly #options: DeviceLoginOptions;
  readonly #fetch: GuardFetch;
  readonly #now: () => number;
  readonly #listeners = new Set<(reason: ChangeReason) => void>();
  #target: Promise<LoginTarget> | undefined;
  #pending: (DeviceAuthorization & { nextPollAt: number; browserOpened: boolean }) | undefined;
  #refreshing: Promise<string> | undefined;
  /** The server key, known once discovery has run (or given). */
  #server: string | undefined;

  constructor(options: DeviceLoginOptions) {
    if (!options.mcpUrl && !options.issuer) throw new DeviceLoginError('config_invalid', 'DeviceLogin needs mcpUrl (the MCP server) or issuer (its authorization server)');
    this.#options = options;
    this.file = options.authFile instanceof AuthFile ? options.authFile : new AuthFile(options.authFile);
    this.clientId = options.clientId ?? PORTCULLIS_CLI_CLIENT_ID;
    this.#fetch = options.fetch ?? createGuardFetch({ allowHttpLoopback: options.allowHttpLoopback ?? process.env.NODE_ENV !== 'production', timeoutMs: 15_000 });
    this.#now = options.now ?? Date.now;
    this.#server = options.mcpUrl ?? options.resource;
  }

  /** The key this server's accounts are filed under. */
  get server(): string {
    return this.#server ?? this.#options.issuer!;
  }

  get usesEnvironmentToken(): boolean {
    return Boolean(this.#options.token);
  }

  /** Called after a sign-in, a switch, a logout, or when the tokens stopped working. */
  onChange(listener: (reason: ChangeReason) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(reason: ChangeReason): void {
    for (const listener of this.#listeners) listener(reason);
  }

  async target(): Promise<LoginTarget> {
    this.#target ??= (this.#options.mcpUrl
      ? discoverFromMcpUrl(this.#fetch, this.#options.mcpUrl)
      : discoverFromIssuer(this.#fetch, this.#options.issuer!, this.#options.resource)
    ).then(
      (target) => {
        this.#server = target.server;
        return target;
      },
      (err: unknown) => {
        this.#target = undefined;
        throw err;
      },
    );
    return this.#target;
  }

  #refuseWithEnvironmentToken(): void {
    if (this.#options.token) {
      throw new DeviceLoginError('token_from_environment', 'PORTCULLIS_TOKEN is set, so it is used instead of signing in; unset it to sign in with a code');
    }
  }

  // ——— the device flow ———

  /** RFC 8628 §3.1–3.3: start a sign-in; the user opens the URL and enters the code. */
  async start(): Promise<PendingLogin> {
    this.#refuseWithEnvironmentToken();
    const target = await this.target();
    // `email` and `profile` (OIDC Core §5.4) so the ID token says who signed in, when the server offers them.
    const identityScopes = ['email', 'profile'].filter((s) => target.serverScopes?.includes(s));
    const scope = ['openid', ...identityScopes, ...(this.#options.scope ?? '').split(' ')].filter(Boolean);
    const authorization = await requestDeviceAuthorization(this.#fetch, target, this.clientId, [...new Set(scope)].join(' '), this.#now());
    const url = authorization.verificationUriComplete ?? authorization.verificationUri;
    const opener = this.#options.openBrowser ?? true;
    let browserOpened = false;
    if (opener === true) browserOpened = await openBrowser(url);
    else if (typeof opener === 'function') browserOpened = Boolean(await opener(url));
    // The first poll may go at once (the user may approve quickly); `interval` applies between polls.
    this.#pending = { ...authorization, nextPollAt: this.#now(), browserOpened };
    return this.#pendingView()!;
  }

  #pendingView(): PendingLogin | undefined {
    const pending = this.#pending;
    if (!pending) return undefined;
    const view: PendingLogin = {
      verificationUri: pending.verificationUri,
      userCode: pending.userCode,
      expiresIn: Math.max(0, Math.round((pending.expiresAt - this.#now()) / 1000)),
      browserOpened: pending.browserOpened,
    };
    if (pending.verificationUriComplete) view.verificationUriComplete = pending.verificationUriComplete;
    return view;
  }

  /**
   * Poll for the pending sign-in, never faster than the server's `interval` (plus 5 s per
   * `slow_down`, RFC 8628 §3.5), for up to `waitSeconds` (0: at most one poll, and none when the
   * interval has not passed yet). Resolves with the account when approved, `undefined` while pending.
   */
  async complete(waitSeconds = 0): Promise<AccountView | undefined> {
    this.#refuseWithEnvironmentToken();
    const deadline = this.#now() + waitSeconds * 1000;
    for (;;) {
      const pending = this.#pending;
      if (!pending) throw new DeviceLoginError('no_pending_login', 'no sign-in is in progress; start one with auth_login');
      if (this.#now() >= pending.expiresAt) {
        this.#pending = undefined;
        throw new DeviceLoginError('expired_token', 'the sign-in code expired before it was approved; start again with auth_login');
      }
      const wait = pending.nextPollAt - this.#now();
      if (wait > 0) {
        if (this.#now() + wait > deadline) return undefined;
        await sleep(wait);
      }
      const target = await this.target();
      let result;
      try {
        result = await pollDeviceToken(this.#fetch, target, this.clientId, pending.deviceCode, this.#now());
      } catch (err) {
        if (err instanceof DeviceLoginError && (err.code === 'expired_token' || err.code === 'access_denied')) this.#pending = undefined;
        throw err;
      }
      if (result.status === 'approved') {
        this.#pending = undefined;
        const view = this.#saveSignIn(target, result.tokens);
        this.#emit('signed_in');
        return view;
      }
      if (result.status === 'slow_down') pending.interval += SLOW_DOWN_STEP;
      pending.nextPollAt = this.#now() + pending.interval * 1000;
      if (this.#now() >= deadline) return undefined;
    }
  }

  /** The interval the flow currently polls at (seconds), for tests and messages. */
  get pollInterval(): number | undefined {
    return this.#pending?.interval;
  }

  #saveSignIn(target: LoginTarget, tokens: TokenSet): AccountView {
    const identity = identityFrom(tokens.idToken, target.issuer, this.clientId);
    const sub = identity?.sub ?? subjectOfAccessToken(tokens.accessToken) ?? 'unknown';
    const entry: StoredAccount = {
      server: target.server,
      account: identity?.org ? `${sub}@${identity.org.id}` : sub,
      issuer: target.issuer,
      clientId: this.clientId,
      tokenEndpoint: target.tokenEndpoint,
      user: { sub },
      accessToken: tokens.accessToken,
      expiresAt: tokens.expiresAt,
      savedAt: Math.floor(this.#now() / 1000),
    };
    if (target.revocationEndpoint) entry.revocationEndpoint = target.revocationEndpoint;
    if (identity?.email) entry.user.email = identity.email;
    if (identity?.name) entry.user.name = identity.name;
    if (identity?.org) entry.org = identity.org;
    if (identity?.workspaces) entry.workspaces = identity.workspaces;
    if (tokens.refreshToken) entry.refreshToken = tokens.refreshToken;
    if (tokens.scope) entry.scope = tokens.scope;
    this.file.update((data) => {
      data.accounts = data.accounts.filter((a) => !(a.server === entry.server && a.account === entry.account));
      data.accounts.push(entry);
      data.current[entry.server] = entry.account;
    });
    return this.#view(entry, true);
  }

  // ——— accounts ———

  #view(entry: StoredAccount, current: boolean): AccountView {
    const view: AccountView = { account: entry.account, server: entry.server, user: entry.user, expiresAt: entry.expiresAt, current };
    if (entry.org) view.org = entry.org;
    if (entry.workspaces) view.workspaces = entry.workspaces;
    return view;
  }

  /** This server's accounts and the current one (throws if the file cannot be trusted). */
  #accounts(): { accounts: StoredAccount[]; current: StoredAccount | undefined } {
    const data = this.file.read();
    const accounts = data.accounts.filter((a) => a.server === this.server);
    const currentKey = data.current[this.server];
    return { accounts, current: accounts.find((a) => a.account === currentKey) };
  }

  async status(): Promise<LoginStatus> {
    const pending = this.#pendingView();
    if (this.#options.token) {
      return { server: this.server, signedIn: true, source: 'environment', accounts: [], ...(pending ? { pending } : {}) };
    }
    const { accounts, current } = this.#accounts();
    const status: LoginStatus = {
      server: this.server,
      signedIn: Boolean(current),
      source: current ? 'file' : 'none',
      accounts: accounts.map((a) => this.#view(a, a === current)),
    };
    if (current) status.current = this.#view(current, true);
    if (pending) status.pending = pending;
    return status;
  }

  /** Make another signed-in account current: by account id, e-mail, `email@org-slug`, or org slug. */
  switchTo(which: string): AccountView {
    this.#refuseWithEnvironmentToken();
    const { accounts } = this.#accounts();
    const wanted = which.trim().toLowerCase();
    const matches = accounts.filter((a) => {
      const email = a.user.email?.toLowerCase();
      return (
        a.account.toLowerCase() === wanted ||
        a.user.sub.toLowerCase() === wanted ||
        email === wanted ||
        (email && a.org?.slug && `${email}@${a.org.slug.toLowerCase()}` === wanted) ||
        a.org?.slug?.toLowerCase() === wanted
      );
    });
    if (matches.length !== 1) {
      throw new DeviceLoginError('unknown_account', matches.length ? `"${which}" matches several accounts; use the account id` : `no signed-in account "${which}" for ${this.server}`, {
        detail: { accounts: accounts.map((a) => ({ account: a.account, email: a.user.email, org: a.org?.slug })) },
      });
    }
    const chosen = matches[0]!;
    this.file.update((data) => {
      data.current[this.server] = chosen.account;
    });
    this.#emit('switched');
    return this.#view(chosen, true);
  }

  /**
   * Sign out (RFC 7009): revoke the refresh token (which ends the grant on Portcullis) and the
   * access token at the server, then remove the local entry. The current account by default;
   * another account that remains becomes current. Returns what was removed, and whether the
   * server confirmed the revocation.
   */
  async logout(which?: string): Promise<{ removed: AccountView | undefined; revoked: boolean; current?: AccountView }> {
    this.#refuseWithEnvironmentToken();
    const { accounts, current } = this.#accounts();
    const entry = which ? accounts.find((a) => a.account === which || a.user.email?.toLowerCase() === which.toLowerCase()) : current;
    if (!entry) {
      if (which) throw new DeviceLoginError('unknown_account', `no signed-in account "${which}" for ${this.server}`);
      return { removed: undefined, revoked: false };
    }
    let revoked = false;
    if (entry.revocationEndpoint) {
      if (entry.refreshToken) revoked = await revokeToken(this.#fetch, entry.revocationEndpoint, entry.clientId, entry.refreshToken, 'refresh_token');
      const accessRevoked = await revokeToken(this.#fetch, entry.revocationEndpoint, entry.clientId, entry.accessToken, 'access_token');
      revoked ||= accessRevoked;
    }
    const next = this.#remove(entry);
    this.#emit('logged_out');
    return { removed: this.#view(entry, false), revoked, ...(next ? { current: this.#view(next, true) } : {}) };
  }

  /** Remove an entry; if it was current, another account of the server (if any) becomes current. */
  #remove(entry: StoredAccount): StoredAccount | undefined {
    let next: StoredAccount | undefined;
    this.file.update((data) => {
      data.accounts = data.accounts.filter((a) => !(a.server === entry.server && a.account === entry.account));
      if (data.current[entry.server] === entry.account) {
        next = data.accounts.find((a) => a.server === entry.server);
        if (next) data.current[entry.server] = next.account;
        else delete data.current[entry.server];
      } else {
        next = data.accounts.find((a) => a.server === entry.server && a.account === data.current[entry.server]);
      }
    });
    return next;
  }

  // ——— tokens ———

  /**
   * The current access token, refreshed first when it expires within the margin. Throws
   * `not_signed_in`, or `signed_out` when the server refused the refresh (the entry is removed:
   * its tokens are dead, and the user must be told to sign in again).
   */
  async accessToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    if (this.#options.token) return this.#options.token;
    const { current } = this.#accounts();
    if (!current) throw new DeviceLoginError('not_signed_in', `not signed in to ${this.server}; call auth_login to sign in`);
    const now = Math.floor(this.#now() / 1000);
    const lifetime = Math.max(1, current.expiresAt - current.savedAt);
    const margin = Math.min(this.#options.refreshMarginSeconds ?? 60, lifetime / 2);
    if (!options.forceRefresh && current.expiresAt - margin > now) return current.accessToken;
    return this.#refresh(current);
  }

  /**
   * The server refused `token` with 401: refresh once (unless someone already did) and return the
   * new token. Throws like `accessToken`.
   */
  async afterUnauthorized(token: string): Promise<string> {
    if (this.#options.token) throw new DeviceLoginError('signed_out', 'the server refused PORTCULLIS_TOKEN (expired or revoked?)');
    const { current } = this.#accounts();
    if (current && current.accessToken !== token) return this.accessToken();
    return this.accessToken({ forceRefresh: true });
  }

  /** One refresh at a time per process; the file is re-read so another process's refresh is reused. */
  #refresh(entry: StoredAccount): Promise<string> {
    this.#refreshing ??= (async () => {
      try {
        if (!entry.refreshToken) {
          this.#remove(entry);
          this.#emit('signed_out');
          throw new DeviceLoginError('signed_out', 'your sign-in expired (no refresh token was issued); sign in again with auth_login');
        }
        let tokens: TokenSet;
        try {
          tokens = await refreshTokens(this.#fetch, entry.tokenEndpoint, entry.clientId, entry.refreshToken, this.#resourceOf(entry), this.#now());
        } catch (err) {
          if (err instanceof DeviceLoginError && err.code === 'signed_out') {
            this.#remove(entry);
            this.#emit('signed_out');
          }
          throw err;
        }
        const updated: StoredAccount = { ...entry, accessToken: tokens.accessToken, expiresAt: tokens.expiresAt, savedAt: Math.floor(this.#now() / 1000) };
        if (tokens.refreshToken) updated.refreshToken = tokens.refreshToken;
        if (tokens.scope) updated.scope = tokens.scope;
        // A refreshed ID token may carry changed org details (role changes apply at refresh).
        const identity = identityFrom(tokens.idToken, entry.issuer, entry.clientId);
        if (identity?.org) updated.org = identity.org;
        if (identity?.workspaces) updated.workspaces = identity.workspaces;
        this.file.update((data) => {
          data.accounts = data.accounts.map((a) => (a.server === entry.server && a.account === entry.account ? updated : a));
        });
        return updated.accessToken;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** The resource the entry's tokens are for: the server key unless that is the issuer. */
  #resourceOf(entry: StoredAccount): string | undefined {
    return entry.server === entry.issuer ? undefined : entry.server;
  }
}
