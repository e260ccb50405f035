/**
 * The device pages as answers to one request: each view (views.ts) with this browser's CSRF tokens
 * and tickets filled in, and the status it is sent with.
 */
import { csrfToken, type WebContext, type WebDeps } from '../../web/pages.ts';
import type { SignedIn } from '../../web/session.ts';
import { staysConnectedDays } from '../../web/approval.ts';
import { deviceChoices } from './decision.ts';
import type { DeviceRequest } from './requests.ts';
import { continueUrl, ticketFor } from './tickets.ts';
import { ssoFormOptions } from '../../web/sso-routes.ts';
import { passkeySignInButton } from '../../web/passkey-button.ts';
import { codeEntryPage, codeNoLongerValidPage, confirmPage, formExpiredPage, resultPage, signInPage, type CodeForm, type GrantedView } from './views.ts';

export class DevicePages {
  readonly #deps: WebDeps;
  readonly #c: WebContext;

  constructor(deps: WebDeps, c: WebContext) {
    this.#deps = deps;
    this.#c = c;
  }

  /** The hidden fields of a form about `userCode`, its CSRF token made for `purpose`. */
  #form(purpose: string, userCode: string): CodeForm {
    return { userCode, csrf: csrfToken(this.#deps, this.#c, `${purpose}:${userCode}`), ticket: ticketFor(this.#deps, this.#c, userCode) };
  }

  codeForm(options: { error?: string; value?: string; status?: 200 | 400 | 403 | 429 } = {}) {
    const csrf = csrfToken(this.#deps, this.#c, 'device-code');
    return this.#c.html(codeEntryPage({ base: this.#deps.base, csrf, error: options.error, value: options.value }), options.status ?? 200);
  }

  /** A ticket that is missing or not this browser's: back to entering the code. */
  lostTicket() {
    return this.codeForm({ error: 'This page has expired. Enter the code from your device again.', status: 400 });
  }

  noLongerValid(why: 'expired' | 'used') {
    return this.#c.html(codeNoLongerValidPage(this.#deps.base, why), why === 'expired' ? 410 : 409);
  }

  signIn(userCode: string, options: { error?: string; email?: string; status?: 200 | 401 | 429; again?: boolean } = {}) {
    const { status, ...view } = options;
    const sso = view.again ? undefined : ssoFormOptions(this.#deps, continueUrl(this.#deps, this.#c, userCode));
    const passkey = passkeySignInButton(this.#deps, this.#c, { next: continueUrl(this.#deps, this.#c, userCode) });
    return this.#c.html(signInPage({ base: this.#deps.base, form: this.#form('device-login', userCode), sso, passkey, ...view }), status ?? 200);
  }

  async confirm(request: DeviceRequest, me: SignedIn, error?: string) {
    const { offered, shown } = await deviceChoices(this.#deps.store, request, me.user.id);
    const deviceInfo = (request.code.deviceInfo ?? {}) as { ip?: unknown };
    const body = confirmPage({
      base: this.#deps.base,
      form: this.#form('device-confirm', request.userCode),
      client: request.client,
      userEmail: me.user.email,
      requestIp: typeof deviceInfo.ip === 'string' ? deviceInfo.ip : undefined,
      resource: request.resource,
      shown,
      oidcScopes: request.oidcScopes,
      offered,
      staysConnectedDays: staysConnectedDays(this.#deps.config),
      error,
    });
    return this.#c.html(body, error ? 400 : 200);
  }

  formExpired() {
    return this.#c.html(formExpiredPage(this.#deps.base), 403);
  }

  result(result: 'approved' | 'denied', clientName: string, granted?: GrantedView) {
    return this.#c.html(resultPage(this.#deps.base, result, clientName, granted));
  }
}
