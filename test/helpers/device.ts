/**
 * RFC 8628 device authorization for tests: start it as a device would (POST to the device
 * authorization endpoint), approve the user code as a person would — over HTTP with a cookie jar
 * (CSRF included) or in Chromium — and poll the token endpoint.
 *
 * The verification pages (src/authz/device/views.ts) keep a fixed markup contract that these
 * helpers drive: `form#device-code` (input `user_code`), `form#device-login` (`email`,
 * `password`), `form#device-confirm` (radios `org` when the user has several organizations,
 * checkboxes `grant` = scope names, buttons `decision=approve|deny`), and result pages
 * `main#device-approved`, `main#device-denied`, `main#device-expired`.
 */
import { CLI_CLIENT_ID } from '../../src/shared/cli-client.ts';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { endpoint, postForm, type OAuthResponse } from './authz.ts';
import type { TestServer } from './server.ts';
import { checkboxValues, findForm, UserAgent, type PageResponse } from './user-agent.ts';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

export interface DeviceStart {
  /** Default: the pre-registered `portcullis-cli`. */
  clientId?: string;
  scope?: string;
  /** Default: none sent (the server's default resource applies). */
  resource?: string;
}

/** POST to the device authorization endpoint (RFC 8628 §3.1); the raw answer. */
export function startDeviceAuthorizationRaw(server: Pick<TestServer, 'url'>, options: DeviceStart = {}): Promise<OAuthResponse> {
  return postForm(
    `${server.url}/oauth/device/authorize`,
    { scope: options.scope, resource: options.resource },
    { client_id: options.clientId ?? CLI_CLIENT_ID, token_endpoint_auth_method: 'none' },
  );
}

