/**
 * Drive the browser part of an authorization: open the authorization URL, sign in, approve (or
 * deny, or untick some permissions), and return where the server sent the browser back to.
 */
import { checkboxValues, UserAgent, type PageResponse } from './user-agent.ts';

export interface BrowserStep {
  email: string;
  password: string;
  /** The client's redirect URI (without port for loopback clients: any port matches). */
  redirectUri: string;
  decision?: 'approve' | 'deny';
  /** Scopes to leave unticked on the consent page. */
  untick?: string[];
  ua?: UserAgent;
  /** The code to give when the server asks for a second factor (web/second-factor.ts); without it, that page is unexpected. */
  otp?: () => string;
}

export interface BrowserResult {
  /** The final URL at the client's redirect URI (with code or error). */
  callback: URL;
  /** Pages seen on the way, for assertions. */
  pages: PageResponse[];
  ua: UserAgent;
}

export async function authorizeInBrowser(authorizeUrl: string, step: BrowserStep): Promise<BrowserResult> {
  const ua = step.ua ?? new UserAgent();
  const redirectBase = step.redirectUri.replace(/:\d+(?=\/)/, '');
  const atClient = (location: string) => location.replace(/:\d+(?=\/)/, '').startsWith(redirectBase) || location.startsWith(step.redirectUri);
  const pages: PageResponse[] = [];
  let page = await ua.follow(authorizeUrl, atClient);
  for (let i = 0; i < 5; i++) {
    pages.push(page);
    if (atClient(page.url)) return { callback: new URL(page.url), pages, ua };
    if (step.otp && page.body.includes('/sign-in/second-factor"')) {
      page = await ua.submit(page, /\/sign-in\/second-factor$/, { code: step.otp() }, atClient);
      continue;
    }
    if (page.body.includes('/login"')) {
      page = await ua.submit(page, /\/login$/, { email: step.email, password: step.password }, atClient);
      continue;
    }
    if (page.body.includes('/consent"')) {
      const untick = new Set(step.untick ?? []);
      const grant = checkboxValues(page.body, 'grant').filter((v) => !untick.has(v.split('|')[1]!));
      page = await ua.submit(page, /\/consent$/, { decision: step.decision ?? 'approve', grant }, atClient);
      continue;
    }
    throw new Error(`unexpected page (${page.status}) at ${page.url}:\n${page.body.slice(0, 1500)}`);
  }
  throw new Error('too many pages');
}
