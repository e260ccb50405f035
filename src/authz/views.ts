/** Pages the engine renders itself (errors, logout), in our layout: no inline script or style. */
import { Html, html, page } from '../web/html.ts';

const FRIENDLY: Record<string, string> = {
  invalid_request: 'The sign-in request was not valid.',
  invalid_client: 'The application asking you to sign in is not known or not allowed here.',
  invalid_redirect_uri: 'The application asked to send you to an address it has not registered.',
  invalid_target: 'The application asked for access to a resource this server does not protect.',
  access_denied: 'Access was denied.',
  login_required: 'You need to sign in.',
  invalid_scope: 'The application asked for permissions that do not exist.',
};

/** `out` is the engine's error object: { error, error_description, state?, iss? }. */
export function renderEngineError(out: Record<string, unknown>): string {
  const code = String(out.error ?? 'server_error');
  return page({
    title: 'Something went wrong',
    body: html`<h1>Something went wrong</h1>
<p>${FRIENDLY[code] ?? 'The request could not be completed.'}</p>
<p class="muted">Error code: <code>${code}</code>${out.error_description ? html` — ${String(out.error_description)}` : ''}</p>
<p class="muted">You can close this window and try again from the application.</p>`,
  });
}

/** `form` is the engine's hidden logout form (trusted engine output carrying its CSRF token). */
export function renderLogoutPage(form: string): string {
  return page({
    title: 'Sign out',
    body: html`<h1>Sign out?</h1>
<p>Do you want to sign out of Portcullis?</p>
${new Html(form)}
<div class="actions">
<button class="primary" type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>
</div>`,
  });
}

export function renderLogoutSuccess(): string {
  return page({ title: 'Signed out', body: html`<h1>You are signed out</h1><p>You can close this window.</p>` });
}
