/**
 * The company's identity provider for SSO tests: a second, real oidc-provider on a loopback port
 * with one static client (Portcullis) and a few accounts, signed in through its development
 * interactions over HTTP. And a user agent that keeps cookies per origin (two servers on one
 * host would otherwise overwrite each other's engine cookies in this simple jar).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Running } from '../../src/server/app.ts';
import Provider, { type ClientMetadata } from 'oidc-provider';
import type * as z from 'zod';
import type { OidcConnectionSchema } from '../../src/core/identity-providers.ts';

export interface IdpAccount {
  email: string;
  email_verified: boolean;
  name: string;
  groups: string[];
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Mutable: a test changes groups or names between sign-ins. */
  accounts: Map<string, IdpAccount>;
  /** While true, every connection is dropped unanswered: the IdP is down (an outage, not a refusal). */
  unreachable: boolean;
  /**
   * When set, a sign-in at the IdP records these methods (RFC 8176 `amr`, in the ID token) — as an
   * IdP does after a second factor; the development interactions record none.
   */
  amr: string[] | undefined;
  /** Every authorization request the IdP received (step-up tests read prompt, max_age, acr_values). */
  authorizationRequests: URL[];
  /**
   * Register Portcullis's redirect URI (known once Portcullis has started) and start answering;
   * `more`: further clients (e.g. one authenticating with private_key_jwt).
   */
  serve(redirectUri: string, more?: ClientMetadata[]): void;
  close(): Promise<void>;
}

/** `host`: the issuer's host name — a browser test uses `localhost` so the two servers' cookies (same names) stay apart. */
type OidcConnectionInput = z.input<typeof OidcConnectionSchema>;

/**
 * The connection most SSO tests sign in through: the test IdP as "Acme SSO", for initech.test
 * addresses into the organization `initech`, group mcp-admins → admin, shown as a button.
 */
export function acmeConnection(idp: Pick<TestIdp, 'issuer' | 'clientId' | 'clientSecret'>, overrides: Partial<OidcConnectionInput> = {}): OidcConnectionInput {
  return {
    id: 'acme-sso',
    type: 'oidc',
    name: 'Acme SSO',
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    organization: 'initech',
    domains: ['initech.test'],
    public: true,
    roles: { claim: 'groups', map: { 'mcp-admins': 'admin' }, default: 'member' },
    scopes: ['openid', 'email', 'profile', 'groups'],
    ...overrides,
  };
}

export async function startTestIdp(accounts: Record<string, IdpAccount>, host = '127.0.0.1'): Promise<TestIdp> {
  let handler: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => {
    if (idp.unreachable) req.socket.destroy();
    else if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://${host}:${(server.address() as AddressInfo).port}`;
  const store = new Map(Object.entries(accounts));
  const clientId = 'portcullis';
  const clientSecret = 'test-idp-client-secret-0123456789';
  const idp: TestIdp = {
    issuer,
    clientId,
    clientSecret,
    accounts: store,
    unreachable: false,
    amr: undefined,
    authorizationRequests: [],
    serve(redirectUri, more = []) {
      const provider = new Provider(issuer, {
        clients: [
          { client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'] },
          ...more,
        ],
        // `amr` with `openid`: in the ID token whenever a sign-in recorded one (`amr` below; OpenID Connect Core §2).
        claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
        // offline_access (with prompt=consent, OIDC Core §11): refresh tokens, which Portcullis
        // keeps to re-check accounts; rotated at every use, as many IdPs do.
        scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
        rotateRefreshToken: true,
        features: { devInteractions: { enabled: true } },
        pkce: { required: () => true },
        async findAccount(_ctx, id) {
          const account = store.get(id);
          if (!account) return undefined;
          return { accountId: id, claims: () => ({ sub: id, ...structuredClone(account) }) };
        },
      });
      provider.on('server_error', (_ctx, err) => console.error('test idp:', err));
      const engine = provider.callback();
      handler = (req, res) => {
        const url = new URL(req.url ?? '/', issuer);
        if (req.method === 'GET' && url.pathname === '/auth') idp.authorizationRequests.push(url);
        if (idp.amr && req.method === 'POST' && /^\/interaction\/[^/]+$/.test(url.pathname)) void signInWithAmr(provider, engine, req, res, idp.amr);
        else engine(req, res);
      };
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Kept-alive connections too: a closed IdP must be unreachable at once (an outage).
        server.closeAllConnections();
      }),
  };
  return idp;
}

/**
 * The development interactions' login, with `amr` (they record none): the login form's body is
 * read here; a consent form goes on to the engine, which takes the body already parsed.
 */
async function signInWithAmr(provider: Provider, engine: ReturnType<Provider['callback']>, req: IncomingMessage, res: ServerResponse, amr: string[]): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
  if (form.prompt !== 'login') {
    (req as IncomingMessage & { body?: unknown }).body = form;
    engine(req, res);
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: form.login!, amr } }, { mergeWithLastSubmission: false });
}

