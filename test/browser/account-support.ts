/**
 * What the account and org page tests share: a Chromium with one context per person (each its
 * own cookies, watched for console errors, CSP violations and 5xx), signing in through /login,
 * reading stable hooks (`data-testid`, `data-code`), and posting forms over plain HTTP for the
 * attack tests (a UserAgent signed in as someone, with the page's CSRF token or without).
 */
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { loadRootSecret } from '../../src/core/secrets.ts';
import type { SecretKey } from '../../src/core/crypto.ts';
import type { TestServer } from '../helpers/server.ts';
import { findForm, UserAgent, type PageResponse } from '../helpers/user-agent.ts';
import { watchContext, type PageWatch } from './support.ts';

export interface Person {
  context: BrowserContext;
  page: Page;
  watch: PageWatch;
}

/** A new browser context (its own cookies) for `email`, signed in through the sign-in page. */
export async function personSignedIn(browser: Browser, server: TestServer, email: string, password: string): Promise<Person> {
  const context = await browser.newContext();
  const watch = await watchContext(context, server.url);
  const page = await context.newPage();
  await signInAt(page, server, email, password);
  return { context, page, watch };
}

export async function signInAt(page: Page, server: TestServer, email: string, password: string, next = '/'): Promise<void> {
  await page.goto(`${server.url}/login${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await Promise.all([page.waitForURL((url) => url.pathname === next.split('?')[0]), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/**
 * Click a submit button (or a link) and wait for the page it leads to, after any redirects;
 * returns that page's HTTP status.
 */
export async function press(page: Page, target: Locator): Promise<number> {
  const landed = page.waitForResponse((r) => r.request().isNavigationRequest() && r.frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400));
  await target.click();
  const response = await landed;
  await page.waitForLoadState();
  return response.status();
}

/** The element with `data-testid=id`. */
export function hook(page: Page, id: string): Locator {
  return page.locator(`[data-testid="${id}"]`);
}

/** The `data-code` of the page's notice, problem or error (undefined when none). */
export async function codeOf(page: Page, testid: 'notice' | 'problem' | 'error'): Promise<string | undefined> {
  const hook = page.locator(`[data-testid="${testid}"]`);
  return (await hook.count()) ? ((await hook.first().getAttribute('data-code')) ?? undefined) : undefined;
}

/** The server's pepper, as its own process derives it (tests issue reset links with it). */
export function pepperOf(server: TestServer): SecretKey {
  return loadRootSecret({ secretKey: server.config.secretKey, dataDir: server.config.dataDir }).secrets.pepper;
}

/** A plain-HTTP browser signed in as `email` (for attack tests without Chromium). */
export async function httpSignedIn(server: TestServer, email: string, password: string): Promise<UserAgent> {
  const ua = new UserAgent();
  const login = await ua.request(`${server.url}/login`);
  const answer = await ua.submit(login, '/login', { email, password });
  assert.equal(answer.status, 200, `signed in as ${email}`);
  return ua;
}

/** POST a form at `path` with the CSRF token of the form found on `formPage` (or none) and `fields`. */
export async function postForm(ua: UserAgent, server: TestServer, path: string, fields: Record<string, string>, formPage?: PageResponse): Promise<PageResponse> {
  const hidden = formPage ? findForm(formPage.body, path).hidden : {};
  const body = new URLSearchParams({ ...hidden, ...fields });
  return ua.request(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url }, body });
}

/** The `data-code` of an error page in raw HTML. */
export function htmlCode(body: string): string | undefined {
  return /data-testid="(?:error|problem|notice)" data-code="([^"]+)"/.exec(body)?.[1];
}

/** Assert no page of these people logged an error, violated the CSP or got a 5xx. */
export function assertClean(...people: Person[]): void {
  for (const person of people) {
    assert.deepEqual(person.watch.serverErrors, []);
    assert.deepEqual(person.watch.problems(), []);
    for (const document of person.watch.documents) {
      const csp = document.headers['content-security-policy'] ?? '';
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, document.url);
      assert.match(csp, /(^|;)\s*frame-ancestors 'none'\s*(;|$)/, document.url);
    }
  }
}
