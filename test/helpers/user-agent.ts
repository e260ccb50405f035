/**
 * A small HTTP user agent for driving sign-in and consent pages without a browser: it keeps
 * cookies (ignoring the Secure flag, as browsers do for localhost), follows redirects by hand so
 * tests can stop at the client's redirect URI, and fills in forms from the page's HTML.
 */

export interface PageResponse {
  status: number;
  url: string;
  headers: Headers;
  body: string;
}

export class UserAgent {
  readonly cookies = new Map<string, string>();

  #store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/;\s*max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  #cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(url: string, init: RequestInit = {}): Promise<PageResponse> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', this.#cookieHeader());
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.#store(response);
    return { status: response.status, url, headers: response.headers, body: await response.text() };
  }

  /** Follow redirects until a non-redirect answer, or until `stopAt(url)` says a location is the end. */
  async follow(url: string, stopAt: (location: string) => boolean = () => false, init: RequestInit = {}): Promise<PageResponse> {
    let response = await this.request(url, init);
    for (let hops = 0; hops < 20 && response.status >= 300 && response.status < 400; hops++) {
      const location = new URL(response.headers.get('location')!, response.url).href;
      if (stopAt(location)) return { ...response, url: location };
      response = await this.request(location);
    }
    return response;
  }

  /** Submit the form at `action` found in `page`, with its hidden fields plus `fields`. */
  async submit(page: PageResponse, action: string | RegExp, fields: Record<string, string | string[]>, stopAt?: (location: string) => boolean): Promise<PageResponse> {
    const form = findForm(page.body, action);
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...form.hidden, ...fields })) {
      for (const v of [value].flat()) body.append(name, v);
    }
    return this.follow(new URL(form.action, page.url).href, stopAt, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(page.url).origin },
      body,
    });
  }
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

export function findForm(html: string, action: string | RegExp): { action: string; hidden: Record<string, string> } {
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const attrs = match[1]!;
    const formAction = decode(/action="([^"]*)"/.exec(attrs)?.[1] ?? '');
    if (typeof action === 'string' ? !formAction.endsWith(action) : !action.test(formAction)) continue;
    const hidden: Record<string, string> = {};
    for (const input of match[2]!.matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1];
      const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
      if (name) hidden[name] = decode(value);
    }
    return { action: formAction, hidden };
  }
  throw new Error(`no form with action ${action} in page:\n${html.slice(0, 2000)}`);
}

/** Checkbox values of a form field (e.g. the consent page's `grant`). */
export function checkboxValues(html: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`<input type="checkbox" name="${name}" value="([^"]*)"`, 'g'))].map((m) => decode(m[1]!));
}