export interface Answer {
  status: number;
  url: string;
  location: string | undefined;
  body: string;
}

/** Cookies per origin; redirects followed by hand so a test can stop anywhere. */
export class Browser {
  readonly jars = new Map<string, Map<string, string>>();

  #jar(url: string): Map<string, string> {
    const origin = new URL(url).origin;
    let jar = this.jars.get(origin);
    if (!jar) this.jars.set(origin, (jar = new Map()));
    return jar;
  }

  async request(url: string, init: RequestInit = {}): Promise<Answer> {
    const jar = this.#jar(url);
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/;\s*max-age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const location = response.headers.get('location');
    return { status: response.status, url, location: location ? new URL(location, url).href : undefined, body: await response.text() };
  }

  /** Follow redirects until a page, or until `stop(location)`. */
  async follow(url: string, stop: (location: string) => boolean = () => false, init: RequestInit = {}): Promise<Answer> {
    let answer = await this.request(url, init);
    for (let hops = 0; hops < 25 && answer.location && answer.status >= 300 && answer.status < 400; hops++) {
      if (stop(answer.location)) return answer;
      answer = await this.request(answer.location);
    }
    return answer;
  }

  /** Post a form found on `page` (first form whose action matches), its hidden inputs plus `fields`. */
  async submit(page: Answer, action: RegExp, fields: Record<string, string | string[]>, stop?: (location: string) => boolean): Promise<Answer> {
    const form = [...page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].find((m) => action.test(/action="([^"]*)"/.exec(m[1]!)?.[1] ?? ''));
    if (!form) throw new Error(`no form ${action} at ${page.url}:\n${page.body.slice(0, 2000)}`);
    const target = new URL(decode(/action="([^"]*)"/.exec(form[1]!)![1]!), page.url).href;
    const body = new URLSearchParams();
    for (const input of form[2]!.matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1];
      const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
      if (name && !(name in fields)) body.append(name, decode(value));
    }
    for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v);
    return this.follow(target, stop, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(page.url).origin },
      body,
    });
  }
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** At the IdP's sign-in page: sign in as `login` and approve; returns the answer stopping at `stop`. */
export async function signInAtIdp(browser: Browser, page: Answer, login: string, stop: (location: string) => boolean): Promise<Answer> {
  let answer = await browser.submit(page, /\/interaction\/[^/]+$/, { prompt: 'login', login, password: 'any' }, stop);
  if (answer.status === 200 && answer.body.includes('name="prompt" value="consent"')) {
    answer = await browser.submit(answer, /./, { prompt: 'consent' }, stop);
  }
  return answer;
}

/** The code a refusal page names (`data-code`). */
export const refusalCode = (body: string): string | undefined => /data-code="([^"]+)"/.exec(body)?.[1];

/** How many audit records of `kind` (and `reason`) the server has, once its queued records are written. */
export async function audited(server: Pick<Running, 'audit' | 'store'>, kind: string, reason?: string): Promise<number> {
  await server.audit.flush();
  return (await server.store.audit.list({ kind, reason, order: 'asc', limit: 1000 })).length;
}