/** Start a device authorization; fails the test unless the server answers 200 with every field. */
export async function startDeviceAuthorization(server: Pick<TestServer, 'url'>, options: DeviceStart = {}): Promise<DeviceAuthorization> {
  const res = await startDeviceAuthorizationRaw(server, options);
  assert.equal(res.status, 200, `device authorization failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  for (const name of ['device_code', 'user_code', 'verification_uri', 'verification_uri_complete']) assert.equal(typeof res.body[name], 'string', name);
  assert.equal(typeof res.body.expires_in, 'number');
  assert.equal(typeof res.body.interval, 'number');
  return res.body as unknown as DeviceAuthorization;
}

/** One poll of the token endpoint with the device code (RFC 8628 §3.4). */
export function pollDeviceToken(server: Pick<TestServer, 'url'>, deviceCode: string, clientId: string = CLI_CLIENT_ID): Promise<OAuthResponse> {
  return postForm(`${server.url}/oauth/token`, { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode }, { client_id: clientId, token_endpoint_auth_method: 'none' });
}

export interface DeviceApproval {
  email: string;
  password: string;
  /** Organization id to pick when the confirmation offers several. */
  org?: string;
  /** Scopes to leave ticked (the others are unticked); default: as offered (all ticked). */
  grants?: string[];
  decision?: 'approve' | 'deny';
  /** Reuse a cookie jar (e.g. already signed in). */
  ua?: UserAgent;
}

export interface DeviceApprovalResult {
  /** The last page: a result page (`main#device-approved` …) or the page that stopped the flow. */
  page: PageResponse;
  /** Every page seen, in order. */
  pages: PageResponse[];
  ua: UserAgent;
}

/** Which step a verification page is. */
export function deviceStep(body: string): 'code' | 'login' | 'confirm' | 'approved' | 'denied' | 'expired' | undefined {
  if (/<main id="device-approved"/.test(body)) return 'approved';
  if (/<main id="device-denied"/.test(body)) return 'denied';
  if (/<main id="device-expired"/.test(body)) return 'expired';
  if (/<form id="device-confirm"/.test(body)) return 'confirm';
  if (/<form id="device-login"/.test(body)) return 'login';
  if (/<form id="device-code"/.test(body)) return 'code';
  return undefined;
}

/**
 * Drive the verification pages with fetch and a cookie jar: enter the code (lowercase and dashes
 * are the user's business — it is sent as given), sign in when asked, then approve or deny.
 * Stops at a result page, or at any page it does not expect (an error, a lock-out), which it returns.
 */
export async function approveDeviceOverHttp(server: Pick<TestServer, 'url'>, userCode: string, approval: DeviceApproval): Promise<DeviceApprovalResult> {
  const ua = approval.ua ?? new UserAgent();
  const pages: PageResponse[] = [];
  let page = await ua.follow(`${server.url}/device`);
  for (let i = 0; i < 6; i++) {
    pages.push(page);
    const step = deviceStep(page.body);
    if (step === 'code' && i === 0) {
      page = await ua.submit(page, /\/device$/, { user_code: userCode });
    } else if (step === 'login') {
      page = await ua.submit(page, /\/device\/login$/, { email: approval.email, password: approval.password });
    } else if (step === 'confirm') {
      const offered = checkboxValues(page.body, 'grant');
      const grant = approval.grants ? offered.filter((scope) => approval.grants!.includes(scope)) : offered;
      const fields: Record<string, string | string[]> = { decision: approval.decision ?? 'approve', grant };
      if (approval.org) fields.org = approval.org;
      page = await ua.submit(page, /\/device\/confirm$/, fields);
    } else {
      return { page, pages, ua };
    }
  }
  return { page, pages, ua };
}

/** Submit the code form of a page already fetched (for tests of the code step itself). */
export function submitUserCode(ua: UserAgent, page: PageResponse, userCode: string): Promise<PageResponse> {
  findForm(page.body, /\/device$/);
  return ua.submit(page, /\/device$/, { user_code: userCode });
}

export interface BrowserApproval {
  email: string;
  password: string;
  org?: string;
  /** Scopes to leave ticked; default: as offered. */
  grants?: string[];
  decision?: 'approve' | 'deny';
}

/**
 * Open `verificationUri` (normally `verification_uri_complete`) in a fresh Chromium context and go
 * through the pages as a person: the code form if shown (typing `userCode`), sign-in, the
 * confirmation (unticking permissions not in `grants`, choosing `org`), then a decision.
 * Returns which result page it ended on.
 */
export async function approveDeviceInBrowser(
  browser: Browser,
  verificationUri: string,
  approval: BrowserApproval & { userCode?: string },
): Promise<'approved' | 'denied' | 'expired'> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(verificationUri);
    for (let i = 0; i < 6; i++) {
      if (await page.locator('main#device-approved').count()) return 'approved';
      if (await page.locator('main#device-denied').count()) return 'denied';
      if (await page.locator('main#device-expired').count()) return 'expired';
      if (await page.locator('form#device-code').count()) {
        assert.ok(approval.userCode, 'the code form was shown but no userCode was given');
        await page.fill('form#device-code input[name=user_code]', approval.userCode);
        await Promise.all([page.waitForNavigation(), page.click('form#device-code button[type=submit]')]);
        continue;
      }
      if (await page.locator('form#device-login').count()) {
        await page.fill('form#device-login input[name=email]', approval.email);
        await page.fill('form#device-login input[name=password]', approval.password);
        await Promise.all([page.waitForNavigation(), page.click('form#device-login button[type=submit]')]);
        continue;
      }
      if (await page.locator('form#device-confirm').count()) {
        if (approval.org) await page.check(`form#device-confirm input[name=org][value="${approval.org}"]`);
        if (approval.grants) {
          for (const box of await page.locator('form#device-confirm input[name=grant]').all()) {
            const scope = await box.getAttribute('value');
            if (scope && approval.grants.includes(scope)) await box.check();
            else await box.uncheck();
          }
        }
        const decision = approval.decision ?? 'approve';
        await Promise.all([page.waitForNavigation(), page.click(`form#device-confirm button[name=decision][value=${decision}]`)]);
        continue;
      }
      throw new Error(`unexpected device page at ${page.url()}:\n${(await page.content()).slice(0, 1500)}`);
    }
    throw new Error('too many device pages');
  } finally {
    await context.close();
  }
}

/** The token endpoint URL (for tests that post by hand). */
export function tokenEndpoint(server: TestServer): string {
  return endpoint(server, 'token');
}
