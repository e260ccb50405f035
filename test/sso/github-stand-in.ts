/**
 * GitHub is not reachable from here: a local stand-in that answers as GitHub's documented OAuth
 * app endpoints ("Authorizing OAuth apps": /login/oauth/authorize, /login/oauth/access_token) and
 * REST endpoints (/user, /user/emails, /user/memberships/orgs/{org},
 * /orgs/{org}/teams/{team_slug}/memberships/{username}) do — the REST API under `/api/v3`, as on
 * GitHub Enterprise Server, so the connection's apiUrl is exercised. It checks what GitHub checks:
 * the client secret, the redirect URI, the PKCE verifier (S256), single-use codes, the scopes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GithubAccount {
  id: number;
  login: string;
  name: string | null;
  /** The public e-mail of the profile (/user's `email`): not proof of anything. */
  email: string | null;
  emails: { email: string; primary: boolean; verified: boolean; visibility: 'public' | 'private' | null }[];
  /** org → membership state ("active" or "pending"); absent: not a member. */
  orgs: Record<string, 'active' | 'pending'>;
  /** "<org>/<team-slug>" the account is an active member of. */
  teams: string[];
}

export interface GithubStandIn {
  webUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** Keyed by a stable test name; the login inside may change (a rename). */
  accounts: Map<string, GithubAccount>;
  /** Who is signed in at "GitHub" when the authorize endpoint is visited. */
  signedIn: string | undefined;
  redirectUris: Set<string>;
  /** What the last authorize request asked for. */
  lastAuthorize: URLSearchParams | undefined;
  /** Token requests refused (wrong secret, verifier, …), by GitHub's error code. */
  refusals: string[];
  close(): Promise<void>;
}

interface Grant {
  account: string;
  challenge: string;
  redirectUri: string;
  scope: string;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

export async function startGithubStandIn(accounts: Record<string, GithubAccount>): Promise<GithubStandIn> {
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, { account: string; scope: string }>();
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const webUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const standIn: GithubStandIn = {
    webUrl,
    apiUrl: `${webUrl}/api/v3`,
    clientId: 'Iv1.portcullis0001',
    clientSecret: 'github-stand-in-client-secret-0123456789',
    accounts: new Map(Object.entries(accounts)),
    signedIn: undefined,
    redirectUris: new Set(),
    lastAuthorize: undefined,
    refusals: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  function authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    standIn.lastAuthorize = q;
    const redirectUri = q.get('redirect_uri') ?? '';
    // GitHub shows an error page (no redirect) for an unknown client or redirect URI.
    if (q.get('client_id') !== standIn.clientId || !standIn.redirectUris.has(redirectUri)) return void send(res, 400, { error: 'redirect_uri_mismatch' });
    const back = new URL(redirectUri);
    if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') || !standIn.signedIn) {
      back.searchParams.set('error', 'access_denied');
    } else {
      const code = randomBytes(10).toString('hex');
      codes.set(code, { account: standIn.signedIn, challenge: q.get('code_challenge')!, redirectUri, scope: q.get('scope') ?? '' });
      back.searchParams.set('code', code);
    }
    if (q.get('state')) back.searchParams.set('state', q.get('state')!);
    res.writeHead(302, { location: back.href }).end();
  }

  async function accessToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const refuse = (error: string) => {
      standIn.refusals.push(error);
      send(res, 200, { error, error_description: error });
    };
    if (!(req.headers.accept ?? '').includes('application/json')) return void res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' }).end('error=accept');
    if (form.get('client_id') !== standIn.clientId || form.get('client_secret') !== standIn.clientSecret) return refuse('incorrect_client_credentials');
    const grant = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    if (!grant) return refuse('bad_verification_code');
    if (form.get('redirect_uri') && form.get('redirect_uri') !== grant.redirectUri) return refuse('redirect_uri_mismatch');
    if (sha256(form.get('code_verifier') ?? '') !== grant.challenge) return refuse('bad_verification_code');
    const token = `gho_${randomBytes(18).toString('hex')}`;
    tokens.set(token, { account: grant.account, scope: grant.scope });
    send(res, 200, { access_token: token, token_type: 'bearer', scope: grant.scope.split(' ').join(',') });
  }

  function api(req: IncomingMessage, path: string, res: ServerResponse): void {
    const token = /^(?:Bearer|token) (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const grant = token ? tokens.get(token) : undefined;
    const account = grant ? standIn.accounts.get(grant.account) : undefined;
    if (!grant || !account) return void send(res, 401, { message: 'Bad credentials' });
    const scopes = grant.scope.split(' ');
    if (path === '/user') return void send(res, 200, { id: account.id, login: account.login, name: account.name, email: account.email });
    if (path === '/user/emails') return void (scopes.includes('user:email') ? send(res, 200, account.emails) : send(res, 404, { message: 'Not Found' }));
    const org = /^\/user\/memberships\/orgs\/([^/]+)$/.exec(path);
    if (org) {
      const state = scopes.includes('read:org') ? account.orgs[org[1]!] : undefined;
      return void (state ? send(res, 200, { state, role: 'member', organization: { login: org[1] }, user: { login: account.login } }) : send(res, 404, { message: 'Not Found' }));
    }
    const team = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(path);
    if (team) {
      const target = [...standIn.accounts.values()].find((a) => a.login === decodeURIComponent(team[3]!));
      const member = scopes.includes('read:org') && target?.teams.includes(`${team[1]}/${team[2]}`);
      return void (member ? send(res, 200, { state: 'active', role: 'member', url: '' }) : send(res, 404, { message: 'Not Found' }));
    }
    send(res, 404, { message: 'Not Found' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', webUrl);
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') return authorize(url, res);
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') return accessToken(req, res);
    if (req.method === 'GET' && url.pathname.startsWith('/api/v3/')) return api(req, url.pathname.slice('/api/v3'.length), res);
    send(res, 404, { message: 'Not Found' });
  }

  return standIn;
}
